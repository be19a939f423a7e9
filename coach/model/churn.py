"""Natural churn: background unfollows, higher for new one-way ties (MODEL.md §4.8).

State: ``tie_start`` (hour the follow began; rows are in join order, so it never decreases
along a replicate's row), ``reciprocal``, ``churn`` (the follower's base hazard per day,
reciprocal discount applied) and ``churn_now`` (today's hazard: times ``new_tie_ratio`` while
the tie is younger than ``new_tie_days``). Parameters: ``new_tie_days``, ``new_tie_ratio``,
``reciprocal_ratio``, ``initial_tie_age_days``. Reason fed: ``churn``.
"""

from __future__ import annotations

import math

import numpy as np

from coach.model.crowd import F32

FIELDS = ("tie_start", "reciprocal", "churn", "churn_now")
PARAMS = ("new_tie_days", "new_tie_ratio", "reciprocal_ratio", "initial_tie_age_days")
REASON = "churn"
HOURS = 24.0


def daily_hazard(churn_per_month: float) -> float:
    """``churn_per_month`` as a daily hazard: 1 - (1 - c)^(1/30) = -ln(1 - c) / 30."""
    return -math.log1p(-min(churn_per_month, 0.999)) / 30


def base_churn(segment_churn: np.ndarray, reciprocal: np.ndarray, p) -> np.ndarray:
    """Per-follower churn per day: the segment's, times ``reciprocal_ratio`` for reciprocal ties."""
    return segment_churn * np.where(reciprocal, F32(p.reciprocal_ratio), F32(1))


def age_ties(tie_start: np.ndarray, churn: np.ndarray, churn_now: np.ndarray, before: float, now: float) -> None:
    """Ties that stopped being new between hours ``before`` and ``now`` drop to the base churn.

    ``before`` and ``now`` are the new-tie cutoffs (hour - new_tie_days x 24) at the last
    and at this close: ties that started in between just aged. Flat arrays of every
    replicate at once (spare cells have churn 0, so touching them changes nothing).
    """
    aged = np.flatnonzero((tie_start > before) & (tie_start <= now))
    churn_now[aged] = churn[aged]
