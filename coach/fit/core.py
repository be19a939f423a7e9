"""The fit: Optuna over the simulator on paired seeds, a stated observation model, a forecast.

How it works (docs/fitting.md says it in plain words):

1. Every trial is a scenario with the account's own habits block by block (the timeline the
   archive shows) and candidate audience values, simulated from the first history date to
   the last through :func:`coach.experiments.run_batch`. All trials run on the same seed and
   replicate indices (common random numbers), so two candidates differ by their values, not
   by their luck; trials are asked from Optuna's TPE sampler in small batches so both cores
   stay busy.
2. The score is minus twice a Gaussian log-likelihood of what is observed: the follower
   *increments* between (at most 13) observed dates and, where the export counts likes and
   reposts (X), log engagement per post by kind (split by kind with :mod:`coach.fit.kinds`).
   Its covariance is the *simulated* spread (:func:`spread_of`): runs on fresh seeds (the
   account's timeline) x replicates (the crowd's reactions), combined so that it is the
   spread of observed minus a trial's mean (the truth's luck plus the trial's shared luck),
   plus the counts' own error (:func:`measurement_covariance`). No temper. Where reposts per
   like of link vs plain posts can read the followers' average link appetite
   (:func:`link_taste`), a third part compares them, and the crowd is two parts (link-keen
   and the rest: :func:`with_derived`).
3. Intervals (:func:`parameter_draws`): near the best trials the scored values are linear in
   the parameters; the Fisher information of that linear model under the simulated
   covariance (plus a uniform prior over each range) gives a normal approximation of the
   values' uncertainty, whose 10% and 90% quantiles are each value's p10..p90.
4. Forecast and report: values drawn from that normal are run on fresh seeds over the
   history *and* the forecast days in one run each, so the forecast continues the fitted
   crowd as the history left it, and the band is a mixture over the values' uncertainty and
   the process's (timeline and crowd). Each run's gains and losses after the history's end
   are added to the observed count at its end.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coach.experiments import Progress, StopCheck, run_batch
from coach.fit.data import KINDS, MIN_KIND_POSTS, FitError, FitInput
from coach.fit.kinds import kind_shares, link_repost_log_ratio, per_post, split
from coach.platforms import PRESETS
from coach.scenario import Audience, Scenario, Segment, TimelineStep, dump_scenario

DEFAULT_TRIALS = 32  # trials of TRIAL_REPLICATES runs each: a year of history in well under 60 s
TRIAL_REPLICATES = 8  # runs per trial, on the same seed and replicate indices for every trial (replicates
# of one seed are batched: 8 cost about twice 1; fewer leave each trial so much luck of its own
# that the best-scoring trial is the one whose luck matched the history, a winner's curse)
BATCH = 4  # trials asked from Optuna at once (4 tasks: both cores busy)
EXPLORE_SHARE = 0.5  # the first half of the trials is Optuna's alone; then half of each batch refines
LOCAL_STEP = 0.06  # refinement steps: this share of each searched range (in log space for log ranges)
# The simulated spread of the observations (the score's covariance) is measured on
# REFERENCE_SEEDS fresh seeds x REFERENCE_REPLICATES replicates: the seeds give the spread
# of the account's timeline (keyed by the seed only, coach/rng.py), the replicates within a
# seed that of the crowd's reactions. Replicates of one seed are cheap (batched), seeds not.
# The timeline's share is small for the follower steps (3-10%) but 13-38% of a run's
# engagement luck, and 4 seeds (3 degrees of freedom) estimated it as 0 for about one value
# in three (the estimate is clipped at 0), narrowing attention; 8 seeds x 4 replicates cost
# about 1.5x 4 x 8 (a seed's batch costs 0.22 s + 0.018 s a replicate on a year's history).
REFERENCE_SEEDS = 8
REFERENCE_REPLICATES = 4
PILOT_SEEDS = 2  # the pilot's spread only ranks the trials of the search: fewer seeds do
PILOT_REPLICATES = 8
MAX_STEPS = 12  # follower increments scored: observed dates thinned to at most 13, evenly in time
FORECAST_SETS = 16  # values drawn from the fit's uncertainty and re-run for the band
FORECAST_PER_SEED = 2  # draws sharing one fresh seed (one task per core; the timeline is a
# small share of the spread, evidence.spread.timeline_share, so 8 timelines are enough)
MIN_SIM_DAYS = 28  # with no history span, engagement is fitted on four simulated weeks
# The per-kind split's own error, log likes + reposts per post of one kind: the engine counts
# likes and reposts per day, not per kind, and coach.fit.kinds splits them by the engine's
# tables at the crowd's starting mix; tests/test_fit_taste.py holds those tables to the
# engine's single-kind accounts within 0.15-0.2 in log. Taken as a standard error of 0.1 per
# kind (in the level and in the link-taste ratio). The one number here not measured per fit.
ENGAGEMENT_MODEL_ERROR = 0.1
CHI2_80 = {1: 1.642, 2: 3.219, 3: 4.642, 4: 5.989, 5: 7.289}  # chi-square 80% quantiles by degrees
# Seed purposes (coach.fit.core.fresh_seeds): independent of the trials' seed and of each other.
PILOT, REFERENCE, FORECAST, DRAWS_SEED = 1, 2, 3, 4
# The values' uncertainty is a normal around the best trials (a Laplace approximation,
# :func:`parameter_draws`) truncated to the searched ranges (a uniform prior over each). The
# normal also gets a weak precision of 1 per range (a standard deviation of the whole range)
# so that it stays proper, and a rejection sampler stays quick, where the data say nothing
# (the mix and the polarity); truncated to the range it is then nearly flat.
PRIOR_PRECISION = 1.0
DRAWS = 2000  # values drawn from that normal: their 10% and 90% quantiles are the intervals
CORRELATED = 0.7  # |correlation| of two values over the draws (parameter_draws) that is called a trade-off
# Attention's interval is read from the score surface (:func:`profile_interval`), not from the
# normal around the best trial alone: PROBES more trials (one batch, after the search) step
# attention from the best trial's by -2, -1, +1, +2 x Z_80 of its standard deviation in that
# normal (the ends of its 80% interval and twice as far), the other values held.
PROBES = (-2.0, -1.0, 1.0, 2.0)
PROFILED = frozenset({"attention"})
WIDE = 0.5  # an interval covering this share of the searched range is "not pinned down"
SEGMENT = "your_followers"
UNREAD_TASTE = "your followers' average taste for links (not read from reposts: searched over -1..1)"


# What each scenario path the fit reports (``fitted``, ``assumed``) means, in plain words: the
# Parameters below take their words from here, and the app shows these instead of the paths
# (:func:`field_words`). The CLI's text and JSON keep the paths (CONTRACTS.md).
FIELD_WORDS = {
    "prospects_per_day": "people who come across you per day",
    "reachable": "people who could ever follow you",
    "attention": "chance a follower who is online sees a post",
    "churn_per_month": "share of followers who drift away per month",
    "link_appetite": "how much your followers value links, -1 hate .. 1 came for them",
    "chat_appetite": "how much conversation matters to your followers, 0..1",
    "tolerance_posts_per_day": "posts per day your followers take before they tire",
    "share": "the share of your followers who are keener on links",
}
PART_WORDS = {0: "the link-keen part", 1: "the rest"}  # segments[i] when the mix is fitted (KEEN, SHY)


def field_words(field: str, segments: int = 1) -> str:
    """``audience.segments[0].churn_per_month`` -> "share of followers who drift away per month
    (churn_per_month)"; with two parts of the crowd, which part it is. Unknown paths come back as they are."""
    match = re.fullmatch(r"audience\.(?:segments\[(\d)\]\.)?(\w+)", field)
    if not match or match[2] not in FIELD_WORDS:
        return field
    words = FIELD_WORDS[match[2]]
    if match[1] is not None and segments > 1 and match[2] != "share":
        # Attention and churn are one fitted value for both parts (reported on part 0).
        shared = match[2] in ("attention", "churn_per_month")
        words += ", both parts" if shared else f", {PART_WORDS.get(int(match[1]), 'part ' + match[1])}"
    return f"{words} ({match[2]})"


