"""Engagement per post by kind, from the engine's own per-kind formulas (no copies).

Run results count likes, reposts and replies per *day*, not per kind of post, so the fit
splits a run's totals by what the engine expects of each kind. Everything here calls the
mechanism modules in :mod:`coach.model` (:func:`coach.model.reshare.reshare_table`,
:func:`coach.model.conversation.reply_chance`, :func:`coach.model.content.kind_shares`),
so a change to those formulas reaches the fit unchanged.

The reach of each kind and the like chance come from :func:`coach.model.exposure.kind_reach`
and :func:`coach.model.reshare.like_chance`, as in the engine.

In the engine a follower who sees a post

* likes it with ``like_probability x engagement`` (the same for every kind),
* reposts it with ``reshare_table[kind, segment] x engagement``,
* replies with ``reply_chance(question?, chat, reply_will, engagement)``,

and a post of a kind is seen by ``reach(kind)`` as many followers as a plain post. The
engagement factor (fatigue) does not depend on the kind, so per-kind *ratios* need only
the tables, weighted by who sees posts: segment share x attention.
"""

from __future__ import annotations

import numpy as np

from coach.model import conversation, reshare
from coach.model.content import LINK, POST_KINDS, QUESTION, kind_shares
from coach.model.exposure import kind_reach
from coach.model.reshare import like_chance
from coach.scenario import Scenario

__all__ = ["POST_KINDS", "kind_reach", "kind_shares", "like_chance", "link_repost_log_ratio", "per_post", "per_seen"]


def seen_weights(scenario: Scenario) -> np.ndarray:
    """Share of the followers who see a post, by segment: share x attention, normalised."""
    segs = scenario.audience.segments
    w = np.array([s.share * s.attention for s in segs], dtype=float)
    if w.sum() <= 0:
        w = np.array([s.share for s in segs], dtype=float)
    return w / max(w.sum(), 1e-12)


def per_seen(scenario: Scenario) -> dict[str, np.ndarray]:
    """Expected likes, reposts and replies per follower who sees a post of each kind.

    At full engagement (engagement scales every kind alike) and a follower's full willingness
    to reply; averaged over the segments by who sees posts (:func:`seen_weights`). The crowd's
    mix is taken at its starting shares: the prospects' market keeps it there unless one
    segment leaves much faster.
    """
    p = scenario.model
    segs = scenario.audience.segments
    w = seen_weights(scenario)
    link_app = np.array([s.link_appetite for s in segs], dtype=float)
    chat = np.array([s.chat_appetite for s in segs], dtype=np.float32)
    ones = np.ones(len(segs), dtype=np.float32)
    reposts = reshare.reshare_table(p, link_app).astype(float) @ w
    replies = np.array(
        [float(conversation.reply_chance(p, k == QUESTION, chat, ones, ones).astype(float) @ w) for k in range(4)]
    )
    return {"likes": np.full(len(POST_KINDS), like_chance(p)), "reposts": reposts, "replies": replies}


def per_post(scenario: Scenario) -> dict[str, np.ndarray]:
    """Expected counts per post of each kind, up to a factor shared by every kind.

    That factor (followers x attention x visibility x engagement) is what the simulation
    measures; :func:`split` spreads a run's totals over the kinds with these shapes.
    """
    reach = kind_reach(scenario.platform)
    return {name: rate * reach for name, rate in per_seen(scenario).items()}


def split(total_per_post: np.ndarray, shape: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """(runs x kinds) counts per post of each kind from the runs' totals per post.

    ``shape`` is one row of :func:`per_post` (or runs x kinds), ``shares`` the kinds' shares
    of the posts (:func:`kind_shares`): the total is the shares-weighted mean of the kinds.
    """
    shape = np.atleast_2d(shape)
    mean = np.maximum(shape @ shares, 1e-12)
    return np.asarray(total_per_post, dtype=float)[:, None] * shape / mean[:, None]


def link_repost_log_ratio(scenario: Scenario) -> float:
    """log of (reposts per like of a link post) / (reposts per like of a plain post).

    Reach, attention, follower count and fatigue cancel: in the engine it is
    ``log(link_reshare_boost x mean((1 + link_appetite) / 2))`` over who sees posts, so it
    reads the crowd's *average* taste for links and nothing else.
    """
    seen = per_seen(scenario)
    rate = seen["reposts"] / seen["likes"]
    return float(np.log(max(rate[LINK], 1e-12) / max(rate[0], 1e-12)))
