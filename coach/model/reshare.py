"""Reshares: seen posts get reshared to people who do not follow yet (MODEL.md §4.6).

State: per replicate, the day's reshares as gamma shapes by reach class (a plain post and
a link post reach differently on some platforms). Parameters: ``reshare_probability``,
``link_reshare_boost``, ``promo_reshare_factor``, ``question_reshare_factor``,
``prospects_per_reshare``, ``reshare_dispersion``, ``like_probability``. Channel fed:
``reshare``.

A follower who sees a post reshares it with ``reshare_p(kind, segment) x engagement``. Each
reshare brings a gamma-Poisson number of prospects (small dispersion = viral bursts, E:B6),
thinned by the market room left. Reshares of one day and reach class share one scale, so
their prospects are one Poisson draw of one gamma with the summed shape, drawn at the close.
"""

from __future__ import annotations

import numpy as np

from coach.model.crowd import F32

PARAMS = (
    "reshare_probability", "link_reshare_boost", "promo_reshare_factor", "question_reshare_factor",
    "prospects_per_reshare", "reshare_dispersion", "like_probability",
)  # fmt: skip
CHANNEL = "reshare"


def reshare_table(p, link_appetite: np.ndarray) -> np.ndarray:
    """Chance a follower who sees a post reshares it, by kind and segment, before fatigue.

    Links reshare more, the more so for readers who came for links (E:C4).
    """
    n = len(link_appetite)
    return (p.reshare_probability * np.array([
        np.ones(n),
        p.link_reshare_boost * (1 + link_appetite) / 2,
        np.full(n, p.promo_reshare_factor),
        np.full(n, p.question_reshare_factor),
    ])).astype(F32)  # fmt: skip


def gamma_scale(prospects_per_reshare: float, dispersion: float, reach: float) -> float:
    """Gamma scale of one reshare's prospects at this reach multiplier (out of network x room x kind).

    One replicate and reach class; compiled into :func:`coach.model.kernels.day_prospects`.
    """
    return prospects_per_reshare * reach / dispersion


def like_chance(p) -> float:
    """Chance a follower who sees a post likes it at full engagement, the same for every kind."""
    return float(p.like_probability)
