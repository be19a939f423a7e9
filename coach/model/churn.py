"""Natural churn: background unfollows, higher for new one-way ties (MODEL.md §4.8).

State: ``tie_start`` (hour the follow began; rows are in join order, so it never decreases
along a replicate's row), ``reciprocal``, ``churn`` (the follower's base hazard per day,
reciprocal discount applied) and ``churn_now`` (today's hazard: times ``new_tie_ratio`` while
the tie is younger than ``new_tie_days``). The close ages the ties that stopped being new
(:func:`coach.model.kernels.close_pass`: a row's tie starts never decrease, so they are one
stretch of it, found by binary search). Parameters: ``new_tie_days``, ``new_tie_ratio``,
``reciprocal_ratio``, ``initial_tie_age_days``. Reason fed: ``churn``.
"""

from __future__ import annotations

import math

from coach.model.crowd import F32

FIELDS = ("tie_start", "reciprocal", "churn", "churn_now")
PARAMS = ("new_tie_days", "new_tie_ratio", "reciprocal_ratio", "initial_tie_age_days")
REASON = "churn"
HOURS = 24.0


def daily_hazard(churn_per_month: float) -> float:
    """``churn_per_month`` as a daily hazard: 1 - (1 - c)^(1/30) = -ln(1 - c) / 30."""
    return -math.log1p(-min(churn_per_month, 0.999)) / 30


def base_churn_of(segment_churn, reciprocal, reciprocal_ratio):
    """A new follower's churn per day: the segment's, times ``reciprocal_ratio`` for a reciprocal tie.

    One follower (float32); compiled into :func:`coach.model.kernels.admit`.
    """
    return segment_churn * (reciprocal_ratio if reciprocal else F32(1))
