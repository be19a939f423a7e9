"""Exposure: which followers see a post (MODEL.md §4.1).

State: ``attention`` per follower (the segment's chance of seeing a post while online;
0 for spare and retired cells). Parameters: ``visibility_half_life_minutes``,
``feed_window_minutes``, ``feed_decay``, ``feed_floor`` and the platform's ``link_reach`` and
``ranked_feed``. Feeds: impressions, and the uniforms the engagement steps reuse.

A post at hour ``t`` is seen by a follower with probability
``attention x visibility(t) x reach(kind) x feed``, where ``feed`` is the ranked feed's
author-diversity discount of a burst's later posts (1 on chronological feeds).

One uniform per follower per post decides it. A replicate's uniforms for a whole day (or
a chunk of its posts, for huge crowds) come from its own ``exposure`` stream, one call per
post, drawn when the day starts: the crowd only changes at the day's close. They are stored
divided by attention (``w = u / attention``), so a post is one comparison ``w < p_see`` over
every replicate's crowd at once, and ``w / p_see`` is a fresh uniform on [0, 1) for those
who saw it — the engagement steps (reply, reshare, answered) read it instead of drawing again.
"""

from __future__ import annotations

import math

import numpy as np

from coach.model.crowd import F32, Crowd

FIELDS = ("attention",)
PARAMS = ("visibility_half_life_minutes", "feed_window_minutes", "feed_decay", "feed_floor")
HOURS = 24.0

DEFAULT_ACTIVITY = (
    0.15, 0.08, 0.05, 0.04, 0.04, 0.08, 0.2, 0.45, 0.7, 0.9, 1.0, 1.0,
    0.95, 0.95, 0.95, 0.9, 0.85, 0.8, 0.8, 0.8, 0.75, 0.6, 0.45, 0.3,
)  # fmt: skip
"""Share of the audience online by local hour, peak = 1: weekday daytime peak (E:E9)."""

BUFFER_CELLS = 1_000_000  # most uniforms drawn ahead per batch (4 MB): large crowds draw post by post, in cache


def visibility_by_hour(activity: np.ndarray, half_life_minutes: float) -> np.ndarray:
    """Relative reach of a post published at each hour: the audience online during its life.

    A post's impressions decay with the given half-life (E:E1); its reach is the activity
    curve averaged under that decay, normalised so the best hour is 1.
    """
    rate = math.log(2) / (half_life_minutes / 60.0)  # per hour
    hours = np.arange(25)
    weights = np.diff(-np.exp(-rate * hours))  # share of impressions in each following hour
    vis = np.array([sum(activity[(h + j) % 24] * weights[j] for j in range(24)) for h in range(24)])
    return vis / vis.max()


def feed_multiplier(earlier_in_refresh: float, feed_decay: float, feed_floor: float) -> float:
    """Author-diversity discount of a post after ``earlier_in_refresh`` (decayed) posts (E:F2)."""
    return feed_floor + (1 - feed_floor) * feed_decay**earlier_in_refresh


class ExposureDraws:
    """The day's exposure uniforms of a batch, over attention: ``(posts, crowd.span)``.

    One buffer, kept from day to day and from chunk to chunk (a fresh multi-megabyte array
    per chunk costs more in page faults than the draws themselves). It starts zeroed, and
    everything ever written to it is >= 0, inf or nan, so a cell with attention 0 (spare or
    retired: its scale is inf) reads inf or nan whatever the buffer held — never below a
    chance, never seen — without being written.
    """

    def __init__(self) -> None:
        self.buffer = np.zeros(0, dtype=F32)
        self.block = self.buffer.reshape(0, 0)
        self.first = 0  # index of the day's post held in block[0]
        self.posts = 0  # posts today

    def start_day(self, posts: int) -> None:
        self.posts, self.first = posts, 0
        self.block = self.buffer[:0].reshape(0, 0)

    def for_post(self, j: int, crowd: Crowd, streams: list) -> np.ndarray:
        """The flat ``w = u / attention`` of the day's ``j``-th post (drawn in chunks)."""
        if not (self.first <= j < self.first + len(self.block)):
            self._draw(j, crowd, streams)
        return self.block[j - self.first]

    def _draw(self, j: int, crowd: Crowd, streams: list) -> None:
        C, span = crowd.C, crowd.span
        k = max(1, min(self.posts - j, BUFFER_CELLS // max(span, 1)))
        if len(self.buffer) < k * span:
            self.buffer = np.zeros(max(k * span, int(len(self.buffer) * 1.25)), dtype=F32)
        block = self.buffer[: k * span].reshape(k, span)
        for b, n in enumerate(crowd.n.tolist()):
            if n:
                # Each post's n uniforms in one call: the stream advances the same way
                # however the day's posts are chunked.
                generator, row = streams[b]["exposure"], b * C
                for i in range(k):
                    generator.random(dtype=F32, out=block[i, row : row + n])
        # w = u / attention. Spare and retired cells have attention 0: their scale is inf,
        # so w is inf or nan (never below a chance, never seen); a vanishing attention
        # overflows to inf, which is right too.
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            np.multiply(block, np.divide(F32(1), crowd.arrays["attention"][:span], dtype=F32), out=block)
        self.block = block
        self.first = j


def who_sees(w: np.ndarray, p_see: float) -> tuple[np.ndarray, np.ndarray]:
    """Flat cells of those who see a post offered with ``p_see``, and their fresh uniforms."""
    seen = np.flatnonzero(w < F32(p_see))
    return seen, w[seen] / F32(p_see)
