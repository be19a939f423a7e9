"""`coach fit`, the audience's taste for links: per-kind formulas, the mix, what stays assumed.

The per-kind split of engagement comes from coach.model's own tables (coach/fit/kinds.py);
these tests check it against what the engine does, then that the fit reads the average link
appetite from reposts per like of link vs plain posts on synthetic accounts with known
values, and says plainly what it cannot separate. No simulated number is written down: each
check compares two simulated quantities, or a fit with the truth that generated its data.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from coach.experiments import run_many
from coach.fit import fit
from coach.fit.core import build_scenario, link_taste, segments_for, with_derived
from coach.fit.data import Counted, FitInput, KindEngagement
from coach.fit.kinds import kind_reach, link_repost_log_ratio, per_seen
from coach.fit.synthetic import synthetic_account
from coach.model.content import LINK, QUESTION
from coach.platforms import PRESETS
from coach.scenario import Audience, Habits, Scenario, Segment

# --------------------------------------------------------------------------------------
# The per-kind formulas agree with the engine
# --------------------------------------------------------------------------------------


def _engine_rates(platform: str, appetite: float, **shares: float) -> tuple[float, float]:
    """Simulated reposts per like, and likes per post per follower, of an account posting one kind only."""
    sc = Scenario(
        name="kinds",
        days=45,
        seed=5,
        platform=PRESETS[platform],
        habits=Habits(posts_per_day=3.0, **{"link_share": 0.0, "question_share": 0.0, "promo_share": 0.0, **shares}),
        audience=Audience(followers=2000, segments=(Segment(name="a", share=1.0, link_appetite=appetite),)),
    )
    ens = run_many(sc, 6, 5, parallel=False)
    likes, reposts = ens.series("likes").sum(), ens.series("reshares").sum()
    per_follower = likes / ens.series("posts").sum() / ens.series("followers").mean()
    return reposts / likes, per_follower, sc


@pytest.fixture(scope="module")
def engine_rates():
    return {
        (platform, kind): _engine_rates(platform, 0.6, **shares)
        for platform in ("mastodon", "x")
        for kind, shares in (
            ("plain", {}),
            ("link", {"link_share": 1.0}),
            ("question", {"question_share": 1.0}),
        )
    }


def test_reposts_per_like_by_kind_follow_the_engine(engine_rates):
    """What the fit assumes of link and question posts (coach.fit.kinds) is what the engine does."""
    plain, _, sc = engine_rates[("mastodon", "plain")]
    link = engine_rates[("mastodon", "link")][0]
    question = engine_rates[("mastodon", "question")][0]
    assert abs(math.log(link / plain) - link_repost_log_ratio(sc)) < 0.2
    seen = per_seen(sc)
    expected_question = (seen["reposts"][QUESTION] / seen["likes"][QUESTION]) / (seen["reposts"][0] / seen["likes"][0])
    assert abs(math.log(question / plain) - math.log(expected_question)) < 0.2


def test_links_reach_as_many_followers_as_the_platform_says(engine_rates):
    _, plain, sc = engine_rates[("x", "plain")]
    _, link, _ = engine_rates[("x", "link")]
    assert abs(math.log(link / plain) - math.log(kind_reach(sc.platform)[LINK])) < 0.15


# --------------------------------------------------------------------------------------
# The mix keeps the average; reading the average from counts
# --------------------------------------------------------------------------------------


@given(mean=st.floats(-1, 1), mix=st.floats(0.05, 0.95), polarity=st.floats(0, 1))  # the whole searched box
def test_the_two_parts_keep_the_average_and_stay_in_range(mean, mix, polarity):
    v = with_derived({"link_appetite": mean, "mix": mix, "polarity": polarity})
    assert -1 <= v["shy_link"] <= v["keen_link"] <= 1
    assert mix * v["keen_link"] + (1 - mix) * v["shy_link"] == pytest.approx(mean, abs=1e-9)
    keen, shy = segments_for(v)
    assert keen.share + shy.share == pytest.approx(1.0)
    if polarity == 0:
        assert keen.link_appetite == shy.link_appetite


def _data(engagement: dict[str, KindEngagement]) -> FitInput:
    return FitInput(
        history=[(date(2025, 1, 1), 1000), (date(2025, 2, 1), 1100)],
        habits=Habits(link_share=0.4),
        platform="x",
        engagement=engagement,
    )


def _counts(posts: int, likes: float, reposts: float) -> KindEngagement:
    return KindEngagement(posts, (likes + reposts) / posts, 1.0, Counted(likes, 1.0), Counted(reposts, 1.0))


def test_the_average_appetite_is_read_back_from_exact_counts():
    """Counts made with the engine's own ratio for appetite 0.5 give an interval around 0.5."""
    probe = _data({})
    sc = build_scenario(probe, {"link_appetite": 0.5}, 28)
    ratio = math.exp(link_repost_log_ratio(sc))
    plain_likes, plain_reposts = 40_000.0, 4_000.0
    link_likes = 8_000.0
    data = _data({
        "plain": _counts(500, plain_likes, plain_reposts),
        "link": _counts(500, link_likes, link_likes * plain_reposts / plain_likes * ratio),
    })  # fmt: skip
    taste = link_taste(data)
    assert taste.reason is None
    # The model's own error floor (10% per kind) keeps the interval open even with many posts.
    assert taste.p10 <= 0.5 <= taste.p90 and taste.p90 - taste.p10 < 1.0
    # Few reposts: the same ratio cannot be told from the rest of the range.
    data = _data({"plain": _counts(20, 40.0, 4.0), "link": _counts(20, 8.0, 0.8 * ratio)})
    taste = link_taste(data)
    assert taste.reason is not None and "too few reposts" in taste.reason and "20 link posts" in taste.reason


