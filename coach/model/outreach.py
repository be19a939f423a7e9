"""Outreach: replies the account leaves on other people's posts (MODEL.md §4.5).

State: per replicate, the day's onlooker mean and outreach count. Parameters:
``onlookers_per_outreach``, ``outreach_to_followed_share``, ``outreach_odds``. Channel fed:
``outreach``.

Each outreach reply (a time on the shared timeline) puts the account in front of the person
answered — a prospect with ``outreach_odds`` better follow odds, one the account already
follows with chance ``outreach_to_followed_share`` — and a Poisson number of onlookers.
"""

from __future__ import annotations

PARAMS = ("onlookers_per_outreach", "outreach_to_followed_share", "outreach_odds")
CHANNEL = "outreach"


def followed_target(u, followed_share: float):
    """Whether the account already follows an outreach target, from one uniform (scalar or array;
    ``followed_share`` is ``outreach_to_followed_share``)."""
    return u < followed_share
