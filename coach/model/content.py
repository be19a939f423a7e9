"""Content fit: posts that do not fit a follower's taste wear satisfaction down (MODEL.md §4.3).

State: ``sat`` per follower (a decaying satisfaction accumulator, stored scaled, see
:mod:`coach.model.crowd`); the account's recent-profile summary (what its last posts offer
each segment), which prospects judge. Parameters: ``value_plain``, ``value_link``,
``value_promo``, ``value_question``, ``satisfaction_memory_days``, ``content_strength``,
``content_threshold``, ``profile_memory_posts``. Reason fed: ``content``.

Each seen post adds its value to the follower's segment. A ranked feed's burst discount
decides who *engages* with a burst's later posts, not who meets them: the content of a post
ranked down still reaches the follower's judgement (it is divided by the feed multiplier,
as fatigue is), so bursts are no way to hide promotion. Below ``-content_threshold`` the
"not for me" hazard grows linearly with the dissatisfaction.
"""

from __future__ import annotations

import math

import numpy as np

from coach.model.crowd import F32

FIELDS = ("sat",)
PARAMS = (
    "value_plain", "value_link", "value_promo", "value_question",
    "satisfaction_memory_days", "content_strength", "content_threshold", "profile_memory_posts",
)  # fmt: skip
REASON = "content"
POST_KINDS = ("plain", "link", "promo", "question")
PLAIN, LINK, PROMO, QUESTION = range(4)
HOURS = 24.0


def value_table(p, link_appetite: np.ndarray, chat_appetite: np.ndarray) -> np.ndarray:
    """Satisfaction a seen post of each kind brings to each segment (kinds x segments)."""
    n = len(link_appetite)
    return np.array([
        np.full(n, p.value_plain),
        p.value_link * link_appetite,
        np.full(n, p.value_promo),
        p.value_question * chat_appetite,
    ], dtype=F32)  # fmt: skip


def kind_shares(habits) -> np.ndarray:
    """Expected share of each post kind under these habits."""
    link, promo, question = habits.link_share, habits.promo_share, habits.question_share
    return np.array([max(0.0, 1 - link - promo - question), link, promo, question])


def profile_keep(p) -> float:
    """Weight of the old profile when a post is added (memory of ``profile_memory_posts``)."""
    return 1.0 - 1.0 / p.profile_memory_posts


def add_to_profile(profile: np.ndarray, steps: np.ndarray, keep: float, kinds: np.ndarray) -> None:
    """Posts of these kinds, in order, into the running profile (in place): ``keep x profile +
    steps[kind]``, ``steps`` a post's share ``(1 - keep) x value`` per kind and segment.
    Compiled into :func:`coach.model.kernels.add_to_profile`."""
    for kind in kinds:
        for s in range(len(profile)):
            profile[s] = keep * profile[s] + steps[kind, s]


def sat_scale(t: float, t_ref: float, p) -> float:
    """Factor turning a true satisfaction change at ``t`` into the stored (scaled) one."""
    return math.exp((t - t_ref) / (p.satisfaction_memory_days * HOURS))


def hazard_scale(t: float, t_ref: float, p) -> float:
    """Factor turning the stored satisfaction at ``t`` into the content hazard's argument.

    The content hazard was calibrated when the close read the stored value one day after a
    daily rebase, times that day's :func:`sat_scale`: the true satisfaction times
    ``exp(2 / satisfaction_memory_days)`` (1.22 by default), a fixed factor folded into
    ``content_strength`` and ``content_threshold``. Rebases are now rarer, so the factor is
    written out: ``exp((2 days - (t - t_ref)) / memory)``, the same argument whenever the
    last rebase was.
    """
    return math.exp((2 * HOURS - (t - t_ref)) / (p.satisfaction_memory_days * HOURS))


def content_hazard(sat: np.ndarray, scale: float, p) -> np.ndarray:
    """The "not for me" hazard per day of followers with these stored satisfactions.

    ``scale`` turns the stored value into the calibrated argument (:func:`hazard_scale`).
    """
    return hazard_of(sat, F32(scale), F32(p.content_threshold), F32(p.content_strength))


def hazard_of(stored_sat, scale: float, threshold: float, strength: float):
    """The content hazard per day at this stored satisfaction (scalar or array; see above)."""
    return strength * np.maximum(-stored_sat * scale - threshold, 0 * stored_sat)