@dataclass(frozen=True)
class Parameter:
    field: str  # the scenario path reported in ``fitted`` / ``assumed``
    key: str  # the short name used in trials
    low: float
    high: float
    log: bool
    words: str  # what it means, for the report

    def near(self, value: float, rng: np.random.Generator, scale: float = 1.0) -> float:
        """A random value near ``value``: a normal step of scale x LOCAL_STEP of the range (log for log ranges)."""
        lo, hi = (math.log(self.low), math.log(self.high)) if self.log else (self.low, self.high)
        x = (math.log(value) if self.log else value) + rng.normal(0.0, scale * LOCAL_STEP * (hi - lo))
        x = min(max(x, lo), hi)
        return min(max(math.exp(x) if self.log else x, self.low), self.high)

    def unscaled(self, x: float) -> float:
        """The value at position ``x`` (0..1) of the searched range (the inverse of :meth:`scaled`)."""
        x = min(max(x, 0.0), 1.0)
        if self.log:
            return math.exp(math.log(self.low) + x * (math.log(self.high) - math.log(self.low)))
        return self.low + x * (self.high - self.low)

    def scaled(self, value: float) -> float:
        """Position in the searched range, 0..1 (in log space for log ranges)."""
        if self.log:
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)


SEGMENT_FIELDS = ("attention", "churn_per_month", "link_appetite", "chat_appetite", "tolerance_posts_per_day")
# The taste for links, where reposts and likes are counted apart (X): the crowd's average
# link appetite, the share of a link-keen segment, and how far the two segments' appetites
# lie apart (0: one middling crowd). The last two are directions engagement cannot see.
TASTE = ("link_appetite", "mix", "polarity")
FLAT = frozenset({"mix", "polarity"})
Z_80 = 1.2816  # the normal 90% quantile: an 80% interval is +-1.28 standard errors
TASTE_SEARCH = 25.0  # the average appetite is searched where its own term is within this of its best (~5 SE)
KEEN, SHY = "link_keen", "link_shy"  # the two segments' names when the mix is fitted
DERIVED = (
    Parameter("audience.segments[0].link_appetite", "keen_link", -1.0, 1.0, False,
              "how much the link-keen part of your followers values links"),
    Parameter("audience.segments[1].link_appetite", "shy_link", -1.0, 1.0, False,
              "how much the rest of your followers value links"),
)  # fmt: skip


def parameters_for(data: FitInput, taste: LinkTaste | None = None) -> list[Parameter]:
    """The values this data can inform (the rest stay assumed); ``field`` "" = not reported itself."""
    params = []
    if len(data.history) >= 2:
        top = max(n for _, n in data.history)
        params += [
            # Up to one prospect per follower per day: beyond that an account would grow by
            # several percent a day, which a follower history would show as a jump.
            Parameter("audience.prospects_per_day", "prospects", 1.0, max(100.0, float(top)), True,
                      FIELD_WORDS["prospects_per_day"]),
            Parameter("audience.segments[0].churn_per_month", "churn", 0.002, 0.15, True,
                      FIELD_WORDS["churn_per_month"]),
        ]  # fmt: skip
    if data.engagement and max(n for _, n in data.history) > 0:  # no followers ever: nobody's attention to read
        params.append(
            Parameter("audience.segments[0].attention", "attention", 0.02, 0.95, False,
                      FIELD_WORDS["attention"])
        )  # fmt: skip
        taste = taste or link_taste(data)
        if taste.reason is None:
            params += [
                Parameter("", "link_appetite", taste.low, taste.high, False,
                          "your followers' average taste for links (-1 hate, 1 came for them)"),
                Parameter("audience.segments[0].share", "mix", 0.05, 0.95, False,
                          FIELD_WORDS["share"]),
                Parameter("", "polarity", 0.0, 1.0, False,
                          "how far apart the two parts' tastes for links are (0: one middling crowd)"),
            ]  # fmt: skip
    if params and not any(p.key == "link_appetite" for p in params):
        # Not read from reposts (or no engagement counts): the average link appetite is not
        # left at the model's 0 but searched over its whole range, -1..1, like the values the
        # data inform (a uniform prior, the scale's bounds), so every interval and the band
        # integrate over it. It moves follower counts (links please some and tire others, and
        # prospects judge the mix) and engagement a little; held at 0 where the truth is not,
        # it biased attention and inflow (docs/fitting.md). It stays listed as assumed.
        params.append(Parameter("", "link_appetite", -1.0, 1.0, False, UNREAD_TASTE))
    return params


def nothing_to_fit(data: FitInput) -> str:
    """Why :func:`parameters_for` found nothing, in the words of the case at hand."""
    counts = data.evidence.get("engagement_posts", {})
    today = data.history[-1][1]
    if data.engagement and today == 0:
        why = "your count today is 0, so there are no followers whose likes and reposts could show their attention"
    elif counts.get("with_counts"):
        why = (
            f"only {counts['with_counts']} of your posts have like and repost counts, fewer than "
            f"{MIN_KIND_POSTS} of any one kind (plain, link, question), so engagement per post cannot be read"
        )
    elif "engagement_posts" in data.evidence:
        why = (
            f"{data.source} has no likes or reposts per post (X archives count them; Mastodon, Bluesky and CSV "
            "exports do not)"
        )
    else:
        why = "there are no likes or reposts per post"
    return (
        f"nothing to fit: the follower history has one date ({data.history[-1][0]}) and {why}. "
        "Give a follower history with two or more dates (--history, or typed-in counts in the app)"
    )


def reported(params: list[Parameter]) -> list[Parameter]:
    """The values shown in ``fitted``: the scenario fields among the parameters, and the two
    segments' link appetites derived from the average, the mix and the polarity."""
    out = [p for p in params if p.field]
    if any(p.key == "mix" for p in params):
        out += list(DERIVED)
    return out


