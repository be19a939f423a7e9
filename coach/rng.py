"""Named random streams from one integer seed, re-aligned every simulated day.

Every mechanism draws from its own ``numpy.random.Generator``, derived from
``(seed, replicate, name)``. At the start of each day every stream jumps to that day's own
stretch of its sequence (``PCG64.advance``, a cheap skip of 2**64 draws per day), so two
scenarios run with the same seed draw the same numbers for the same mechanism on the same
day, whatever either consumed before (common random numbers). A habit change therefore
only reshuffles the draws of the days and mechanisms it touches, and paired differences
between habits stay far less noisy than unpaired ones. Nothing here touches numpy's global
state.
"""

from __future__ import annotations

import zlib

import numpy as np

STREAMS = (
    "crowd",  # traits of starting and new followers
    "posting",  # sitting times and post kinds
    "exposure",  # who sees each post, and who engages
    "reshare",  # how far reshares travel (prospects per reshare)
    "conversation",  # which replies are answered, and when
    "outreach",  # outreach times and targets
    "discovery",  # the day's search and recommendation prospects
    "prospects",  # prospects' segments, exposures and follow decisions
    "unfollow",  # reasons drawn for unfollows
)

DAY_STRIDE = 1 << 64  # draws reserved for one stream on one day: far more than any day uses


def stream_key(name: str) -> int:
    """A stable integer for a stream name (Python's hash() is salted per process)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams(dict[str, np.random.Generator]):
    """The generators of one replicate, by name, with :meth:`start_day` to re-align them."""

    def __init__(self, seed: int, replicate: int = 0):
        super().__init__()
        self._start: dict[str, dict] = {}
        for name in STREAMS:
            bit_generator = np.random.PCG64(
                np.random.SeedSequence(entropy=seed, spawn_key=(replicate, stream_key(name)))
            )
            self[name] = np.random.Generator(bit_generator)
            self._start[name] = bit_generator.state

    def start_day(self, day: int) -> None:
        """Move every stream to the beginning of ``day``'s own stretch of draws."""
        for name, generator in self.items():
            bit_generator = generator.bit_generator
            bit_generator.state = self._start[name]
            bit_generator.advance(day * DAY_STRIDE)


def make_streams(seed: int, replicate: int = 0) -> Streams:
    """One independent generator per name in :data:`STREAMS` for this seed and replicate."""
    return Streams(seed, replicate)
