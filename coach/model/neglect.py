"""Neglect: a silent account slowly loses followers (MODEL.md §4.7).

State: the hour of the account's last post (shared timeline). Parameters:
``neglect_strength``, ``neglect_full_days`` (the hazard), ``quiet_grace_days``,
``silent_days_dead``, ``dead_penalty`` (how abandoned the profile looks to prospects).
Reason fed: ``neglect``.
"""

from __future__ import annotations

PARAMS = ("neglect_strength", "neglect_full_days", "quiet_grace_days", "silent_days_dead", "dead_penalty")
REASON = "neglect"
HOURS = 24.0


def neglect_hazard(t: float, last_post: float, p) -> float:
    """The same small hazard per day for everyone while the account is silent (E:A14)."""
    silent_days = (t - last_post) / HOURS
    if not p.mechanisms.neglect or silent_days <= 1:
        return 0.0
    return p.neglect_strength * min(1.0, silent_days / p.neglect_full_days)


def abandoned(t: float, last_post: float, p) -> float:
    """0..1: how abandoned the profile looks after the silence (a follow-odds penalty)."""
    silent_days = (t - last_post) / HOURS
    span = max(p.silent_days_dead - p.quiet_grace_days, 1e-9)
    return min(1.0, max(0.0, silent_days - p.quiet_grace_days) / span)
