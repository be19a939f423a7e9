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
   ones, with a variance from the simulated follows and unfollows (over-dispersed, see
   :data:`DISPERSION`) plus a model-error floor; and, where the export counts likes and
   reposts (X), log engagement per post by kind against the simulated.
3. Intervals: the trials whose score is within the 80% likelihood-ratio bound of the best
   (chi-square with one degree of freedom per fitted value, tempered by :data:`TEMPER`,
   calibrated on synthetic accounts) are the *good trials*; each value's p10..p90 is their
   range (a profile-style interval).
4. Forecast and report: a spread of good trials is run again on fresh replicates over the
   history *and* the forecast days in one run each, so the forecast continues the fitted
   crowd as the history left it. Each run's gains and losses after the history's end are
   added to the observed count at its end.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np

from coach.experiments import Progress, StopCheck, run_batch
from coach.fit.data import KINDS, FitError, FitInput
from coach.platforms import PRESETS
from coach.results import quantiles
from coach.scenario import Audience, Habits, Scenario, Segment, TimelineStep, dump_scenario

DEFAULT_TRIALS = 48
TRIAL_REPLICATES = 2  # runs per trial, on the same seeds for every trial
BATCH = 4  # trials asked from Optuna at once (8 runs: both cores busy)
FORECAST_SETS = 8  # good trials re-run for the band
FORECAST_REPLICATES = 4  # fresh replicates per re-run trial
MIN_SIM_DAYS = 28  # with no history span, engagement is fitted on four simulated weeks
# Variance of a simulated follower increment: DISPERSION x (follows + unfollows) plus
# BURST x days x (follows per day)^2, since discovery and reshare cascades make some days
# far busier than others (measured on the engine: variance/total 1.2..9, benchmarks).
DISPERSION = 1.5
BURST = 0.4
MODEL_ERROR_PER_MONTH = 0.01  # relative model error of the follower count per month (random walk)
ENGAGEMENT_MODEL_ERROR = 0.1  # log engagement per post: the model's own error floor
CHI2_80 = {1: 1.642, 2: 3.219, 3: 4.642, 4: 5.989, 5: 7.289}  # chi-square 80% quantiles by degrees
# The good trials lie within TEMPER x the chi-square bound: the score's variance model is
# approximate and each trial's score is itself noisy (two runs), so the plain bound gave
# forecast bands holding the truth in only ~60% of synthetic accounts; x3 gives ~80-90%
# (benchmarks/bench_fit.py). A tempered likelihood, calibrated, not derived.
TEMPER = 3.0
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

    def scaled(self, value: float) -> float:
        """Position in the searched range, 0..1 (in log space for log ranges)."""
        if self.log:
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)


SEGMENT_FIELDS = ("attention", "churn_per_month", "link_appetite", "chat_appetite", "tolerance_posts_per_day")


def parameters_for(data: FitInput) -> list[Parameter]:
    """The values this data can inform (the rest stay assumed)."""
    params = []
    if len(data.history) >= 2:
        top = max(n for _, n in data.history)
        params += [
            Parameter("audience.prospects_per_day", "prospects", 0.5, max(200.0, 3.0 * top), True,
                      "people who come across you per day"),
            Parameter("audience.segments[0].churn_per_month", "churn", 0.002, 0.25, True,
                      "share of followers who drift away per month"),
        ]  # fmt: skip
    if data.engagement:
        params.append(
            Parameter("audience.segments[0].attention", "attention", 0.02, 0.95, False,
                      "chance a follower who is online sees a post")
        )  # fmt: skip
        if "link" in data.engagement and "plain" in data.engagement:
            params.append(
                Parameter("audience.segments[0].link_appetite", "link_appetite", -1.0, 1.0, False,
                          "how much your followers value links (-1 hate, 1 came for them)")
            )  # fmt: skip
    return params


def all_fields() -> list[str]:
    return ["audience.prospects_per_day", "audience.reachable"] + [f"audience.segments[0].{f}" for f in SEGMENT_FIELDS]


