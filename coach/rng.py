"""Named random streams from one integer seed.

Every mechanism draws from its own ``numpy.random.Generator``, derived from
``(seed, replicate, name)``. Two scenarios run with the same seed therefore share the draws
of the mechanisms they do not change (common random numbers), which makes paired
comparisons of habits far less noisy. Nothing here touches numpy's global state.
"""

from __future__ import annotations

import zlib

import numpy as np

STREAMS = (
    "crowd",  # traits of starting and new followers
    "posting",  # sitting times and post types
    "exposure",  # who sees each post, and who engages
    "conversation",  # which replies are answered, and when
    "outreach",  # outreach times and targets
    "prospects",  # prospects' segments, exposures and follow decisions
    "unfollow",  # reasons drawn for unfollows
)


def stream_key(name: str) -> int:
    """A stable integer for a stream name (Python's hash() is salted per process)."""
    return zlib.crc32(name.encode("utf-8"))


def make_streams(seed: int, replicate: int = 0) -> dict[str, np.random.Generator]:
    """One independent generator per name in :data:`STREAMS` for this seed and replicate."""
    return {
        name: np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(replicate, stream_key(name))))
        for name in STREAMS
    }
