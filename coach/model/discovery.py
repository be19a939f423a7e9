"""Discovery and the follow decision (MODEL.md §4.6).

State: per replicate, the day's pending prospects by channel; the account's recent posts per
day (shared) and recent answers per day (per replicate), which prospects see on the profile.
Parameters: ``discovery_activity_weight``, ``discovery_dispersion``,
``discovery_reference_posts``, ``follow_base_probability``, ``fit_weight``, ``chat_weight``,
``exposure_odds``, ``max_extra_exposures``, ``extra_exposures_per_post``, ``volume_odds``,
``followed_odds``, ``activity_memory_days``. Channel fed: ``discovery`` (and every channel's
prospects decide here).

Search and recommendations bring ``prospects_per_day`` people a day, more while the
account is active, with day-to-day gamma variation (E:B6), thinned by the market room left
(Bass, E:G1). Everyone who came across the account during the day looks at its profile at
the close and follows with the odds of :func:`follow_logit` (E:B4 and assumed weights).
"""

from __future__ import annotations

import math

import numpy as np

PARAMS = (
    "discovery_activity_weight", "discovery_dispersion", "discovery_reference_posts",
    "follow_base_probability", "fit_weight", "chat_weight", "exposure_odds", "max_extra_exposures",
    "extra_exposures_per_post", "volume_odds", "followed_odds", "activity_memory_days",
)  # fmt: skip
CHANNEL = "discovery"


def discovery_mean(prospects_per_day: float, recent_posts: float, room: np.ndarray, p) -> np.ndarray:
    """Mean search and recommendation prospects today, per replicate."""
    x, ref, w = recent_posts, p.discovery_reference_posts, p.discovery_activity_weight
    return prospects_per_day * ((1 - w) + w * 2 * x / (x + ref)) * room


def gamma_terms(mean: float, dispersion: float) -> tuple[float, float]:
    """Recommendation systems favour an account on some days more than others (E:B6): the
    day's discovery prospects are Poisson(Gamma(shape, scale)) with these terms (shape 0 where
    the mean is 0). One replicate; compiled into :func:`coach.model.kernels.day_prospects`."""
    return (dispersion if mean > 0 else 0.0), mean / dispersion


def extra_exposures(u: float, mean: float, most: int) -> int:
    """Extra posts a prospect has seen: Poisson(``mean``) capped at ``most``, by inverse CDF of ``u``."""
    if mean <= 0:
        return 0
    term = cdf = math.exp(-mean)
    k = 0
    while k < most and u >= cdf:  # past P(X <= k): at least k + 1
        k += 1
        term *= mean / k
        cdf += term
    return k


def activity_keep(p) -> float:
    """Daily weight of the old value in the recent posts/answers memory."""
    return math.exp(-1 / p.activity_memory_days)


def follow_coefficients(p) -> np.ndarray:
    """The weights of :func:`follow_logit_of`, from the parameters (log-odds)."""
    return np.array([
        math.log(p.follow_base_probability / (1 - p.follow_base_probability)),
        p.fit_weight,
        p.chat_weight,
        math.log(p.exposure_odds),
        math.log(p.volume_odds),
        math.log(p.followed_odds),
        p.dead_penalty,
        math.log(p.outreach_odds),
    ])  # fmt: skip


def follow_logit_of(c, fit, chat, conv_share, extra, posts, followed, dead, target):
    """Log-odds that a prospect follows (scalar or array), with weights ``c`` (:func:`follow_coefficients`).

    Content fit of the recent posts for the prospect's segment, how conversational the
    account looks (x chat appetite), x2 per extra post seen, x0.989 per post/day, x27 if the
    account already follows them, x ``outreach_odds`` for the person answered, and a penalty
    for a profile that looks abandoned.
    """
    return (
        c[0] + c[1] * fit + c[2] * chat * conv_share + c[3] * extra + c[4] * posts
        + c[5] * followed - c[6] * dead + c[7] * target
    )  # fmt: skip


def follow_logit(p, fit, chat, conv_share, extra, posts: float, followed, dead: float, target):
    """:func:`follow_logit_of` with the weights of these parameters."""
    return follow_logit_of(follow_coefficients(p), fit, chat, conv_share, extra, posts, followed, dead, target)