# --------------------------------------------------------------------------------------
# Scenarios for candidate values
# --------------------------------------------------------------------------------------


def reachable_for(data: FitInput) -> int:
    return max(20 * max(n for _, n in data.history), 20_000)


def build_scenario(
    data: FitInput, values: dict[str, float], days: int, forecast: int = 0, name: str = "fit trial", seed: int = 7
) -> Scenario:
    """The account from the first history date: its habits by block, then today's habits."""
    defaults = Segment(name=SEGMENT, share=1.0)
    segment = Segment(
        name=SEGMENT,
        share=1.0,
        attention=values.get("attention", defaults.attention),
        churn_per_month=values.get("churn", defaults.churn_per_month),
        link_appetite=values.get("link_appetite", defaults.link_appetite),
    )
    audience = Audience(
        followers=data.history[0][1],
        prospects_per_day=values.get("prospects", Audience().prospects_per_day),
        reachable=reachable_for(data),
        segments=(segment,),
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


# --------------------------------------------------------------------------------------
# The score
# --------------------------------------------------------------------------------------


def kind_ratios(scenario: Scenario, link_appetite: float) -> np.ndarray:
    """Expected likes + reposts per post of each kind relative to a plain post.

    The engine's formulas (coach.engine.World: a follower who sees a post likes it with
    like_probability and reshares it with reshare_probability x the kind's factor; link posts
    reach link_reach as many). Run results do not split engagement by kind, so the total is
    split by these ratios.
    """
    p = scenario.model
    reach = scenario.platform.link_reach
    like, share = p.like_probability, p.reshare_probability
    factor = np.array([1.0, p.link_reshare_boost * (1 + link_appetite) / 2, p.promo_reshare_factor, 0.8])
    out = (like + share * factor) / (like + share)
    out[1] *= reach
    return out


def kind_shares(habits: Habits) -> np.ndarray:
    rest = max(0.0, 1 - habits.link_share - habits.promo_share - habits.question_share)
    return np.array([rest, habits.link_share, habits.promo_share, habits.question_share])


def engagement_per_kind(runs: dict[str, np.ndarray], days: int, shares: np.ndarray, ratios: np.ndarray) -> np.ndarray:
    """(runs x kinds) simulated likes + reposts per post of each kind over the first ``days``."""
    posts = runs["posts"][:, :days].sum(axis=1)
    total = (runs["likes"][:, :days] + runs["reshares"][:, :days]).sum(axis=1) / np.maximum(posts, 1)
    base = total / max(float(shares @ ratios), 1e-12)
    return base[:, None] * ratios[None, :]


def score(data: FitInput, runs: dict[str, np.ndarray], link_appetite: float, scenario: Scenario) -> dict[str, float]:
    """Minus twice the log-likelihood (up to a constant), split into its parts."""
    day0 = data.history[0][0]
    idx = [(d - day0).days for d, _ in data.history]
    obs = np.array([n for _, n in data.history], dtype=float)
    followers, moves = runs["followers"], runs["follows"] + runs["unfollows"]
    reps = followers.shape[0]
    level = np.concatenate([np.full((reps, 1), obs[0]), followers], axis=1)  # column t = end of day t
    cum_moves = np.concatenate([np.zeros((reps, 1)), np.cumsum(moves, axis=1)], axis=1)
    cum_follows = np.concatenate([np.zeros((reps, 1)), np.cumsum(runs["follows"], axis=1)], axis=1)
    f_part = 0.0
    for i in range(1, len(idx)):
        a, b = idx[i - 1], idx[i]
        n = max(b - a, 1)
        step_sim = level[:, b] - level[:, a]
        tot = float(np.mean(cum_moves[:, b] - cum_moves[:, a]))
        per_day = float(np.mean(cum_follows[:, b] - cum_follows[:, a])) / n
        var = (DISPERSION * tot + BURST * n * per_day**2) * (1 + 1 / reps)
        var += (MODEL_ERROR_PER_MONTH * obs[i]) ** 2 * n / 30 + 1.0
        f_part += (float(np.mean(step_sim)) - (obs[i] - obs[i - 1])) ** 2 / var
    e_part = 0.0
    if data.engagement:
        days = max(idx[-1], 1) if idx[-1] > 0 else followers.shape[1]
        sim = engagement_per_kind(runs, days, kind_shares(data.habits), kind_ratios(scenario, link_appetite))
        mean = sim.mean(axis=0)
        for kind, seen in data.engagement.items():
            k = KINDS.index(kind)
            if seen.mean <= 0:
                continue
            var = seen.log_se() ** 2 + ENGAGEMENT_MODEL_ERROR**2
            e_part += (math.log(max(mean[k], 1e-3)) - math.log(seen.mean)) ** 2 / var
    return {"total": f_part + e_part, "followers": f_part, "engagement": e_part}


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
    params = parameters_for(data)
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

    def tick(runs: int) -> Callable[[int, int], None] | None:
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
    records: list[tuple[dict[str, float], dict[str, float]]] = []
    while len(records) < trials:
        batch = [study.ask() for _ in range(min(BATCH, trials - len(records)))]
        values = [{p.key: t.suggest_float(p.key, p.low, p.high, log=p.log) for p in params} for t in batch]
        scenarios = [build_scenario(data, v, sim_days, seed=seed) for v in values]
        ensembles = run_batch(
            scenarios,
            replicates,
            seed,
            parallel=parallel,
            progress=tick(len(batch) * replicates),
            should_stop=should_stop,
        )
        done += len(batch) * replicates
        for trial, v, sc, ens in zip(batch, values, scenarios, ensembles, strict=True):
            s = score(data, _stack(ens), v.get("link_appetite", 0.0), sc)
            study.tell(trial, s["total"])
            records.append((v, s))

    best = min(range(len(records)), key=lambda i: records[i][1]["total"])
    bound = records[best][1]["total"] + TEMPER * CHI2_80.get(len(params), 7.289 + 1.3 * (len(params) - 5))
    good = sorted(
        (i for i in range(len(records)) if records[i][1]["total"] <= bound), key=lambda i: records[i][1]["total"]
    )
    sets = max(1, min(FORECAST_SETS, forecast_runs // 2))
    picks = [good[round(j * (len(good) - 1) / max(sets - 1, 1))] for j in range(sets)] if len(good) > 1 else [best]
    picks = list(dict.fromkeys(picks))
    per_set = max(1, round(forecast_runs / len(picks)))
    final = [build_scenario(data, records[i][0], span, forecast, seed=seed) for i in picks]
    fresh = list(range(replicates, replicates + per_set))
    total_runs = done + len(final) * per_set
    ensembles = run_batch(
        final, fresh, seed, parallel=parallel, progress=tick(len(final) * per_set), should_stop=should_stop
    )
    pooled = {
        k: np.concatenate([_stack(e)[k] for e in ensembles])
        for k in ("followers", "follows", "unfollows", "posts", "likes", "reshares")
    }
    link_values = np.repeat([records[i][0].get("link_appetite", 0.0) for i in picks], per_set)

    from coach.fit.report import assemble  # the words and tables, kept apart from the numbers

    return assemble(
        data=data,
        params=params,
        records=records,
        best=best,
        good=good,
        pooled=pooled,
        link_values=link_values,
        final_scenario=final[0],
        forecast=forecast,
        seed=seed,
        trials=trials,
        replicates=replicates,
        seconds=time.perf_counter() - started,
        warnings_out=warnings_out,
        runs=done + len(final) * per_set,
    )


def day_dates(data: FitInput, count: int) -> list[str]:
    day0 = data.history[0][0]
    return [(day0 + timedelta(days=k)).isoformat() for k in range(1, count + 1)]


__all__ = ["DEFAULT_TRIALS", "FitResult", "build_scenario", "fit", "parameters_for", "quantiles"]
