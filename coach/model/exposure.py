"""Exposure: which followers see a post (MODEL.md §4.1).

State: ``attention`` per follower (the segment's chance of seeing a post while online;
0 for spare and retired cells). Parameters: ``visibility_half_life_minutes``,
``feed_window_minutes``, ``feed_decay``, ``feed_floor`` and the platform's ``link_reach`` and
``ranked_feed``. Feeds: impressions, and the uniforms the engagement steps reuse.

A post at hour ``t`` is seen by a follower with probability
``attention x visibility(t) x reach(kind) x feed``, where ``feed`` is the ranked feed's
author-diversity discount of a burst's later posts (1 on chronological feeds).

One uniform per follower per post decides it: a counter-based draw keyed by the replicate,
the day, the post and the follower's column (:mod:`coach.model.kernels`), so nothing is
drawn ahead and every replicate's crowd is offered the post in one compiled pass. For those
who saw it, ``u / (attention x p_see)`` is a fresh uniform on [0, 1): the engagement steps
(reshare at its top, reply at its bottom, answered) read it instead of drawing again.
"""

from __future__ import annotations

import math

import numpy as np

from coach.model.content import LINK, POST_KINDS

FIELDS = ("attention",)
PARAMS = ("visibility_half_life_minutes", "feed_window_minutes", "feed_decay", "feed_floor")
HOURS = 24.0

DEFAULT_ACTIVITY = (
    0.15, 0.08, 0.05, 0.04, 0.04, 0.08, 0.2, 0.45, 0.7, 0.9, 1.0, 1.0,
    0.95, 0.95, 0.95, 0.9, 0.85, 0.8, 0.8, 0.8, 0.75, 0.6, 0.45, 0.3,
)  # fmt: skip
"""Share of the audience online by local hour, peak = 1: weekday daytime peak (E:E9)."""


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


def kind_reach(platform) -> np.ndarray:
    """Followers a post of each kind (plain, link, promotion, question) can reach, relative to
    a plain post: the platform's ``link_reach`` for links (E:C1-C3), 1 otherwise."""
    reach = np.ones(len(POST_KINDS))
    reach[LINK] = platform.link_reach
    return reach


def feed_multiplier(earlier_in_refresh: float, feed_decay: float, feed_floor: float) -> float:
    """Author-diversity discount of a post after ``earlier_in_refresh`` (decayed) posts (E:F2)."""
    return feed_floor + (1 - feed_floor) * feed_decay**earlier_in_refresh
