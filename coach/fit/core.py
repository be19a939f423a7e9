"""The fit: Optuna over the simulator on paired seeds, intervals from the good trials, a forecast.

How it works (docs/fitting.md says it in plain words):

1. Every trial is a scenario with the account's own habits block by block (the timeline the
   archive shows) and candidate audience values, simulated from the first history date to
   the last through :func:`coach.experiments.run_batch`. All trials run on the same seed and
   replicate indices (common random numbers), so two candidates differ by their values, not
   by their luck; trials are asked from Optuna's TPE sampler in small batches so both cores
   stay busy.
2. The score is minus twice a log-likelihood: follower *increments* between observed dates
   (a random walk's steps are nearly independent, its levels are not) against the simulated
   ones, with a variance estimated from the observed data (:func:`step_variance`, the same
   for every candidate); and, where the export counts likes and reposts (X), log engagement
   per post by kind against the simulated (split by kind with :mod:`coach.fit.kinds`). Both
   are tempered by :data:`TEMPER`. Where reposts per like of link vs plain posts can read the
   followers' average link appetite (:func:`link_taste`), an untempered third part compares
   them, and the crowd is two parts (link-keen and the rest: :func:`with_derived`).
3. Intervals: the trials whose score is within the 80% likelihood-ratio bound of the best
   (chi-square with one degree of freedom per fitted value, :func:`chi2_bound`; the tempered
   parts may thus lie TEMPER times as far, calibrated on synthetic accounts) are the *good
   trials*; each value's p10..p90 is their range (a profile-style interval).
4. Forecast and report: a spread of good trials is run again on fresh replicates over the
   history *and* the forecast days in one run each, so the forecast continues the fitted
   crowd as the history left it. Each run's gains and losses after the history's end are
   added to the observed count at its end.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coach.experiments import Progress, StopCheck, run_batch
from coach.fit.data import KINDS, FitError, FitInput
from coach.fit.kinds import kind_shares, link_repost_log_ratio, per_post, split
from coach.platforms import PRESETS
from coach.scenario import Audience, Scenario, Segment, TimelineStep, dump_scenario

DEFAULT_TRIALS = 48
TRIAL_REPLICATES = 2  # runs per trial, on the same seeds for every trial
BATCH = 4  # trials asked from Optuna at once (8 runs: both cores busy)
EXPLORE_SHARE = 0.5  # the first half of the trials is Optuna's alone; then half of each batch refines
LOCAL_STEP = 0.06  # refinement steps: this share of each searched range (in log space for log ranges)
FORECAST_SETS = 8  # good trials re-run for the band
FORECAST_REPLICATES = 4  # fresh replicates per re-run trial
MIN_SIM_DAYS = 28  # with no history span, engagement is fitted on four simulated weeks
# Variance of a simulated follower increment: DISPERSION x (follows + unfollows) plus
# BURST x days x (follows per day)^2, since discovery and reshare cascades make some days
# far busier than others (measured on the engine: variance/total 1.2..9, benchmarks).
DISPERSION = 1.0
BURST = 0.4
TURNOVER_PER_MONTH = 0.015  # background follows and unfollows each way, share of the count per month (E:A12)
MODEL_ERROR_PER_MONTH = 0.01  # relative model error of the follower count per month (random walk)
ENGAGEMENT_MODEL_ERROR = 0.1  # log engagement per post: the model's own error floor
CHI2_80 = {1: 1.642, 2: 3.219, 3: 4.642, 4: 5.989, 5: 7.289}  # chi-square 80% quantiles by degrees
# The good trials lie within TEMPER x the chi-square bound. The score treats the steps
# between observed dates as independent, but a run that is ahead tends to stay ahead (the
# crowd it has drives its growth), and all trials share two runs of luck; so the plain bound
# is far too confident: forecast bands held the truth at held-out dates in ~40% of synthetic
# accounts, x3 in ~65%, x6 ~80%, x15 ~90% (10 accounts each, the engine of the first fit);
# on the engine of 1 Dec 2026 x15 holds 65-80% and x20 70-94% (docs/fitting.md, "How the
# factor 15 was calibrated"; re-run: benchmarks/bench_fit.py --temper 15,20,30).
# A tempered likelihood, calibrated on the engine's own accounts, not derived.
TEMPER = 15.0
CORRELATED = 0.7  # |correlation| of two values over the good trials that is called a trade-off
WIDE = 0.5  # an interval covering this share of the searched range is "not pinned down"
SEGMENT = "your_followers"


@dataclass(frozen=True)
class Parameter:
    field: str  # the scenario path reported in ``fitted`` / ``assumed``
    key: str  # the short name used in trials
    low: float
    high: float
    log: bool
    words: str  # what it means, for the report

    def near(self, value: float, rng: np.random.Generator) -> float:
        """A random value near ``value``: a normal step of LOCAL_STEP of the range (log for log ranges)."""
        lo, hi = (math.log(self.low), math.log(self.high)) if self.log else (self.low, self.high)
        x = (math.log(value) if self.log else value) + rng.normal(0.0, LOCAL_STEP * (hi - lo))
        x = min(max(x, lo), hi)
        return min(max(math.exp(x) if self.log else x, self.low), self.high)

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
                      "people who come across you per day"),
            Parameter("audience.segments[0].churn_per_month", "churn", 0.002, 0.15, True,
                      "share of followers who drift away per month"),
        ]  # fmt: skip
    if data.engagement:
        params.append(
            Parameter("audience.segments[0].attention", "attention", 0.02, 0.95, False,
                      "chance a follower who is online sees a post")
        )  # fmt: skip
        taste = taste or link_taste(data)
        if taste.reason is None:
            params += [
                Parameter("", "link_appetite", taste.low, taste.high, False,
                          "your followers' average taste for links (-1 hate, 1 came for them)"),
                Parameter("audience.segments[0].share", "mix", 0.05, 0.95, False,
                          "the share of your followers who are keener on links"),
                Parameter("", "polarity", 0.0, 1.0, False,
                          "how far apart the two parts' tastes for links are (0: one middling crowd)"),
            ]  # fmt: skip
    return params


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


def pilot_attention(data: FitInput, ensemble: Any, attention: float) -> float:
    """The attention at which the pilot's likes + reposts per post would match the observed.

    Likes and reposts scale with the followers who see a post: attention x followers. So the
    pilot's attention is scaled by observed / simulated engagement and by simulated /
    observed mean followers over the window (the pilot's crowd grows at default rates).
    """
    runs = _stack(ensemble)
    days = runs["followers"].shape[1]
    sim = engagement_per_kind(runs, days, ensemble.scenario, kind_shares(data.habits)).mean(axis=0)
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


def step_variance(step: float, level: float, days: int, reps: int) -> float:
    """Variance of a follower increment over ``days`` days, from the *observed* data.

    Over-dispersed counting noise: DISPERSION x (follows + unfollows) plus BURST x days x
    (follows per day)^2, with the moves estimated from the observed step and a background
    turnover of TURNOVER_PER_MONTH of the count each way; plus the mean of ``reps`` runs'
    own noise and a model-error floor. It does not depend on the candidate: a variance that
    grew with the candidate's turnover would let high-churn, high-inflow candidates miss
    more cheaply (and a log-variance term to stop that biases the fit the other way when the
    variance model is off), so every candidate is judged on the same scale.
    """
    n = max(days, 1)
    moves = abs(step) + 2 * TURNOVER_PER_MONTH * level * n / 30
    follows_per_day = (max(step, 0.0) + TURNOVER_PER_MONTH * level * n / 30) / n
    var = (DISPERSION * moves + BURST * n * follows_per_day**2) * (1 + 1 / reps)
    return var + (MODEL_ERROR_PER_MONTH * level) ** 2 * n / 30 + 1.0


def score(
    data: FitInput, runs: dict[str, np.ndarray], scenario: Scenario, taste: LinkTaste | None = None
) -> dict[str, float]:
    """Minus twice the log-likelihood (up to a constant), split into its parts.

    ``total`` = (followers + engagement) / TEMPER + taste: the follower and engagement-level
    parts are tempered (see TEMPER), the link-taste part is not — it compares counts of
    independent posts with their own scatter, and involves no simulated luck at all.
    """
    day0 = data.history[0][0]
    idx = [(d - day0).days for d, _ in data.history]
    obs = np.array([n for _, n in data.history], dtype=float)
    followers = runs["followers"]
    reps = followers.shape[0]
    level = np.concatenate([np.full((reps, 1), obs[0]), followers], axis=1)  # column t = end of day t
    f_part = 0.0
    for i in range(1, len(idx)):
        a, b = idx[i - 1], idx[i]
        step_sim = float(np.mean(level[:, b] - level[:, a]))
        step_obs = obs[i] - obs[i - 1]
        f_part += (step_sim - step_obs) ** 2 / step_variance(step_obs, obs[i], b - a, reps)
    e_part = 0.0
    if data.engagement:
        days = max(idx[-1], 1) if idx[-1] > 0 else followers.shape[1]
        sim = engagement_per_kind(runs, days, scenario, kind_shares(data.habits))
        mean = sim.mean(axis=0)
        for kind, seen in data.engagement.items():
            k = KINDS.index(kind)
            if seen.mean <= 0:
                continue
            var = seen.log_se() ** 2 + ENGAGEMENT_MODEL_ERROR**2
            e_part += (math.log(max(mean[k], 1e-3)) - math.log(seen.mean)) ** 2 / var
    t_part = taste_term(taste, scenario)
    return {"total": (f_part + e_part) / TEMPER + t_part, "followers": f_part, "engagement": e_part, "taste": t_part}


def chi2_bound(params: list[Parameter]) -> float:
    """How far above the best (tempered) score a good trial may lie: the 80% chi-square bound.

    One degree of freedom per value the data inform; the mix and the polarity (FLAT) add
    none, since engagement cannot see them at all (their profile is flat), and counting them
    would widen every other interval for directions the data do not constrain.
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
    forecast_runs: int = FORECAST_SETS * FORECAST_REPLICATES,
) -> FitResult:
    """Fit the audience to the data; forecast ``forecast`` days on from the history's end.

    ``forecast_runs`` runs (spread over up to FORECAST_SETS good trials) make the bands.
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
        raise FitError(
            "nothing to fit: the follower history has one date and the export has no likes or reposts per post. "
            "Give a follower history with two or more dates (--history, or typed-in counts), or an X archive"
        )
    span = data.span_days
    warnings_out = list(data.warnings)
    if span + forecast > 730:
        raise FitError(
            f"the history spans {span} days and the forecast {forecast}; allowed: at most 730 days together "
            "(use --since or a shorter history, or a shorter --forecast)"
        )
    sim_days = max(span, MIN_SIM_DAYS)
    total_runs = trials * replicates + forecast_runs
    done = 0

    def tick() -> Callable[[int, int], None] | None:
        """A progress callback for the next batch, counting on from the runs done before it."""
        if progress is None:
            return None
        offset = done

        def update(k: int, _: int) -> None:
            progress(offset + k, total_runs)

        return update

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
    if any(p.key == "attention" for p in params):
        # Engagement per post pins attention far more sharply than follower counts pin the
        # rest; searched over its whole range, TPE spends its trials finding that narrow
        # valley. A pilot run (the default audience) scales attention to the observed
        # engagement first, and the search then stays within x0.5..x2 of it.
        pilot = build_scenario(data, {**default, "attention": default["attention"]}, sim_days, seed=seed)
        guess = pilot_attention(data, run_batch([pilot], replicates, seed, parallel=parallel)[0], default["attention"])
        default["attention"] = guess
        params = [
            Parameter(p.field, p.key, max(0.005, guess / 2), min(1.0, guess * 2), True, p.words)
            if p.key == "attention"
            else p
            for p in params
        ]
    study.enqueue_trial({p.key: min(max(default[p.key], p.low), p.high) for p in params})
    records: list[tuple[dict[str, float], dict[str, float]]] = []
    local = np.random.default_rng(seed)
    while len(records) < trials:
        size = min(BATCH, trials - len(records))
        if len(records) >= trials * EXPLORE_SHARE:
            # Refine: half of each batch are small steps around the best trial so far, so the
            # good region is found precisely and populated (the intervals are its spread).
            lead, lead_score = min(records, key=lambda r: r[1]["total"])
            study.enqueue_trial({p.key: p.near(lead[p.key], local) for p in params})
            if size > 1 and "churn" in lead:
                study.enqueue_trial(along_ridge(lead, lead_score, params, local))
        batch = [study.ask() for _ in range(size)]
        values = [{p.key: t.suggest_float(p.key, p.low, p.high, log=p.log) for p in params} for t in batch]
        scenarios = [build_scenario(data, v, sim_days, seed=seed) for v in values]
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
            s = score(data, stacked, sc, taste)
            # What a ridge step needs: this candidate's follows per day and mean followers.
            s["follows_per_day"] = float(stacked["follows"].mean())
            s["mean_followers"] = float(stacked["followers"].mean())
            study.tell(trial, s["total"])
            records.append((with_derived(v), s))

    best = min(range(len(records)), key=lambda i: records[i][1]["total"])
    bound = records[best][1]["total"] + chi2_bound(params)
    good = sorted(
        (i for i in range(len(records)) if records[i][1]["total"] <= bound), key=lambda i: records[i][1]["total"]
    )
    # Every forecast run gets its own fresh replicate: shared ones would leave the pooled
    # band only a few distinct runs of luck, far too narrow for the process's noise.
    # Up to FORECAST_SETS good trials, spread evenly from the best to the worst of them,
    # share the runs: the band then spans the good region (weights by likelihood would
    # crowd it onto the best few, and the trials' shared luck makes those biased together).
    sets = max(1, min(FORECAST_SETS, forecast_runs // 2, len(good)))
    chosen = [good[round(j * (len(good) - 1) / max(sets - 1, 1))] for j in range(sets)]
    drawn = np.array([chosen[k % len(chosen)] for k in range(forecast_runs)])
    picks, counts = np.unique(drawn, return_counts=True)
    final = [build_scenario(data, records[int(i)][0], span, forecast, seed=seed) for i in picks]
    total_runs = done + forecast_runs
    ensembles = []
    first = replicates
    for scenario, count in zip(final, counts.tolist(), strict=True):
        fresh = list(range(first, first + count))
        first += count
        ensembles += run_batch([scenario], fresh, seed, parallel=parallel, progress=tick(), should_stop=should_stop)
        done += count
    pooled = {
        k: np.concatenate([_stack(e)[k] for e in ensembles])
        for k in ("followers", "follows", "unfollows", "posts", "likes", "reshares")
    }
    run_scenarios = [sc for sc, count in zip(final, counts.tolist(), strict=True) for _ in range(count)]

    from coach.fit.report import assemble  # the words and tables, kept apart from the numbers

    return assemble(
        data=data,
        params=params,
        records=records,
        best=best,
        good=good,
        pooled=pooled,
        run_scenarios=run_scenarios,
        taste=taste,
        final_scenario=final[0],
        forecast=forecast,
        seed=seed,
        trials=trials,
        replicates=replicates,
        seconds=time.perf_counter() - started,
        warnings_out=warnings_out,
        runs=done,
    )


__all__ = ["DEFAULT_TRIALS", "FitResult", "build_scenario", "fit", "parameters_for"]