def with_derived(values: dict[str, float]) -> dict[str, float]:
    """``values`` plus the two segments' link appetites when the mix is fitted.

    With share ``s`` of the link-keen segment and spread ``D`` between the appetites, the
    keen one has ``mean + (1 - s) D`` and the rest ``mean - s D``, so the share-weighted mean
    stays ``mean``; ``D`` is ``polarity`` x the largest spread that keeps both within -1..1.
    """
    if "mix" not in values:
        return dict(values)
    mean, s, g = values["link_appetite"], values["mix"], values["polarity"]
    widest = min((1 - mean) / (1 - s), (1 + mean) / s)
    spread = g * max(widest, 0.0)
    keen = min(1.0, mean + (1 - s) * spread)
    shy = max(-1.0, mean - s * spread)
    return {**values, "keen_link": keen, "shy_link": shy}


@dataclass(frozen=True)
class LinkTaste:
    """What reposts per like of link vs plain posts say about the average link appetite."""

    reason: str | None  # why it stays assumed, or None when it is fitted
    observed: float = 0.0  # log((reposts/likes) of links / (reposts/likes) of plain posts)
    variance: float = 1.0
    low: float = -1.0  # the searched range of the average appetite
    high: float = 1.0
    p10: float = -1.0  # the range where its own term is within the 80% bound (one value)
    p90: float = 1.0
    best: float = 0.0  # the average appetite this term alone prefers


def link_taste(data: FitInput) -> LinkTaste:
    """Whether engagement can tell the followers' average link appetite, and where to search it.

    In the engine, reposts per like of a link post over those of a plain post are
    ``link_reshare_boost x mean((1 + link_appetite) / 2)`` (:func:`coach.fit.kinds.link_repost_log_ratio`):
    reach, attention and the follower count cancel. The observed ratio's variance is that of
    four over-dispersed counts (the reposts dominate) plus the model's floor for each kind.
    The appetite is fitted when the values within the 80% bound of this term alone cover
    less than half of -1..1 *and* would do so away from the ends of the scale too (its 80%
    half-width, 1.28 standard errors of the ratio, is below a quarter of the scale where the
    ratio moves one for one with the appetite: at 0); otherwise it stays assumed and the
    reason names the counts. The second test keeps an extreme ratio from a handful of
    reposts, cut short by the end of the scale, from passing as a narrow interval.
    """
    link, plain = data.engagement.get("link"), data.engagement.get("plain")
    if link is None or plain is None:
        return LinkTaste(
            "link appetite stays assumed: it needs likes and reposts of at least five link and five plain posts"
        )
    if None in (link.likes, link.reposts, plain.likes, plain.reposts):
        return LinkTaste("link appetite stays assumed: your export does not count reposts apart from likes")
    observed = math.log((link.reposts.total + 0.5) / (link.likes.total + 0.5)) - math.log(
        (plain.reposts.total + 0.5) / (plain.likes.total + 0.5)
    )
    variance = (
        link.reposts.log_var() + link.likes.log_var() + plain.reposts.log_var() + plain.likes.log_var()
        + 2 * ENGAGEMENT_MODEL_ERROR**2
    )  # fmt: skip
    grid = np.linspace(-1.0, 1.0, 81)
    probe = build_scenario(data, {}, MIN_SIM_DAYS)
    model = np.array([link_repost_log_ratio(_with_segments(probe, {"link_appetite": a})) for a in grid])
    term = (observed - model) ** 2 / variance
    inside = grid[term <= term.min() + CHI2_80[1]]
    near = grid[term <= term.min() + TASTE_SEARCH]
    step = grid[1] - grid[0]
    taste = LinkTaste(
        None,
        observed,
        variance,
        float(max(-1.0, near.min() - step)),
        float(min(1.0, near.max() + step)),
        float(inside.min()),
        float(inside.max()),
    )
    taste = dataclasses.replace(taste, best=float(grid[int(np.argmin(term))]))
    if taste.p90 - taste.p10 >= WIDE * 2 or 2 * Z_80 * math.sqrt(variance) >= WIDE * 2:
        return LinkTaste(
            f"link appetite stays assumed: your {link.posts} link posts got {link.reposts.total:.0f} reposts and "
            f"{link.likes.total:.0f} likes, your {plain.posts} plain posts {plain.reposts.total:.0f} reposts and "
            f"{plain.likes.total:.0f} likes; too few reposts to tell how your followers value links (anything "
            f"from {taste.p10:+.1f} to {taste.p90:+.1f} on the -1..1 scale fits about as well)",
            observed,
            variance,
            p10=taste.p10,
            p90=taste.p90,
        )
    return taste


def taste_term(taste: LinkTaste | None, scenario: Scenario) -> float:
    """The link-taste part of the score (0 when the appetite stays assumed)."""
    if taste is None or taste.reason is not None:
        return 0.0
    return (taste.observed - link_repost_log_ratio(scenario)) ** 2 / taste.variance


def all_fields(segments: int = 1) -> list[str]:
    out = ["audience.prospects_per_day", "audience.reachable"]
    for i in range(segments):
        out += [f"audience.segments[{i}].{f}" for f in SEGMENT_FIELDS]
    if segments > 1:
        out.append("audience.segments[0].share")
    return out


# --------------------------------------------------------------------------------------
# Scenarios for candidate values
# --------------------------------------------------------------------------------------


def reachable_for(data: FitInput) -> int:
    return max(20 * max(n for _, n in data.history), 20_000)


def build_scenario(
    data: FitInput, values: dict[str, float], days: int, forecast: int = 0, name: str = "fit trial", seed: int = 7
) -> Scenario:
    """The account from the first history date: its habits by block, then today's habits."""
    audience = Audience(
        followers=data.history[0][1],
        prospects_per_day=values.get("prospects", Audience().prospects_per_day),
        reachable=reachable_for(data),
        segments=segments_for(values),
    )
    blocks = [(d, h) for d, h in data.blocks if d <= days] or [(1, data.habits)]
    steps = [TimelineStep(day=d, habits=h.model_dump()) for d, h in blocks[1:]]
    if forecast and days > 0:
        steps.append(TimelineStep(day=days + 1, habits=data.habits.model_dump()))
    return Scenario(
        name=name,
        days=days + forecast,
        seed=seed,
        platform=PRESETS[data.platform],
        habits=blocks[0][1],
        audience=audience,
        timeline=tuple(steps),
    )


def segments_for(values: dict[str, float], digits: Callable[[float], float] = float) -> tuple[Segment, ...]:
    """One kind of follower, or two (link-keen and the rest) when the mix is fitted.

    Both share attention and churn (one value each is fitted); chat appetite and tolerance
    stay at their defaults. ``digits`` rounds the values (the fitted scenario shows three).
    """
    defaults = Segment(name=SEGMENT, share=1.0)
    common = {
        "attention": digits(values.get("attention", defaults.attention)),
        "churn_per_month": digits(values.get("churn", defaults.churn_per_month)),
    }
    if "mix" not in values:
        link = digits(values.get("link_appetite", defaults.link_appetite))
        return (Segment(name=SEGMENT, share=1.0, link_appetite=link, **common),)
    v = with_derived(values)
    share = digits(v["mix"])
    return (
        Segment(name=KEEN, share=share, link_appetite=digits(v["keen_link"]), **common),
        Segment(name=SHY, share=1 - share, link_appetite=digits(v["shy_link"]), **common),
    )


def _with_segments(scenario: Scenario, values: dict[str, float]) -> Scenario:
    audience = scenario.audience.model_copy(update={"segments": segments_for(values)})
    return scenario.model_copy(update={"audience": audience})


