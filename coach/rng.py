"""Named random streams from one integer seed, re-aligned every simulated day.

The account's generator streams (``numpy.random.Generator`` over ``PCG64``) and the keys of
the crowd's counter-based ones:

* :class:`Timeline` — the **account's** timeline (sitting times and sizes, post kinds,
  outreach times, when the account goes through a post's replies). Keyed by the seed only,
  so every replicate of a seed shares one concrete schedule and a batch of replicates can
  be driven by a single SimPy clock.
* :func:`counter_keys` — the keys of the **crowd's** draws (the starting followers, and who
  sees, replies, reshares, likes, leaves, which prospects come and follow), counter-based
  (:mod:`coach.model.kernels`) and keyed by ``(seed, replicate, name)``. Replicate ``r`` of
  seed ``s`` therefore draws the same numbers whether it runs alone or inside a batch of any
  size (batch invariance).

At the start of each day a generator stream jumps to that day's own stretch of its sequence
(``PCG64.advance``, a cheap skip of 2**64 draws per day), so two scenarios run with the same
seed draw the same numbers for the same mechanism on the same day, whatever either consumed
before (common random numbers). A replicate's streams re-align lazily, the first time each
is used on a day, so a batch pays only for the streams a day actually uses. Nothing here
touches numpy's global state.
"""

from __future__ import annotations

import zlib

import numpy as np

COUNTER_STREAMS = (
    "crowd",  # traits of the starting followers
    "exposure",  # who sees each post (and, from the same uniform, who replies or reshares)
    "prospects",  # the day's prospects and likes, then their decisions and traits
)
"""Per-replicate counter-based streams (the crowd's daily reactions): a draw is a hash of the
replicate's key, the day, the event and a counter (:mod:`coach.model.kernels`), so a batch
draws for every replicate in one compiled call and needs no re-alignment."""

TIMELINE_STREAMS = (
    "posting",  # sitting count, sizes, times and post kinds
    "outreach",  # outreach times
    "answers",  # when the account goes through each post's replies
)
"""Streams keyed by the seed only (the account's timeline, shared by all replicates)."""

DAY_STRIDE = 1 << 64  # draws reserved for one stream on one day: far more than any day uses
TIMELINE_KEY = 1 << 32  # spawn-key prefix of timeline streams: no replicate index reaches it


def stream_key(name: str) -> int:
    """A stable integer for a stream name (Python's hash() is salted per process)."""
    return zlib.crc32(name.encode("utf-8"))


class _DayAligned:
    """Generators by name that jump to the start of the current day's stretch when first used."""

    def __init__(self, seed: int, names: tuple[str, ...], spawn_prefix: tuple[int, ...]):
        self._generators: dict[str, np.random.Generator] = {}
        self._start: dict[str, dict] = {}
        self._day_of: dict[str, int] = {}
        self.day = 0
        for name in names:
            bit_generator = np.random.PCG64(
                np.random.SeedSequence(entropy=seed, spawn_key=(*spawn_prefix, stream_key(name)))
            )
            self._generators[name] = np.random.Generator(bit_generator)
            self._start[name] = bit_generator.state
            self._day_of[name] = 0

    def __getitem__(self, name: str) -> np.random.Generator:
        day = self.day
        if self._day_of[name] == day:
            return self._generators[name]
        generator = self._generators[name]
        bit_generator = generator.bit_generator
        bit_generator.state = self._start[name]
        if day:
            bit_generator.advance(day * DAY_STRIDE)
        self._day_of[name] = day
        return generator

    def __contains__(self, name: object) -> bool:
        return name in self._generators

    def keys(self):
        return self._generators.keys()

    def start_day(self, day: int) -> None:
        """From now on, every stream draws from ``day``'s own stretch (re-aligned when used)."""
        self.day = day


class Timeline(_DayAligned):
    """The account's generators, keyed by the seed only (see :data:`TIMELINE_STREAMS`)."""

    def __init__(self, seed: int):
        super().__init__(seed, TIMELINE_STREAMS, (TIMELINE_KEY,))


def counter_keys(seed: int, replicates, name: str) -> np.ndarray:
    """The 64-bit key of counter-based stream ``name`` for each replicate of ``seed``."""
    if name not in COUNTER_STREAMS:
        raise ValueError(f"unknown counter stream {name!r}; allowed: {', '.join(COUNTER_STREAMS)}")
    for r in replicates:
        if not 0 <= int(r) < TIMELINE_KEY:
            raise ValueError(f"replicate {r} is not allowed; allowed: 0 to {TIMELINE_KEY - 1}")
    return np.array(
        [
            np.random.SeedSequence(entropy=seed, spawn_key=(int(r), stream_key(name))).generate_state(1, np.uint64)[0]
            for r in replicates
        ],
        dtype=np.uint64,
    )


def whole_count(mean: float, rng: np.random.Generator) -> int:
    """A whole count with the given mean and the least spread: floor, plus one by chance."""
    whole = int(mean)
    return whole + int(rng.random() < mean - whole)
