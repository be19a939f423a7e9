"""Outreach: replies the account leaves on other people's posts (MODEL.md §4.5).

State: per replicate, the day's onlooker mean and outreach count. Parameters:
``onlookers_per_outreach``, ``outreach_to_followed_share``, ``outreach_odds``. Channel fed:
``outreach``.

Each outreach reply (a time on the shared timeline) puts the account in front of the person
answered — a prospect with ``outreach_odds`` better follow odds, one the account already
follows with chance ``outreach_to_followed_share`` — and a Poisson number of onlookers.
"""

from __future__ import annotations

import numpy as np

PARAMS = ("onlookers_per_outreach", "outreach_to_followed_share", "outreach_odds")
CHANNEL = "outreach"


def followed_targets(u: np.ndarray, p) -> np.ndarray:
    """Whether the account already follows each outreach target, from one uniform each."""
    return u < p.outreach_to_followed_share