# --------------------------------------------------------------------------------------
# The score
# --------------------------------------------------------------------------------------


def engagement_per_kind(runs: dict[str, np.ndarray], days: int, scenario: Scenario, shares: np.ndarray) -> np.ndarray:
    """(runs x kinds) simulated likes + reposts per post of each kind over the first ``days``.

    The runs count likes and reposts per day; each total is spread over the kinds by the
    engine's per-kind formulas (:func:`coach.fit.kinds.per_post`).
    """
    posts = np.maximum(runs["posts"][:, :days].sum(axis=1), 1)
    shape = per_post(scenario)
    likes = split(runs["likes"][:, :days].sum(axis=1) / posts, shape["likes"], shares)
    reposts = split(runs["reshares"][:, :days].sum(axis=1) / posts, shape["reposts"], shares)
    return likes + reposts


def along_ridge(
    lead: dict[str, float], stats: dict[str, float], params: list[Parameter], rng: np.random.Generator
) -> dict[str, float]:
    """A candidate elsewhere on the ridge through the best trial: another churn, and the
    prospects that would keep the same net growth (more leave, so more must come).

    A follower history pins net growth far better than its two sides, so the good trials
    lie along a ridge of churn against inflow; TPE and local steps stay where they started
    on it. Follows are taken to scale with prospects (an over-estimate, since reshares do
    not): only a proposal, the score decides.
    """
    by_key = {p.key: p for p in params}
    churn_p, prospects_p = by_key["churn"], by_key["prospects"]
    churn = math.exp(rng.uniform(math.log(churn_p.low), math.log(churn_p.high)))
    extra = (churn - lead["churn"]) / 30 * stats["mean_followers"]  # more leavers per day
    follows = max(stats["follows_per_day"], 1e-3)
    prospects = lead["prospects"] * max(follows + extra, 0.05 * follows) / follows
    out = dict(lead)
    out["churn"] = churn
    out["prospects"] = min(max(prospects, prospects_p.low), prospects_p.high)
    return out


def pilot_attention(data: FitInput, runs: dict[str, np.ndarray], scenario: Scenario, attention: float) -> float:
    """The attention at which the pilot's likes + reposts per post would match the observed.

    Likes and reposts scale with the followers who see a post: attention x followers. So the
    pilot's attention is scaled by observed / simulated engagement and by simulated /
    observed mean followers over the window (the pilot's crowd grows at default rates).
    """
    days = runs["followers"].shape[1]
    sim = engagement_per_kind(runs, days, scenario, kind_shares(data.habits)).mean(axis=0)
    ratios = [
        seen.mean / sim[KINDS.index(k)]
        for k, seen in data.engagement.items()
        if seen.mean > 0 and sim[KINDS.index(k)] > 0
    ]
    if not ratios:
        return attention
    observed = float(np.mean([n for _, n in data.history]))
    simulated = float(runs["followers"].mean())
    scale = math.exp(float(np.mean(np.log(ratios)))) * (simulated / max(observed, 1.0))
    return float(min(0.95, max(0.01, attention * scale)))


# --------------------------------------------------------------------------------------
# The observation model: what is scored, and its simulated spread
# --------------------------------------------------------------------------------------


def fresh_seeds(seed: int, purpose: int, count: int) -> list[int]:
    """``count`` seeds for ``purpose`` (PILOT, REFERENCE, FORECAST), independent of ``seed`` itself."""
    return [int(x) for x in np.random.SeedSequence([seed, purpose]).generate_state(count)]


def scored_points(data: FitInput) -> list[int]:
    """Indices of the observed dates whose increments are scored: all of them, or at most
    MAX_STEPS + 1 spread evenly in time (always the first and the last).

    The covariance of the increments is estimated from REFERENCE_SEEDS x REFERENCE_REPLICATES
    runs, which cannot pin down the correlations of hundreds of daily steps; the model's mean
    path is smooth, so a month's sum of daily steps carries nearly all they say about inflow
    and churn (for a random walk with drift, the sum is sufficient for the drift).
    """
    day0 = data.history[0][0]
    days = np.array([(d - day0).days for d, _ in data.history])
    if len(days) <= MAX_STEPS + 1:
        return list(range(len(days)))
    targets = np.linspace(0, days[-1], MAX_STEPS + 1)
    return sorted({0, len(days) - 1, *(int(np.argmin(np.abs(days - t))) for t in targets)})


def _engaged_kinds(data: FitInput) -> list[str]:
    return [k for k in KINDS if k in data.engagement and data.engagement[k].mean > 0]


def _window(data: FitInput, runs: dict[str, np.ndarray]) -> int:
    """Days of simulated engagement compared with the export's: the history span (or all)."""
    span = data.span_days
    return span if span > 0 else runs["followers"].shape[1]


def observed_vector(data: FitInput) -> np.ndarray:
    """What is scored, observed: follower increments between the scored dates, then log
    likes + reposts per post of each kind with any."""
    points = scored_points(data)
    obs = np.array([data.history[i][1] for i in points], dtype=float)
    logs = [math.log(data.engagement[k].mean) for k in _engaged_kinds(data)]
    return np.concatenate([np.diff(obs), np.array(logs, dtype=float)])


def simulated_vectors(data: FitInput, runs: dict[str, np.ndarray], scenario: Scenario) -> np.ndarray:
    """(runs x scored values) the same quantities in each run (log engagement per run)."""
    day0 = data.history[0][0]
    points = scored_points(data)
    idx = [(data.history[i][0] - day0).days for i in points]
    followers = runs["followers"]
    level = np.concatenate([np.full((followers.shape[0], 1), float(data.history[0][1])), followers], axis=1)
    steps = np.diff(level[:, idx], axis=1)
    kinds = _engaged_kinds(data)
    if not kinds:
        return steps
    sim = engagement_per_kind(runs, _window(data, runs), scenario, kind_shares(data.habits))
    logs = np.log(np.maximum(sim[:, [KINDS.index(k) for k in kinds]], 1e-3))
    return np.concatenate([steps, logs], axis=1)


def trial_vector(data: FitInput, runs: dict[str, np.ndarray], scenario: Scenario) -> np.ndarray:
    """A trial's simulated mean: mean increments over its runs, log of its mean engagement."""
    vectors = simulated_vectors(data, runs, scenario)
    k = len(scored_points(data)) - 1
    mean = vectors.mean(axis=0)
    if vectors.shape[1] > k:
        mean[k:] = np.log(np.maximum(np.exp(vectors[:, k:]).mean(axis=0), 1e-3))
    return mean


def rounding_unit(counts: list[int]) -> int:
    """The unit the follower counts were written in: 1000, 100 or 10 when every count is a
    multiple of it (notes, or a profile showing "12.3K"), else 1."""
    for unit in (1000, 100, 10):
        if len(counts) >= 2 and all(n % unit == 0 for n in counts):
            return unit
    return 1


