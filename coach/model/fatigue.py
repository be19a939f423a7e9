"""Fatigue: too many posts, or too many at once, and followers leave (MODEL.md §4.2).

State: ``tolerance`` (posts/day, log-normal around the segment median) and ``fatigue`` (the
hazard collected since the last close) per follower; the account's leaky ``load`` of posts
in followers' feeds (one number: every follower's feed receives the same posts).
Parameters: ``fatigue_memory_hours``, ``tolerance_spread``, ``fatigue_gamma``,
``fatigue_cap``, ``fatigue_strength``, ``burst_flood_weight``, ``engagement_fatigue_power``.
Reason fed: ``fatigue``.

A sitting's posts enter the feed together, so the whole sitting counts toward the felt
rate of each of its posts: ``felt = load x 24 h / memory`` posts/day. Each seen post adds
``strength x (min(felt / tolerance, cap) - 1)^gamma x flood / (reach x feed)`` to a
follower over tolerance, where ``flood = 1 + burst_flood_weight x (sitting size - 1)``: a
burst is a wall of posts met at once, so it costs more than the same posts spread out at
every rate, also far past the cap (where the felt rate alone no longer separates them).
Ranking a post down (link reach, a burst's later posts) decides who engages with it, not
whose feed it fills: each follower who sees it stands for ``1 / (reach x feed)`` who meet it,
so in expectation the crowd tires as if nothing were ranked down.
"""

from __future__ import annotations

import math

import numpy as np

from coach.model.crowd import F32

FIELDS = ("tolerance", "fatigue")
PARAMS = (
    "fatigue_memory_hours", "tolerance_spread", "fatigue_gamma", "fatigue_cap",
    "fatigue_strength", "burst_flood_weight", "engagement_fatigue_power",
)  # fmt: skip
REASON = "fatigue"
HOURS = 24.0


class FeedLoad:
    """The account's leaky count of its posts in followers' feeds (memory ``tau`` hours)."""

    def __init__(self, tau_hours: float):
        self.tau = tau_hours
        self.value = 0.0  # the load starts empty, before the first sitting
        self.t = 0.0

    def add_sitting(self, posts: int, t: float) -> None:
        self.value = self.value * math.exp(-(t - self.t) / self.tau) + posts
        self.t = t

    def felt_posts_per_day(self, t: float) -> float:
        return self.value * math.exp(-(t - self.t) / self.tau) * HOURS / self.tau


def felt_rate_of_sitting(posts_per_day: float, sitting: float, memory_hours: float) -> float:
    """Posts/day a follower feels in the account's busiest hours (the coach's diagnosis).

    A sitting of ``k`` posts feels like ``k x 24 / memory`` posts a day the moment it lands;
    spread-out posting feels like its daily rate. Ranking does not change it: posts ranked
    down still fill the feed (see the module docstring).
    """
    if posts_per_day <= 0:
        return 0.0
    return max(posts_per_day, sitting * HOURS / memory_hours)


def flood(sitting: int, weight: float) -> float:
    """Fatigue multiplier of a post in a sitting of ``sitting`` posts."""
    return 1.0 + weight * (sitting - 1)


def sitting_strength(p, sitting: int) -> float:
    """The fatigue factor of a post in a sitting of ``sitting`` posts: strength x flood."""
    return p.fatigue_strength * flood(sitting, p.burst_flood_weight)


def post_strength(p, reach_feed: float, sitting: int) -> float:
    """The factor of one seen post's fatigue: strength x flood / (reach x feed)."""
    return sitting_strength(p, sitting) / reach_feed


def tolerance_of(median, spread: float, noise):
    """New followers' tolerance (posts/day): log-normal, ``median x exp(spread x noise)``.

    ``median`` the segment's (float32), ``noise`` a standard normal (scalars or arrays; the
    crowd draws them in numpy, :meth:`coach.model.crowd.Crowd.admit` and ``seed``).
    """
    return median * F32(np.exp(spread * noise))


def seen_post_hazard(ratio: float, cap: float, gamma: float, strength: float) -> float:
    """Fatigue hazard one seen post adds at felt/tolerance ``ratio`` (0 at or under tolerance).

    One follower; the engine's compiled pass (:mod:`coach.model.kernels`) calls it per follower.
    """
    if ratio <= 1.0:
        return 0.0
    excess = min(ratio, cap) - 1.0
    if gamma == 1.5:  # the default: a square root costs a tenth of a general power
        return strength * excess * math.sqrt(excess)
    return strength * excess**gamma


def add_fatigue(fatigue: np.ndarray, cells: np.ndarray, ratio: np.ndarray, p, reach_feed: float, sitting: int) -> None:
    """Add each seen post's fatigue hazard to these followers (in place; arrays, for checks)."""
    strength = post_strength(p, reach_feed, sitting)
    hazard = np.vectorize(seen_post_hazard, otypes=[float])(ratio, p.fatigue_cap, p.fatigue_gamma, strength)
    fatigue[cells] += hazard.astype(F32)


def engagement(ratio, power: float):
    """Engagement of a follower at this felt/tolerance ratio: 1 / (1 + ratio^power) (E:D1-D4).

    Scalar or array (float32 arrays stay float32).
    """
    return 1 / (1 + (ratio * ratio if power == 2 else ratio**power))  # the default power 2: no pow()