def test_without_separate_repost_counts_or_link_posts_the_taste_stays_assumed():
    no_split = {k: KindEngagement(30, 2.0, 1.0) for k in ("plain", "link")}
    assert "does not count reposts apart from likes" in link_taste(_data(no_split)).reason
    no_links = {"plain": _counts(30, 60.0, 6.0)}
    assert "at least five link and five plain posts" in link_taste(_data(no_links)).reason


# --------------------------------------------------------------------------------------
# Trust checks: synthetic accounts with a known taste for links
# --------------------------------------------------------------------------------------

BASE = {"prospects": 150.0, "churn": 0.02, "attention": 0.3}
LOVE = {**BASE, "link_appetite": 0.7, "mix": 0.5, "polarity": 0.0}
HATE = {**BASE, "link_appetite": -0.6, "mix": 0.5, "polarity": 0.0}
MIXED = {**BASE, "link_appetite": 0.1, "mix": 0.3, "polarity": 0.9}


def _fit(truth: dict[str, float], seed: int):
    account = synthetic_account(truth, followers=3000, days=45, seed=seed, posts_per_kind=1000)
    return fit(account.data(), trials=32, forecast=5, seed=3, forecast_runs=8)


@pytest.fixture(scope="module")
def taste_fits():
    return {
        name: _fit(truth, 900 + i) for i, (name, truth) in enumerate((("love", LOVE), ("hate", HATE), ("mixed", MIXED)))
    }


def test_the_fit_reads_the_average_taste_for_links(taste_fits):
    """Paired accounts: one crowd that came for links, one that hates them; the fitted averages
    are told apart and each lies within 0.5 of its truth (about 4 standard errors of 1,000 link
    posts' reposts; how often the interval holds the truth is a benchmark figure)."""
    love, hate = (taste_fits[k].fit["taste"]["link_appetite_mean"] for k in ("love", "hate"))
    assert love["p10"] > hate["p90"]
    for name, truth in (("love", LOVE), ("hate", HATE), ("mixed", MIXED)):
        m = taste_fits[name].fit["taste"]["link_appetite_mean"]
        assert m["p10"] <= m["value"] <= m["p90"]
        assert abs(m["value"] - truth["link_appetite"]) < 0.5, (name, m)


def test_the_report_says_a_mix_cannot_be_told_from_one_middling_crowd(taste_fits):
    result = taste_fits["mixed"]
    assert result.fit["taste"]["fitted"] is True
    assert any("cannot separate a mixed crowd from one middling crowd" in t for t in result.fit["tradeoffs"])
    assert {"audience.segments[0].share", "audience.segments[1].link_appetite"} <= set(result.fitted)
    keen, shy = result.scenario.audience.segments
    assert keen.share + shy.share == pytest.approx(1.0) and keen.link_appetite >= shy.link_appetite
    assert keen.attention == shy.attention and keen.churn_per_month == shy.churn_per_month
    assert "audience.segments[0].link_appetite" not in result.assumed
    assert "audience.segments[1].chat_appetite" in result.assumed
    reposts = result.fit["engagement"]["link"]["reposts"]
    assert reposts["p10"] <= reposts["median"] <= reposts["p90"] and reposts["observed"] >= 0
    assert np.isfinite(result.fit["taste"]["observed_log_ratio"])