def measurement_covariance(data: FitInput) -> np.ndarray:
    """The observed counts' own error, as a covariance of the scored values.

    A follower count written in units of ``u`` is off by up to u/2, uniformly: variance
    u^2/12 per count (u = 1: an exact count is still an integer); an increment is the
    difference of two counts, so neighbouring increments share one count's error (covariance
    -u^2/12). A tracker that reads at the same hour every day shifts each count by about the
    same part of a day's moves, which increments cancel, so no term for the hour is added.
    Engagement: the standard error of log(mean) over the export's posts of each kind, plus
    the per-kind split's own error (ENGAGEMENT_MODEL_ERROR).
    """
    points = scored_points(data)
    unit = rounding_unit([n for _, n in data.history])
    k = len(points) - 1
    kinds = _engaged_kinds(data)
    m = np.zeros((k + len(kinds), k + len(kinds)))
    v = unit**2 / 12.0
    for j in range(k):
        m[j, j] = 2 * v
        if j + 1 < k:
            m[j, j + 1] = m[j + 1, j] = -v
    for j, kind in enumerate(kinds):
        m[k + j, k + j] = data.engagement[kind].log_se() ** 2 + ENGAGEMENT_MODEL_ERROR**2
    return m


def shrunk_correlation(x: np.ndarray) -> tuple[np.ndarray, float]:
    """The correlation matrix of the rows of ``x`` shrunk toward the identity, and the weight.

    Schafer & Strimmer (2005), target "D" (the variances are kept, the correlations shrunk
    toward 0): lambda = sum Var(r_ij) / sum r_ij^2 over i != j, estimated from the runs
    themselves. A few dozen runs cannot pin down every correlation of a dozen values; the
    shrinkage keeps the estimate well-conditioned without a hand-set weight.
    """
    n, p = x.shape
    sd = x.std(axis=0, ddof=1)
    sd[sd == 0] = 1.0
    z = (x - x.mean(axis=0)) / sd
    w = z[:, :, None] * z[:, None, :]
    w_mean = w.mean(axis=0)
    r = w_mean * n / (n - 1)
    var_r = n / (n - 1) ** 3 * ((w - w_mean) ** 2).sum(axis=0)
    off = ~np.eye(p, dtype=bool)
    denominator = float((r[off] ** 2).sum())
    lam = 1.0 if denominator == 0 else min(1.0, max(0.0, float(var_r[off].sum()) / denominator))
    out = (1 - lam) * r
    np.fill_diagonal(out, 1.0)
    return out, lam


@dataclass(frozen=True)
class Spread:
    """The covariance of (observed - a trial's simulated mean), from reference runs."""

    covariance: np.ndarray
    shrinkage: float  # the correlations' weight toward 0 (Schafer-Strimmer)
    timeline_share: float  # share of the follower increments' variance from the timeline (seed)

    @property
    def log_det(self) -> float:
        """log det of the covariance: the Gaussian likelihood's normalisation (constant for one spread)."""
        return float(np.linalg.slogdet(self.covariance)[1])

    def distance(self, observed: np.ndarray, simulated: np.ndarray) -> float:
        res = observed - simulated
        return float(res @ np.linalg.solve(self.covariance, res))


def spread_of(data: FitInput, groups: list[np.ndarray], replicates: int) -> Spread:
    """The score's covariance from reference runs: ``groups`` = one (replicates x values)
    array per fresh seed, all of one candidate.

    The observed account is one draw of the process: its timeline (T: the posting schedule,
    keyed by the seed) and its crowd's reactions (C), covariances S_T and S_C. A trial's mean
    over its ``replicates`` runs shares one seed, so one timeline: S_T + S_C / R. The two are
    independent, so observed - trial mean has covariance 2 S_T + (1 + 1/R) S_C + M (M: the
    counts' own error, :func:`measurement_covariance`). From g seeds of n replicates: the
    within-seed covariance W estimates S_C (g (n - 1) degrees of freedom), the covariance of
    seed means B estimates S_T + S_C / n, so S_T = B - W / n, its variances clipped at 0 (few
    seeds; the timeline is a small share, evidence.spread.timeline_share). The variances are
    2 S_T + (1 + 1/R) S_C; the correlations are those of all runs, shrunk
    (:func:`shrunk_correlation`). The same covariance judges every candidate (a local
    Gaussian approximation around the candidate it was measured on).
    """
    z = np.stack(groups)  # seeds x replicates x values
    g, n, p = z.shape
    within = np.diag(sum(np.cov(z[i], rowvar=False, ddof=1).reshape(p, p) for i in range(g)) / g)
    between = np.diag(np.cov(z.mean(axis=1), rowvar=False, ddof=1).reshape(p, p)) if g > 1 else np.zeros(p)
    timeline = np.clip(between - within / n, 0.0, None)
    var = 2 * timeline + (1 + 1 / replicates) * within
    runs = z.reshape(g * n, p)
    corr, lam = shrunk_correlation(runs)
    k = len(scored_points(data)) - 1
    if p - k > 1:
        # Engagement per kind is each run's one total split by fixed tables (coach.fit.kinds):
        # its kinds' correlations are (nearly) one by construction, not estimated, and
        # shrinking them toward 0 would count the run's luck once per kind, as if independent
        # (too much information on attention). They are kept as the runs show them.
        corr[k:, k:] = np.corrcoef(runs[:, k:], rowvar=False)
    sd = np.sqrt(var)
    cov = corr * np.outer(sd, sd) + measurement_covariance(data)
    total = (timeline + within)[:k].sum()
    share = float(timeline[:k].sum() / total) if k and total > 0 else 0.0
    return Spread(cov, lam, share)


def score(data: FitInput, vector: np.ndarray, scenario: Scenario, spread: Spread, taste: LinkTaste | None) -> float:
    """Minus twice the log-likelihood (up to a constant): the scored values against a trial's
    simulated mean under the simulated covariance (:func:`spread_of`), plus the link-taste
    term, which compares counts of independent posts with their own measured scatter."""
    return spread.distance(observed_vector(data), vector) + taste_term(taste, scenario)


