"""The coach's diagnosis: why followers leave, where new ones come from, against a healthy account.

Every finding is a plain sentence with the figures behind it. Shares of reasons and channels
are pooled over all replicates (the total of one reason over the total of unfollows), so one
run with a burst of leavers weighs as much as its followers. The yardstick of a healthy
account is data, below, with its source.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from coach.messages import counted
from coach.model.fatigue import felt_rate_of_sitting
from coach.results import CHANNELS, INTERVAL_RUNS, REASONS, Ensemble, few_runs
from coach.scenario import Scenario

HEALTHY_UNFOLLOWS_PER_MONTH = (0.01, 0.03)
"""Share of followers a healthy account loses to unfollows in a month (E:A12, MODEL.md F1)."""
REASON_FLAG_SHARE = 0.2
"""A reason other than ordinary churn behind at least this share of unfollows is a finding:
in a healthy account nearly all unfollows are ordinary churn."""
SOCIAL_FLAG_SHARE = 0.1
"""Conversation and outreach bringing fewer new followers than this share, to a chatty
audience, is a finding (E:B1: broadcasters grow markedly less)."""
CHATTY = 0.5  # mean chat appetite (0..1) above which an audience counts as chatty
SOURCE_WORDS = {
    "reshare": "reshared posts",
    "conversation": "your public answers",
    "outreach": "your replies on other people's posts",
    "discovery": "search and recommendations",
}
"""How new followers found the account, as the object of "found you through …"."""


@dataclass(frozen=True)
class Finding:
    """One thing the coach noticed, and the figures that show it."""

    topic: str  # growth, loss_rate, a reason (fatigue, content, ...), sources, conversation
    finding: str
    evidence: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _q(values: np.ndarray) -> str:
    """The median, with its 80% interval when there are runs enough for one (:data:`INTERVAL_RUNS`)."""
    if len(values) < INTERVAL_RUNS:
        return f"{np.median(values):,.0f}"
    lo, mid, hi = np.percentile(values, [10, 50, 90])
    return f"{mid:,.0f} (80%: {lo:,.0f} to {hi:,.0f})"


def diagnose(baseline: Ensemble) -> list[Finding]:
    """What is going on in this ensemble of runs, most pressing first after the headline."""
    sc: Scenario = baseline.scenario
    t = baseline.totals()
    days, runs = baseline.days, baseline.replicates
    start = baseline.runs[0].followers_start
    findings = [_growth(t, start, days, runs)]

    # Relative to the larger of the starting and the average audience, so that an account
    # whose followers all leave reads as losing them, not as an absurd rate on a tiny average.
    exposed = np.maximum(baseline.series("followers").mean(axis=1), start)
    monthly = np.where(exposed > 0, t["unfollows"] / np.maximum(exposed, 1e-9) / (days / 30.0), 0.0)
    findings.append(_loss_rate(float(np.median(monthly)), t, days))

    unfollows = float(t["unfollows"].sum())
    if unfollows > 0:
        shares = {r: float(t[f"unfollows_{r}"].sum()) / unfollows for r in REASONS}
        for reason in sorted(REASONS, key=lambda r: -shares[r]):
            if reason != "churn" and shares[reason] >= REASON_FLAG_SHARE:
                finding, evidence = _REASON_TEXT[reason](sc, shares[reason], t)
                findings.append(
                    Finding(
                        reason,
                        finding,
                        f"{evidence} {reason.capitalize()} unfollows over {counted(days, 'day')}: {_q(t[f'unfollows_{reason}'])}.",
                    )
                )
        if shares["churn"] >= 0.5:
            rates = ", ".join(f"{s.name} {s.churn_per_month:.1%}" for s in sc.audience.segments)
            findings.append(Finding(
                "churn",
                f"Most of your unfollows ({_pct(shares['churn'])}) are ordinary churn, which no habit fixes; that is what a healthy account looks like.",
                f"Background churn per month: {rates}; newer one-way ties churn more, reciprocal ones less.",
            ))  # fmt: skip
    findings += _sources(sc, t)
    return findings


def _growth(t: dict[str, np.ndarray], start: int, days: int, runs: int) -> Finding:
    end = float(np.median(t["followers_end"]))
    net = float(np.median(t["net"]))
    rel = f" ({net / start:+.0%})" if start else ""
    return Finding(
        "growth",
        f"You go from {start:,} to about {end:,.0f} followers in {counted(days, 'day')}: {net:+,.0f}{rel}.",
        f"{few_runs(runs).capitalize()}; followers at day {days}: {_q(t['followers_end'])}; "
        f"follows {_q(t['follows'])}, unfollows {_q(t['unfollows'])}.",
    )


def _loss_rate(monthly: float, t: dict[str, np.ndarray], days: int) -> Finding:
    low, high = HEALTHY_UNFOLLOWS_PER_MONTH
    healthy = f"a healthy account loses {low:.0%}–{high:.0%} a month"
    if monthly > high:
        text = (
            f"You lose {monthly:.1%} of your followers a month to unfollows, more than a healthy account ({healthy})."
        )
    elif monthly >= low:
        text = f"You lose {monthly:.1%} of your followers a month to unfollows, as a healthy account does ({healthy})."
    else:
        text = f"You lose only {monthly:.1%} of your followers a month to unfollows ({healthy})."
    evidence = f"Unfollows over {counted(days, 'day')}: {_q(t['unfollows'])}, against the larger of your starting and average followers."
    return Finding("loss_rate", text, evidence)


# --------------------------------------------------------------------------------------
# Reasons
# --------------------------------------------------------------------------------------


def felt_peak_posts_per_day(sc: Scenario) -> float:
    """How many posts a day the account's busiest hours feel like in a follower's feed.

    The engine's own formula (:func:`coach.model.fatigue.felt_rate_of_sitting`): a sitting
    of ``k`` posts feels like ``k x 24 / memory`` posts a day; ranking does not soften it.
    """
    h, p = sc.habits, sc.model
    return felt_rate_of_sitting(h.posts_per_day, h.posts_per_session, p.fatigue_memory_hours)


def share_below(sc: Scenario, posts_per_day: float) -> float:
    """Share of followers whose tolerance is below ``posts_per_day`` (log-normal around each segment's median)."""
    sigma = sc.model.tolerance_spread
    total = 0.0
    for s in sc.audience.segments:
        if sigma <= 0:
            total += s.share * (posts_per_day > s.tolerance_posts_per_day)
        else:
            z = (math.log(max(posts_per_day, 1e-9)) - math.log(s.tolerance_posts_per_day)) / sigma
            total += s.share * 0.5 * (1 + math.erf(z / math.sqrt(2)))
    return total


def _fatigue(sc: Scenario, share: float, t: dict[str, np.ndarray]) -> tuple[str, str]:
    h = sc.habits
    felt = felt_peak_posts_per_day(sc)
    over = share_below(sc, felt)
    who = (
        "more than most of your audience tolerates"
        if over >= 0.5
        else f"more than {_pct(over)} of your followers can take"
    )
    tolerances = ", ".join(f"{s.name} {s.tolerance_posts_per_day:g}" for s in sc.audience.segments)
    sittings = f"in sittings of {h.posts_per_session:g}" if h.posts_per_session > 1 else "one at a time"
    return (
        f"{_pct(share)} of your unfollows are fatigue: your busiest hours feel like {felt:.0f} posts a day, {who}.",
        f"You post {h.posts_per_day:g} times a day {sittings}; {_pct(over)} of your followers tolerate fewer than "
        f"{felt:.0f} posts a day (median tolerance by segment, posts/day: {tolerances}).",
    )


def post_value_by_segment(sc: Scenario) -> dict[str, float]:
    """Satisfaction an average post brings each segment: the habits' mix of kinds times their values."""
    h, p = sc.habits, sc.model
    plain = max(0.0, 1 - h.link_share - h.promo_share - h.question_share)
    return {
        s.name: plain * p.value_plain + h.link_share * p.value_link * s.link_appetite
        + h.promo_share * p.value_promo + h.question_share * p.value_question * s.chat_appetite
        for s in sc.audience.segments
    }  # fmt: skip


def _content(sc: Scenario, share: float, t: dict[str, np.ndarray]) -> tuple[str, str]:
    h = sc.habits
    values = post_value_by_segment(sc)
    unhappy = [s for s in sc.audience.segments if values[s.name] < 0]
    names = " and ".join(s.name for s in unhappy) or "part of your audience"
    parts = [f"links in {_pct(h.link_share)} of your posts"]
    if h.promo_share > 0:
        parts.append(f"self-promotion in {_pct(h.promo_share)}")
    tastes = "; ".join(
        f"{s.name} ({_pct(s.share)} of followers): link appetite {s.link_appetite:+.1f}, an average post is worth {values[s.name]:+.2f}"
        for s in sc.audience.segments
    )
    return (
        f"{_pct(share)} of your unfollows are about content: your posts are not what {names} came for.",
        f"You post {', '.join(parts)}. {tastes} (satisfaction per seen post; below zero wears followers down).",
    )


def _chat(sc: Scenario) -> float:
    return sum(s.share * s.chat_appetite for s in sc.audience.segments)


def _ignored(sc: Scenario, share: float, t: dict[str, np.ndarray]) -> tuple[str, str]:
    received = float(np.median(t["replies_received_per_day"]))
    ignored = float(np.median(t["replies_ignored_per_day"]))
    return (
        f"{_pct(share)} of your unfollows are people whose replies went unanswered.",
        f"You answer {sc.habits.reply_rate:.0%} of replies: of about {received:.1f} replies a day, {ignored:.1f} go unanswered. "
        f"Your audience's chat appetite averages {_chat(sc):.1f} (0..1).",
    )


def _neglect(sc: Scenario, share: float, t: dict[str, np.ndarray]) -> tuple[str, str]:
    return (
        f"{_pct(share)} of your unfollows are because the account goes quiet.",
        f"You post {sc.habits.posts_per_day:g} times a day; after a few silent days followers start to drift away.",
    )


_REASON_TEXT = {"fatigue": _fatigue, "content": _content, "ignored": _ignored, "neglect": _neglect}


# --------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------


def _sources(sc: Scenario, t: dict[str, np.ndarray]) -> list[Finding]:
    follows = float(t["follows"].sum())
    if follows <= 0:
        return [Finding("sources", "Almost no one new follows you.", f"Follows over the period: {_q(t['follows'])}.")]
    shares = {c: float(t[f"follows_{c}"].sum()) / follows for c in CHANNELS}
    ranked = sorted(CHANNELS, key=lambda c: -shares[c])
    listing = ", ".join(f"{SOURCE_WORDS[c]} {_pct(shares[c])}" for c in ranked)
    out = [Finding(
        "sources",
        f"{_pct(shares[ranked[0]])} of your new followers found you through {SOURCE_WORDS[ranked[0]]}.",
        f"New followers by how they found you: {listing}. Follows over the period: {_q(t['follows'])}.",
    )]  # fmt: skip
    social = shares["conversation"] + shares["outreach"]
    h = sc.habits
    if social < SOCIAL_FLAG_SHARE and _chat(sc) >= CHATTY:
        out.append(Finding(
            "conversation",
            f"{'None' if social == 0 else 'Only ' + _pct(social)} of your new followers found you through conversation, "
            "though your audience is chatty: answering and replying to others would bring more.",
            f"You answer {h.reply_rate:.0%} of replies and leave {h.outreach_per_day:g} replies a day on other people's posts; "
            f"your audience's chat appetite averages {_chat(sc):.1f} (0..1); accounts that mostly broadcast grow markedly less (E:B1).",
        ))  # fmt: skip
    return out