def parameter_draws(
    data: FitInput,
    params: list[Parameter],
    records: list[tuple[dict[str, float], dict[str, float]]],
    vectors: list[np.ndarray],
    scenarios: list[Scenario],
    best: int,
    spread: Spread,
    taste: LinkTaste | None,
    seed: int,
) -> tuple[list[dict[str, float]], np.ndarray]:
    """Values drawn from the fit's uncertainty, and its covariance (in scaled units, 0..1 per range).

    Near the best trials the scored values move linearly with the parameters: m(u) = a + J (u - u*),
    fitted by least squares over the max(4 d, 12) best-scoring trials (d values; common random
    numbers make their differences smooth). The score is then quadratic, with Fisher
    information J' C^-1 J (C: :func:`spread_of`; the link-taste term, where read, is one more
    value with its own variance), plus the weak PRIOR_PRECISION.
    Its inverse is the covariance of the values, around the best trial. Draws from that normal truncated to the
    ranges (the uniform prior) give the intervals (10% and 90% quantiles) and the forecast's candidates; the
    first draw is the centre. A direction the data do not inform (a ridge of churn against
    inflow, the mix) spreads over its whole range.
    """
    u = np.array([[p.scaled(records[i][0][p.key]) for p in params] for i in range(len(records))])
    observed = observed_vector(data)
    cov_obs = spread.covariance
    simulated = np.stack(vectors)
    if taste is not None and taste.reason is None:
        observed = np.append(observed, taste.observed)
        simulated = np.column_stack([simulated, [link_repost_log_ratio(sc) for sc in scenarios]])
        p = len(cov_obs)
        cov_obs = np.pad(cov_obs, ((0, 1), (0, 1)))
        cov_obs[p, p] = taste.variance
    d = len(params)
    anchor = u[best]
    # The trials that score best, not those nearest the best: the best of a few dozen noisy
    # trials is partly the one whose luck matched the history's (a winner's curse); the
    # regression over many averages that out.
    near = np.argsort([r[1]["total"] for r in records])[: max(4 * d, 12)]
    design = np.column_stack([np.ones(len(near)), u[near] - anchor])
    coef, *_ = np.linalg.lstsq(design, simulated[near], rcond=None)
    jac = coef[1:].T  # scored values x parameters
    weighted = np.linalg.solve(cov_obs, jac)
    # The slopes are estimated from trials with luck of their own, and noise in J inflates
    # J' C^-1 J on average by tr(C^-1 E) (X'X)^-1 (E: the trials' scatter around the plane,
    # from the regression's residuals; X'X of the slopes): subtracted, and what would turn
    # negative is set to zero (no information rather than negative information).
    residual = simulated[near] - design @ coef
    scatter = residual.T @ residual / max(len(near) - d - 1, 1)
    noise = np.trace(np.linalg.solve(cov_obs, scatter)) * np.linalg.pinv(design.T @ design)[1:, 1:]
    values, vectors_ = np.linalg.eigh(jac.T @ weighted - noise)
    info = (vectors_ * np.clip(values, 0.0, None)) @ vectors_.T + PRIOR_PRECISION * np.eye(d)
    cov = np.linalg.inv(info)
    cov = (cov + cov.T) / 2
    # The centre is the best trial itself. A damped Gauss-Newton step of the linear model was
    # tried and not kept: along a weakly informed ridge the regression's slope extrapolates,
    # and on synthetic accounts the step moved 3 of 10 fits off their own history.
    centre = anchor
    # The uniform prior over each range is the normal truncated to the ranges: draws outside
    # are rejected (not clipped, which would pile them on the ends). A direction the data do
    # not inform then spreads over its whole range, whatever the centre.
    rng = np.random.default_rng([seed, DRAWS_SEED])
    kept: list[np.ndarray] = []
    for _ in range(50):
        z = rng.multivariate_normal(centre, cov, size=4 * DRAWS, method="eigh")
        kept.append(z[((z >= 0.0) & (z <= 1.0)).all(axis=1)])
        if sum(len(k) for k in kept) >= DRAWS - 1:
            break
    inside = np.concatenate(kept)[: DRAWS - 1]
    if len(inside) < DRAWS - 1:  # a centre far in a corner: clip the rest (never seen so far)
        extra = rng.multivariate_normal(centre, cov, size=DRAWS - 1 - len(inside), method="eigh")
        inside = np.concatenate([inside, np.clip(extra, 0.0, 1.0)])
    z = np.vstack([centre, inside])  # the first draw is the centre: the fitted values
    draws = [with_derived({p.key: p.unscaled(float(z[j, k])) for k, p in enumerate(params)}) for j in range(DRAWS)]
    return draws, cov


def profile_interval(
    values: np.ndarray, scores: np.ndarray, normal: tuple[float, float], bound: float = CHI2_80[1]
) -> tuple[float, float]:
    """An 80% interval of one value from the score surface: where its profile lies within
    ``bound`` (chi-square(1) 80%) of its minimum.

    The profile of a value (the score, minus twice the log-likelihood, with the other values
    at their best for each of its values) is at most the score of any trial: a trial within
    ``bound`` of the lowest score has a value inside the interval (Wilks). The trials read
    the surface where they are, far from the best trial too, but only there; the normal
    around the best trial (``normal``: its 10% and 90% quantiles) reads it between them. The
    interval is the smallest that holds both. On a quadratic score with trials along its
    valley the two agree (the normal's marginal is the profile there); where the valley
    curves or the best trial sits off its floor, the trials widen it. No factor is tuned.
    """
    inside = values[scores <= scores.min() + bound]
    return min(normal[0], float(inside.min())), max(normal[1], float(inside.max()))


MAX_REFERENCES = 3  # spreads measured (at the search's best, then at each new winner) before choosing


def select_best(
    judge: Callable[[int, Spread], float],
    count: int,
    lead: int,
    measure: Callable[[int], Spread],
    rounds: int = MAX_REFERENCES,
) -> tuple[int, Spread]:
    """The best trial, and the spread that judges every trial: the one measured at the best.

    The score's covariance is measured at one candidate (a local Gaussian approximation
    there) and judges every trial. Measured at the search's best (``lead``), it can make a
    far-away trial score lower only because that spread is not the trial's own: a candidate
    that grows faster has wider follower steps, and a slow-growing trial's misses look
    smaller under them (on a 400-follower account the default audience, 40 prospects a day
    where the truth had 60, scored 24.7 on its own spread and 19.95 on the one measured at
    the search's best, 56 prospects a day, which scored 21.6: the default won and fitted
    the history poorly). So a trial that wins on another's spread is measured too, and it
    replaces the best only if it scores lower on its *own* spread, normalisation included
    (minus twice the Gaussian log-likelihood is the distance plus log det C; where one C
    judges every trial the log det is a constant and left out, but between two spreads the
    wider one would otherwise always win). Then its winner is checked the same way, up to
    ``rounds`` measurements in all. On 40 synthetic accounts 20 fits needed one measurement
    (as before), 18 two and 2 three, and the search's best stayed the best in 28.

    ``judge(i, spread)`` scores trial ``i``; ``measure(i)`` measures (or recalls) the spread at it.
    """

    def own(i: int) -> float:
        spread = measure(i)
        return judge(i, spread) + spread.log_det

    best, measured = lead, {lead}
    measure(lead)
    while len(measured) < rounds:
        spread = measure(best)
        winner = min(range(count), key=lambda i: judge(i, spread))
        if winner in measured:
            break
        measured.add(winner)
        if own(winner) >= own(best):
            break  # it won only on the best's spread: the best stays
        best = winner
    return best, measure(best)


def chi2_bound(params: list[Parameter]) -> float:
    """How far above the best score a good trial may lie: the 80% chi-square bound.

    One degree of freedom per value the data inform; the mix and the polarity (FLAT) add
    none, since engagement cannot see them at all (their profile is flat). It no longer makes
    the intervals (:func:`parameter_draws` does): the refinement's steps are sized to land
    within it, and ``evidence.good_trials`` counts the trials within it.
    """
    df = max(1, sum(1 for p in params if p.key not in FLAT))
    return CHI2_80.get(df, 7.289 + 1.3 * (df - 5))


def _stack(ensemble: Any) -> dict[str, np.ndarray]:
    return {name: ensemble.series(name) for name in ("followers", "follows", "unfollows", "posts", "likes", "reshares")}


# --------------------------------------------------------------------------------------
# The fit
# --------------------------------------------------------------------------------------


@dataclass
class FitResult:
    """A fitted account: its scenario, every value with its interval, and the report."""

    scenario: Scenario
    fitted: dict[str, dict[str, float]]
    assumed: list[str]
    fit: dict[str, Any]
    evidence: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``coach fit --format json`` (CONTRACTS.md, Calibration)."""
        return {
            "scenario": self.scenario.model_dump(mode="json"),
            "fitted": self.fitted,
            "assumed": self.assumed,
            "fit": self.fit,
            "evidence": self.evidence,
            "warnings": self.warnings,
        }

    def to_yaml(self) -> str:
        """The fitted scenario, its story in the description."""
        return dump_scenario(self.scenario)


def fit(
    data: FitInput,
    *,
    trials: int = DEFAULT_TRIALS,
    forecast: int = 90,
    seed: int = 7,
    replicates: int = TRIAL_REPLICATES,
    progress: Progress | None = None,
    should_stop: StopCheck | None = None,
    parallel: bool | None = None,
    forecast_runs: int = 32,
) -> FitResult:
    """Fit the audience to the data; forecast ``forecast`` days on from the history's end.

    ``forecast_runs`` runs (spread over up to FORECAST_SETS values drawn from the fit's
    uncertainty, on fresh seeds) make the bands.
    """
    import optuna

    started = time.perf_counter()
    if not 1 <= trials <= 2000:
        raise FitError(f"trials: {trials} is not allowed; allowed: 1..2000")
    if not 1 <= forecast <= 730:
        raise FitError(f"forecast: {forecast} days is not allowed; allowed: 1..730")
    taste = link_taste(data) if data.engagement else None
    params = parameters_for(data, taste)
    if not params:
        raise FitError(nothing_to_fit(data))
    span = data.span_days
    warnings_out = list(data.warnings)
    if span + forecast > 730:
        raise FitError(
            f"the history spans {span} days and the forecast {forecast}; allowed: at most 730 days together "
            "(use --since or a shorter history, or a shorter --forecast)"
        )
    sim_days = max(span, MIN_SIM_DAYS)
    probes = len(PROBES) * sum(p.key in PROFILED for p in params)
    total_runs = (
        PILOT_SEEDS * PILOT_REPLICATES
        + REFERENCE_SEEDS * REFERENCE_REPLICATES
        + (trials + probes) * replicates
        + forecast_runs
    )
    done = 0

    def tick() -> Callable[[int, int], None] | None:
        """A progress callback for the next batch, counting on from the runs done before it."""
        if progress is None:
            return None
        offset = done

        def update(k: int, _: int) -> None:
            progress(offset + k, total_runs)

        return update

    def reference(scenario: Scenario, purpose: int, seeds: int, per_seed: int) -> tuple[dict[str, np.ndarray], Spread]:
        """``scenario`` on ``seeds`` fresh seeds x ``per_seed`` replicates: its pooled runs and the spread they measure."""
        nonlocal done
        stacked, groups = [], []
        for s in fresh_seeds(seed, purpose, seeds):
            ens = run_batch([scenario], per_seed, s, parallel=parallel, progress=tick(), should_stop=should_stop)[0]
            done += per_seed
            runs = _stack(ens)
            stacked.append(runs)
            groups.append(simulated_vectors(data, runs, scenario))
        pooled_runs = {k: np.concatenate([r[k] for r in stacked]) for k in stacked[0]}
        return pooled_runs, spread_of(data, groups, replicates)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=seed, multivariate=True, constant_liar=True, n_startup_trials=min(10, max(4, trials // 4))
        )
    study = optuna.create_study(direction="minimize", sampler=sampler)
    # The first trial is the model's default audience (within the searched ranges): a sensible
    # centre that TPE then moves away from only if the data say so.
    default = {
        "prospects": Audience().prospects_per_day,
        **{
            k: getattr(Segment(name="d", share=1), f)
            for k, f in (("churn", "churn_per_month"), ("attention", "attention"), ("link_appetite", "link_appetite"))
        },
        "mix": 0.5,
        "polarity": 0.0,  # one middling crowd: the model's default, one kind of follower
    }
    if taste is not None and taste.reason is None:
        # The first trial takes the average appetite its own (analytic) term prefers, as the
        # pilot sets attention: otherwise the search spends its trials finding that valley.
        default["link_appetite"] = taste.best
    # The pilot: the default audience on fresh seeds. Its spread judges the trials during the
    # search (TPE and the refinement only rank them); the intervals use the spread measured
    # again at the best trial (below).
    pilot = build_scenario(data, default, sim_days, seed=seed)
    pilot_runs, spread = reference(pilot, PILOT, PILOT_SEEDS, PILOT_REPLICATES)
    if any(p.key == "attention" for p in params):
        # Engagement per post pins attention far more sharply than follower counts pin the
        # rest; searched over its whole range, TPE spends its trials finding that narrow
        # valley. The pilot scales attention to the observed engagement first, and the
        # search then stays within x0.5..x2 of it.
        guess = pilot_attention(data, pilot_runs, pilot, default["attention"])
        default["attention"] = guess
        params = [
            Parameter(p.field, p.key, max(0.005, guess / 2), min(1.0, guess * 2), True, p.words)
            if p.key == "attention"
            else p
            for p in params
        ]
    study.enqueue_trial({p.key: min(max(default[p.key], p.low), p.high) for p in params})
    records: list[tuple[dict[str, float], dict[str, float]]] = []
    vectors: list[np.ndarray] = []  # each trial's simulated mean of the scored values
    trial_scenarios: list[Scenario] = []
    local = np.random.default_rng(seed)
    bound_width = chi2_bound(params)
    step = 1.0  # the refinement's step, x LOCAL_STEP of each range: adapted to the good region's size
    while len(records) < trials:
        size = min(BATCH, trials - len(records))
        refining = len(records) >= trials * EXPLORE_SHARE
        locals_asked = 0
        if refining:
            # Refine: most of each batch are steps around the best trial so far, so the good
            # region (within the chi-square bound) is found and populated: the intervals are
            # its extent. One step runs along the ridge of churn against inflow.
            lead_values, lead_score = min(records, key=lambda r: r[1]["total"])
            ridge = size > 1 and "churn" in lead_values
            locals_asked = max(0, size - 1 - ridge)
            for j in range(locals_asked):
                candidate = {p.key: p.near(lead_values[p.key], local, step) for p in params}
                if j == 1 and taste is not None and taste.reason is None:
                    # A step to where reposts per like put the average taste for links (the
                    # analytic term's own 80% range): the search otherwise stays in the valley
                    # of the other values it found first, with the taste off its own best.
                    by_key = {p.key: p for p in params}["link_appetite"]
                    candidate["link_appetite"] = min(max(local.uniform(taste.p10, taste.p90), by_key.low), by_key.high)
                study.enqueue_trial(candidate)
            if ridge:
                study.enqueue_trial(along_ridge(lead_values, lead_score, params, local))
        batch = [study.ask() for _ in range(size)]
        values = [{p.key: t.suggest_float(p.key, p.low, p.high, log=p.log) for p in params} for t in batch]
        scenarios = [build_scenario(data, v, sim_days, seed=seed) for v in values]
        # Common random numbers: every trial on the same seed and replicates, so candidates
        # differ by their values, not their luck (the spread accounts for that shared luck).
        ensembles = run_batch(
            scenarios,
            replicates,
            seed,
            parallel=parallel,
            progress=tick(),
            should_stop=should_stop,
        )
        done += len(batch) * replicates
        for trial, v, sc, ens in zip(batch, values, scenarios, ensembles, strict=True):
            stacked = _stack(ens)
            vector = trial_vector(data, stacked, sc)
            total = score(data, vector, sc, spread, taste)
            # What a ridge step needs: this candidate's follows per day and mean followers.
            s = {
                "total": total,
                "follows_per_day": float(stacked["follows"].mean()),
                "mean_followers": float(stacked["followers"].mean()),
            }
            study.tell(trial, total)
            records.append((with_derived(v), s))
            vectors.append(vector)
            trial_scenarios.append(sc)
        if locals_asked:
            # Enqueued trials are asked first: the batch's first ``locals_asked`` are the steps.
            # Half or more inside the bound: step further; none: step shorter.
            best_total = min(r[1]["total"] for r in records)
            inside = sum(r[1]["total"] <= best_total + bound_width for r in records[-size:][:locals_asked])
            step = step * 1.5 if inside * 2 >= locals_asked else step * 0.5 if inside == 0 else step
            step = min(max(step, 0.25), 4.0)

    # The spread measured again at the best trial of the search, on fresh seeds; every trial
    # is judged again on it, and the good trials are those within the chi-square bound.
    for _, s in records:
        s["search"] = s["total"]  # the value Optuna saw (judged on the pilot's spread)
    lead = min(range(len(records)), key=lambda i: records[i][1]["search"])

    def measured_at(i: int) -> Spread:
        nonlocal total_runs
        if i not in own:
            if own:  # a measurement the plan did not count (the progress bar's total grows)
                total_runs += REFERENCE_SEEDS * REFERENCE_REPLICATES
            own[i] = reference(trial_scenarios[i], REFERENCE, REFERENCE_SEEDS, REFERENCE_REPLICATES)[1]
        return own[i]

    own: dict[int, Spread] = {}
    best, spread = select_best(
        lambda i, sp: score(data, vectors[i], trial_scenarios[i], sp, taste), len(records), lead, measured_at
    )
    for i, (_, s) in enumerate(records):
        s["total"] = score(data, vectors[i], trial_scenarios[i], spread, taste)
    for i, sp in own.items():
        # A trial whose own spread was measured is judged on it (the local approximation at
        # that trial), not on one measured far away, with its normalisation relative to the
        # best's (select_best): the scores stay minus twice one log-likelihood.
        records[i][1]["total"] = score(data, vectors[i], trial_scenarios[i], sp, taste) + sp.log_det - spread.log_det
    draws, cov = parameter_draws(data, params, records, vectors, trial_scenarios, best, spread, taste, seed)
    profiles: dict[str, tuple[float, float]] = {}
    for k, p in enumerate(params):
        if p.key not in PROFILED:
            continue
        # The profile's probes: attention stepped from the best trial's, the rest held, on the
        # trials' seed (common random numbers) and judged on the same spread. The search's
        # trials cluster where it looked, and the best trial's attention often sits off the
        # valley's floor (on 80 synthetic fits a probe scored lower in 27): the steps read the
        # surface where the normal around the best trial would only extrapolate.
        sd = math.sqrt(cov[k, k])
        centre = p.scaled(records[best][0][p.key])
        asked = [{q.key: records[best][0][q.key] for q in params} | {p.key: p.unscaled(centre + z * Z_80 * sd)}
                 for z in PROBES]  # fmt: skip
        scenarios = [build_scenario(data, v, sim_days, seed=seed) for v in asked]
        ensembles = run_batch(scenarios, replicates, seed, parallel=parallel, progress=tick(), should_stop=should_stop)
        done += len(asked) * replicates
        for v, sc, ens in zip(asked, scenarios, ensembles, strict=True):
            vector = trial_vector(data, _stack(ens), sc)
            total = score(data, vector, sc, spread, taste)
            records.append((with_derived(v), {"total": total, "search": total, "probe": True}))
            vectors.append(vector)
            trial_scenarios.append(sc)
        probed = range(len(records) - len(asked), len(records))
        lowest = min([best, *probed], key=lambda i: records[i][1]["total"])
        if lowest != best:  # a probe scores lower: the fit's centre (and the forecast's) moves there
            best = lowest
            draws, cov = parameter_draws(data, params, records, vectors, trial_scenarios, best, spread, taste, seed)
        p10, p90 = np.quantile([d[p.key] for d in draws], [0.1, 0.9])
        profiles[p.field] = profile_interval(
            np.array([r[0][p.key] for r in records]), np.array([r[1]["total"] for r in records]), (p10, p90)
        )
    bound = records[best][1]["total"] + bound_width
    good = sorted(
        (i for i in range(len(records)) if records[i][1]["total"] <= bound), key=lambda i: records[i][1]["total"]
    )
    # The band: a mixture over the values' uncertainty x the process's. Up to FORECAST_SETS
    # draws (the first is the best trial), FORECAST_PER_SEED of them on each fresh seed (its
    # own timeline and crowd): the replicates of one seed all share its timeline, and with
    # one seed the band would inherit its luck.
    sets = max(1, min(FORECAST_SETS, forecast_runs))
    per_set = [forecast_runs // sets + (j < forecast_runs % sets) for j in range(sets)]
    groups = [list(range(j, min(j + FORECAST_PER_SEED, sets))) for j in range(0, sets, FORECAST_PER_SEED)]
    built = [build_scenario(data, draws[j], span, forecast, seed=seed) for j in range(sets)]
    ensembles, run_scenarios = [], []
    for group, s in zip(groups, fresh_seeds(seed, FORECAST, len(groups)), strict=True):
        # One call per run count, so the draws of one seed run side by side (one per core).
        for count in sorted({per_set[j] for j in group}):
            members = [j for j in group if per_set[j] == count]
            ensembles += run_batch(
                [built[j] for j in members], count, s, parallel=parallel, progress=tick(), should_stop=should_stop
            )
            run_scenarios += [built[j] for j in members for _ in range(count)]
            done += count * len(members)
    pooled = {
        k: np.concatenate([_stack(e)[k] for e in ensembles])
        for k in ("followers", "follows", "unfollows", "posts", "likes", "reshares")
    }
    final_scenario = built[0]  # the best trial's

    from coach.fit.report import assemble  # the words and tables, kept apart from the numbers

    return assemble(
        data=data,
        params=params,
        records=records,
        best=best,
        good=good,
        draws=draws,
        pooled=pooled,
        run_scenarios=run_scenarios,
        taste=taste,
        final_scenario=final_scenario,
        forecast=forecast,
        seed=seed,
        trials=trials,
        replicates=replicates,
        seconds=time.perf_counter() - started,
        warnings_out=warnings_out,
        runs=done,
        score_spread=spread,
        profiles=profiles,
    )


__all__ = ["DEFAULT_TRIALS", "FitResult", "build_scenario", "fit", "parameters_for"]
