"""The coach: what is going wrong, what to change, and what the change is expected to buy.

``advise(scenario, budget_minutes)`` runs the scenario, diagnoses it (:mod:`coach.diagnosis`)
and searches the habits of a declared space (:mod:`coach.search`) for better ones within a
time budget. Every candidate runs on the same seed and replicate indices as the current
habits, so its gain is a paired difference, replicate by replicate. The coach changes the
starting habits; a scenario's timeline (the person's own plan) still applies from its days on.

Honesty rules, each with its reason:

* **Fresh replicates for the verdict.** The best of many noisy candidates looks better than
  it is (the winner's curse), so the finalists and the current habits run again on
  replicates the search never saw (indices ``R .. 2R-1``), and only those runs give a
  suggestion's numbers.
* **A meaningful gain** is a median gain of at least ``max(5 followers, 1% of the starting
  followers)`` that wins in at least 3 of 4 paired runs. When no change passes, the coach
  says the habits are already near the best the model can find.
* **Budgets are strict.** A suggestion's simulated median minutes a day (replying costs
  time, and more posts bring more replies) is at most the budget. Default budget: the
  current simulated minutes a day × 1.25 or + 10 minutes, whichever is more, so a light
  user may try a little more and a heavy one a quarter more.
* **As many search runs as the noise needs.** A large audience's paired gains vary little
  from run to run next to its meaningful gain, so the search need not run every candidate
  ``replicates`` times to rank it. From :data:`PILOT_FOLLOWERS` followers the probes run
  first on :data:`PILOT_REPLICATES` replicates; their paired gains' pooled spread ``s`` sets
  the search's replicates to the fewest that keep a candidate's standard error
  ``s / sqrt(n)`` within :data:`PRECISION` x the meaningful gain (at least the pilot's, at
  most ``replicates``), and the probes then run on the replicates they lack. Below it a
  pilot does not pay: small audiences' gains are noisy (all but one bundled persona under
  2,500 followers needed every replicate), and an extra batch per probe costs more than
  their runs. The verdict always has ``replicates`` fresh runs.
* **Simple first.** A two-habit change is only put forward when it beats the best single
  change of its habits by a meaningful gain too, and of the values of one habit the
  search cannot tell apart (within that gain of the best), the one nearest today's is put
  forward.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coach.diagnosis import Finding, diagnose
from coach.experiments import (
    PARALLEL_ABOVE_SECONDS,
    Progress,
    StopCheck,
    pool_running,
    run_batch,
    worker_count,
    workers_can_start,
)
from coach.messages import counted
from coach.results import INTERVAL_RUNS, Ensemble, few_runs, quantiles
from coach.scenario import Scenario
from coach.search import (
    ADVICE_REPLICATES,
    PILOT_FOLLOWERS,
    Candidate,
    Outcome,
    Point,
    SearchResult,
    pointwise,
    probes_of,
    rank_key,
    search,
)
from coach.space import DEFAULT_SPACE, Dimension, SearchSpace

BUDGET_FACTOR, BUDGET_EXTRA_MINUTES = 1.25, 10.0
BUDGET_HEADROOM_SHARE, BUDGET_HEADROOM_MINUTES = 0.02, 0.5  # kept free in the search (see _headroom)
MIN_GAIN_FOLLOWERS, MIN_GAIN_SHARE = 5.0, 0.01
WIN_SHARE = 0.75  # share of paired fresh runs a suggestion must win
SEARCH_WIN_SHARE = 0.6  # share of paired search runs a change must win to be followed up
FINALISTS = 3  # candidates checked on fresh replicates
MAX_SUGGESTIONS = 3
ESTIMATE_SLACK = 1.25  # candidates estimated above budget x this (+1 min) are not simulated
PILOT_REPLICATES = 2  # search replicates of the probes before the paired noise is measured
PRECISION = 0.25  # a candidate's paired gain: standard error at most this share of the meaningful gain

__all__ = [
    "DEFAULT_SPACE",
    "Advice",
    "Dimension",
    "Finding",
    "SearchSpace",
    "SensitivityRow",
    "Suggestion",
    "advise",
    "default_budget",
    "diagnose",
    "pointwise",
    "search",
    "sensitivity",
    "suggest",
    "variant",
]


@dataclass(frozen=True)
class Suggestion:
    """A change of one or two habits, what it buys (paired, fresh replicates) and what it costs."""

    changes: dict[str, float]
    followers_end: dict[str, float]
    gain: dict[str, float]
    minutes_per_day: float
    minutes_change: float
    wins: float  # share of paired runs in which it beat the current habits
    text: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class SensitivityRow:
    """One realistic step down and up of one habit (a bar of the tornado chart)."""

    habit: str
    current: float
    low: dict[str, Any] | None  # {"value", "gain": {median, p10, p90}, "minutes_per_day"}; None: no step possible
    high: dict[str, Any] | None

    @property
    def swing(self) -> float:
        return max((abs(side["gain"]["median"]) for side in (self.low, self.high) if side), default=0.0)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Advice:
    """Everything ``coach advise`` prints: the baseline, findings, suggestions and sensitivity."""

    baseline: Ensemble
    budget_minutes_per_day: float
    diagnosis: list[Finding]
    suggestions: list[Suggestion]
    sensitivity: list[SensitivityRow]
    near_best: bool
    message: str
    replicates: int  # fresh runs of the verdict per finalist, and most search runs per candidate
    min_gain: float
    candidates_evaluated: int
    search_replicates: int = 0  # runs per candidate in the search (fewer than replicates when the noise allows)
    space: SearchSpace = field(default=DEFAULT_SPACE, repr=False)
    search_result: SearchResult | None = field(default=None, repr=False)  # every candidate, for a closer look

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``coach advise --format json``."""
        summary = self.baseline.summary()
        return {
            "scenario": self.baseline.scenario.name,
            "days": self.baseline.days,
            "seed": self.baseline.seed,
            "replicates": self.replicates,
            "baseline_runs": self.baseline.replicates,
            "version": self.baseline.version,
            "baseline": summary,
            "budget_minutes_per_day": round(self.budget_minutes_per_day, 1),
            "diagnosis": [f.to_dict() for f in self.diagnosis],
            "suggestions": [s.to_dict() for s in self.suggestions],
            "near_best": self.near_best,
            "message": self.message,
            "sensitivity": [row.to_dict() for row in self.sensitivity],
            "search": {
                "candidates_evaluated": self.candidates_evaluated,
                "replicates": self.search_replicates,
                "min_gain": self.min_gain,
                "win_share": WIN_SHARE,
                "space": [d.to_dict() for d in self.space],
            },
        }


def default_budget(minutes_per_day: float) -> float:
    """The budget when none is given: current minutes × 1.25 or + 10, whichever is more."""
    return max(minutes_per_day * BUDGET_FACTOR, minutes_per_day + BUDGET_EXTRA_MINUTES)


def _headroom(budget: float) -> float:
    """Minutes kept free in the search, so that a finalist does not miss the budget on its
    fresh runs by a hair (simulated minutes vary with the replies that come in)."""
    return max(BUDGET_HEADROOM_MINUTES, BUDGET_HEADROOM_SHARE * budget)


def min_gain(followers_start: int) -> float:
    """The smallest median gain (followers) that counts as meaningful."""
    return max(MIN_GAIN_FOLLOWERS, MIN_GAIN_SHARE * followers_start)


# --------------------------------------------------------------------------------------
# Running candidates on shared seeds
# --------------------------------------------------------------------------------------


class _Trial:
    """Runs habit variants of one scenario on shared seeds and counts runs for one progress bar."""

    def __init__(
        self,
        scenario: Scenario,
        space: SearchSpace,
        replicates: int,
        seed: int,
        progress: Progress | None,
        *,
        verdict: bool = True,
        should_stop: StopCheck | None = None,
    ):
        self.scenario, self.replicates, self.seed = scenario, replicates, seed
        self.should_stop = should_stop  # a time budget (the app's Coach tab); RunCancelled when spent
        self.search_reps = range(replicates)  # fewer once the probes' noise is known (settle_replicates)
        self.fresh_reps = range(replicates, 2 * replicates)
        self.progress = progress
        self.done = 0
        # A typical count, raised whenever a batch would pass it and exact once the verdict
        # (the last batch, on fresh replicates) starts. Advice: the baseline, probes and far
        # probes, a few line steps and pairs, then the verdict; sensitivity: the probes only.
        self.reserve = replicates * (1 + FINALISTS) if verdict else 0  # runs kept for the verdict
        searched = 1 + 3 * len(space) + 8 if verdict else 1 + 2 * len(space)
        self.total = replicates * searched + self.reserve
        self.cache: dict[tuple[tuple[str, float], ...], Ensemble] = {}
        # Decided after the first batch, from its measured time; but when the worker pool was
        # started for this advice (`coach advise`, the app), the first batch goes there too: this
        # process then never loads the compiled engine (about a second of a core, and the pool's
        # server is loading it on the other meanwhile).
        self.parallel: bool | None = True if pool_running() else None

    def _tick_to(self, done: int) -> None:
        self.done = done
        if self.progress:
            self.progress(self.done, self.total)

    def finish(self) -> None:
        if self.progress:
            self.progress(self.done, self.done)

    def run(self, points: Sequence[Point], reps: range) -> list[Ensemble]:
        """Every run of every point in one batch; the pool is used once the whole advice looks long enough."""
        scenarios = [variant(self.scenario, point) for point in points]
        batch = len(scenarios) * len(reps)
        if reps == self.fresh_reps:  # the verdict: the last batch, so the total is now known
            self.total = self.done + batch
        else:
            self.total = max(self.total, self.done + batch + self.reserve)
        started = time.perf_counter()
        base = self.done  # run_batch counts this batch's finished runs (several at a time)
        out = run_batch(
            scenarios,
            reps,
            self.seed,
            parallel=self.parallel,
            progress=lambda d, _t: self._tick_to(base + d),
            should_stop=self.should_stop,
        )
        if self.parallel is None:
            per_run = (time.perf_counter() - started) / batch
            self.parallel = worker_count() > 1 and per_run * self.total > PARALLEL_ABOVE_SECONDS and workers_can_start()
        return out

    def objective(self, points: Sequence[Point]) -> list[Outcome]:
        """Followers at the horizon per search replicate; cost = median simulated minutes a day."""
        keys = [_key(p) for p in points]
        todo = [p for p, k in zip(points, keys, strict=True) if k not in self.cache]
        for p, ensemble in zip(todo, self.run(todo, self.search_reps) if todo else [], strict=True):
            self.cache[_key(p)] = ensemble
        return [_outcome(self.cache[k], len(self.search_reps)) for k in keys]

    def settle_replicates(self, start: Point, probes: Sequence[Point], threshold: float) -> None:
        """Run ``probes`` on the pilot's replicates and keep as many search replicates as their noise needs.

        ``start`` has run on every search replicate already. The paired gains of the probes
        over it give a pooled spread (one degree of freedom per probe); the search keeps the
        fewest replicates whose standard error stays within ``PRECISION x threshold``. Then
        the probes run on the replicates they lack: replicate ``r`` is the same run in any
        batch, so they are as if run on all of them at once.
        """
        pilot = range(min(PILOT_REPLICATES, self.replicates))
        todo = [p for p in probes if _key(p) not in self.cache]
        if len(pilot) >= self.replicates or len(pilot) < 2 or not todo:
            return
        base = self.cache[_key(start)].values("followers_end")[: len(pilot)]
        ensembles = self.run(todo, pilot)
        gains = np.array([e.values("followers_end") - base for e in ensembles])
        spread = float(np.sqrt(np.mean(np.var(gains, axis=1, ddof=1))))
        needed = math.ceil((spread / (PRECISION * threshold)) ** 2) if threshold > 0 else self.replicates
        self.search_reps = range(min(self.replicates, max(len(pilot), needed)))
        rest = range(len(pilot), len(self.search_reps))
        more = self.run(todo, rest) if len(rest) else [None] * len(todo)
        for p, ensemble, extra in zip(todo, ensembles, more, strict=True):
            runs = list(ensemble.runs) + (list(extra.runs) if extra is not None else [])
            self.cache[_key(p)] = Ensemble(scenario=ensemble.scenario, seed=ensemble.seed, runs=runs)
        # The count to expect: every candidate to come on the replicates kept.
        self.total = max(self.done + self.reserve, self.total * len(self.search_reps) // self.replicates)


def _key(point: Point) -> tuple[tuple[str, float], ...]:
    return tuple(sorted(point.items()))


def _outcome(ensemble: Ensemble, replicates: int) -> Outcome:
    """The first ``replicates`` runs' followers at the horizon (paired by replicate) and median minutes."""
    runs = Ensemble(scenario=ensemble.scenario, seed=ensemble.seed, runs=list(ensemble.runs[:replicates]))
    return Outcome(runs.values("followers_end"), float(np.median(runs.values("minutes_per_day"))), ensemble)


def _start_point(scenario: Scenario, space: SearchSpace) -> Point:
    return {d.habit: d.coerce(getattr(scenario.habits, d.habit)) for d in space}


def variant(scenario: Scenario, point: Point) -> Scenario:
    """The scenario with these habit values from day 1 (validated).

    A scenario's timeline is the person's own plan, so its later steps still apply: the
    coach changes today's habits, not the plan. The whole schedule is validated, since a
    new value may not fit a later step (links in 90% of posts, then questions in 20%).
    Raises ValueError (pydantic's ValidationError) when the result is invalid.
    """
    out = scenario.with_habits(**point)
    if scenario.timeline:
        out.habit_schedule()  # raises ValueError when a later step no longer fits
    return out


def _valid(scenario: Scenario) -> Callable[[Point], bool]:
    def valid(point: Point) -> bool:
        try:
            variant(scenario, point)
        except ValueError:  # pydantic's ValidationError is a ValueError
            return False
        return True

    return valid


def _worth_trying(scenario: Scenario, baseline: Ensemble, budget: float) -> Callable[[Point], bool]:
    """A cheap minutes estimate, to skip candidates that could not fit the budget anyway.

    Replies received scale with posts and with the share of questions (which draw more
    replies); answering them and outreach cost ``minutes_per_reply`` each. The simulation
    has the last word: this only saves runs.
    """
    h = scenario.habits
    posts = float(np.median(baseline.values("posts_per_day")))
    received = float(np.median(baseline.values("replies_received_per_day")))
    per_post = received / posts if posts > 0 else 0.0
    boost = scenario.model.question_reply_boost - 1

    def worth(point: Point) -> bool:
        c = {**h.model_dump(), **point}
        mix = (1 + boost * c["question_share"]) / (1 + boost * h.question_share)
        answered = per_post * c["posts_per_day"] * mix * c["reply_rate"]
        minutes = (
            c["posts_per_day"] * c["minutes_per_post"] + (answered + c["outreach_per_day"]) * c["minutes_per_reply"]
        )
        return minutes <= budget * ESTIMATE_SLACK + 1.0

    return worth


# --------------------------------------------------------------------------------------
# The coach
# --------------------------------------------------------------------------------------


def advise(
    scenario: Scenario,
    budget_minutes: float | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    *,
    space: SearchSpace = DEFAULT_SPACE,
    should_stop: StopCheck | None = None,
) -> Advice:
    """Diagnose ``scenario`` and search ``space`` for habit changes that gain followers within the budget.

    Args:
        scenario: the account as it is.
        budget_minutes: minutes a day the person can spend; None: see :func:`default_budget`.
        replicates: runs per candidate (default ``ADVICE_REPLICATES``, not the scenario's
            own ``replicates``, which is sized for one run, not for dozens of candidates).
        seed: default: the scenario's.
        progress: called as ``progress(runs done, runs expected)``.
        space: the habits to tune (data; see :data:`DEFAULT_SPACE`).
        should_stop: asked between runs (and once per simulated day in this process); True
            stops the coach with :class:`coach.engine.RunCancelled` (a time budget).
    """
    replicates = ADVICE_REPLICATES if replicates is None else int(replicates)
    if replicates < 1:
        raise ValueError("replicates must be at least 1")
    if budget_minutes is not None and not (np.isfinite(budget_minutes) and budget_minutes >= 0):
        raise ValueError(f"budget_minutes must be a number of minutes >= 0, got {budget_minutes!r}")
    seed = scenario.seed if seed is None else seed
    trial = _Trial(scenario, space, replicates, seed, progress, should_stop=should_stop)
    start = _start_point(scenario, space)
    first = trial.objective([start])[0].detail
    current_minutes = float(np.median(first.values("minutes_per_day")))
    budget = default_budget(current_minutes) if budget_minutes is None else float(budget_minutes)

    threshold = min_gain(scenario.audience.followers)
    _settle(trial, scenario, space, start)
    result = search(
        space, start, trial.objective, budget=budget - _headroom(budget), valid=_valid(scenario),
        worth_trying=_worth_trying(scenario, first, budget), min_improvement=threshold, min_wins=SEARCH_WIN_SHARE, climb_rounds=1,
    )  # fmt: skip
    over_budget = current_minutes > budget
    finalists = _finalists(result, threshold, over_budget)
    fresh = trial.run([start] + [c.point for c in finalists], trial.fresh_reps)
    trial.finish()

    baseline = Ensemble(scenario=scenario, seed=seed, runs=list(first.runs) + list(fresh[0].runs))
    suggestions, runner_up = _verdicts(scenario, space, finalists, fresh, budget, threshold, over_budget)
    near_best = not suggestions and not over_budget
    return Advice(
        baseline=baseline,
        budget_minutes_per_day=budget,
        diagnosis=diagnose(baseline),
        suggestions=suggestions,
        sensitivity=_sensitivity_rows(space, start, result.probes),
        near_best=near_best,
        message=_message(result, suggestions, runner_up, budget, current_minutes, threshold, space, scenario.days),
        replicates=replicates,
        min_gain=threshold,
        candidates_evaluated=len(result.evaluated) + 1,
        search_replicates=len(trial.search_reps),
        space=space,
        search_result=result,
    )


def suggest(
    scenario: Scenario,
    budget_minutes: float | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    *,
    space: SearchSpace = DEFAULT_SPACE,
) -> list[Suggestion]:
    """The suggestions of :func:`advise` alone (the diagnosis costs no extra runs)."""
    return advise(scenario, budget_minutes, replicates, seed, progress, space=space).suggestions


def sensitivity(
    scenario: Scenario,
    replicates: int | None = None,
    seed: int | None = None,
    progress: Progress | None = None,
    *,
    space: SearchSpace = DEFAULT_SPACE,
) -> list[SensitivityRow]:
    """For each habit, the paired effect of one realistic step down and up, largest swing first."""
    replicates = ADVICE_REPLICATES if replicates is None else int(replicates)
    seed = scenario.seed if seed is None else seed
    trial = _Trial(scenario, space, replicates, seed, progress, verdict=False)
    start = _start_point(scenario, space)
    trial.objective([start])  # on every replicate, as in advise, before the probes' noise is known
    _settle(trial, scenario, space, start)
    result = search(space, start, trial.objective, valid=_valid(scenario), max_rounds=0, pair_pool=0)
    trial.finish()
    return _sensitivity_rows(space, start, result.probes)


def _settle(trial: _Trial, scenario: Scenario, space: SearchSpace, start: Point) -> None:
    """The search's replicates for this audience: from PILOT_FOLLOWERS on, as the probes' noise needs."""
    if scenario.audience.followers >= PILOT_FOLLOWERS:
        probes = [p for p in probes_of(space, start).values() if _valid(scenario)(p)]
        trial.settle_replicates(start, probes, min_gain(scenario.audience.followers))


def _finalists(result: SearchResult, threshold: float, over_budget: bool) -> list[Candidate]:
    """The best few candidates worth a second look, simple ones first in doubt.

    Pairs come with the best single change of each of their habits, so the fresh runs can
    tell whether the second habit adds anything.
    """
    ranked = [c for c in result.best_by_habits() if c.admissible]
    if over_budget:
        return ranked[:FINALISTS]
    singles = {next(iter(c.changes)): c for c in ranked if len(c.changes) == 1}
    top = []
    for c in ranked:
        if c.median_gain < threshold or c.wins < SEARCH_WIN_SHARE:
            continue
        if (
            len(c.changes) > 1
            and c.median_gain < max(singles[h].median_gain if h in singles else 0.0 for h in c.changes) + threshold
        ):
            continue
        top.append(c)
    top = top[:FINALISTS]
    companions = [singles[h] for c in top if len(c.changes) > 1 for h in c.changes if h in singles]
    chosen = [_modest(c, result, threshold) if len(c.changes) == 1 else c for c in top + companions]
    return list({id(c): c for c in chosen}.values())


def _modest(best: Candidate, result: SearchResult, threshold: float) -> Candidate:
    """The smallest change of the same habit that the search could not tell from the best.

    Candidates within ``threshold`` (median gain) of the best are the same to the model's
    eyes; the one nearest the current value asks the least of the person.
    """
    (habit,) = best.changes
    start = result.start.point[habit]
    near = [
        c for c in result.evaluated
        if c.admissible and set(c.changes) == {habit} and c.wins >= SEARCH_WIN_SHARE
        and c.median_gain >= max(best.median_gain - threshold, min(threshold, best.median_gain))
    ]  # fmt: skip
    return min(near, key=lambda c: abs(c.point[habit] - start), default=best)


def _verdicts(
    scenario: Scenario,
    space: SearchSpace,
    finalists: Sequence[Candidate],
    fresh: Sequence[Ensemble],
    budget: float,
    threshold: float,
    over_budget: bool,
) -> tuple[list[Suggestion], tuple[Suggestion, str] | None]:
    """Judge the finalists on fresh replicates: they must fit, and (unless the current habits
    do not) gain meaningfully, and a pair must beat each of its habits' single changes by a
    meaningful gain too. Returns the suggestions, best first, and the best rejected one with why."""
    base = fresh[0]
    base_end = base.values("followers_end")
    base_minutes = float(np.median(base.values("minutes_per_day")))
    dims = {d.habit: d for d in space}
    judged, raw_minutes = [], []
    for cand, ens in zip(finalists, fresh[1:], strict=True):
        gain = ens.values("followers_end") - base_end
        minutes = float(np.median(ens.values("minutes_per_day")))
        raw_minutes.append(minutes)
        g = quantiles(gain)
        changes = {h: cand.point[h] for h in cand.changes}
        judged.append(Suggestion(
            changes, quantiles(ens.values("followers_end")), g, round(minutes, 1), round(minutes - base_minutes, 1),
            round(float(np.mean(gain > 0)), 2), _sentence(scenario, dims, changes, g, minutes - base_minutes, len(gain)),
        ))  # fmt: skip
    single_gain = {next(iter(s.changes)): s.gain["median"] for s in judged if len(s.changes) == 1}

    def why_not(s: Suggestion, minutes: float) -> str:
        if minutes > budget + 1e-9:
            return f"it needed {minutes:.1f} minutes a day there, over the budget"
        if over_budget:
            return ""
        if s.gain["median"] < threshold or s.wins < WIN_SHARE:
            return (
                f"it won only {s.wins:.0%} of the paired runs there"
                if s.wins < WIN_SHARE
                else "its gain there was too small"
            )
        if len(s.changes) > 1 and s.gain["median"] < max(single_gain.get(h, 0.0) for h in s.changes) + threshold:
            return "one of its two changes alone did as well"
        return ""

    def order(item: tuple[Suggestion, str]) -> tuple[float, int]:
        return (-item[0].gain["median"], len(item[0].changes))

    verdicts = sorted(((s, why_not(s, m)) for s, m in zip(judged, raw_minutes, strict=True)), key=order)
    kept = [s for s, why in verdicts if not why]
    rejected = [(s, why) for s, why in verdicts if why]
    return kept[:MAX_SUGGESTIONS], (rejected[0] if rejected else None)


def _sensitivity_rows(
    space: SearchSpace, start: Point, probes: Mapping[str, tuple[Candidate | None, Candidate | None]]
) -> list[SensitivityRow]:
    def side(c: Candidate | None, habit: str) -> dict[str, Any] | None:
        if c is None:
            return None
        return {"value": c.point[habit], "gain": quantiles(c.gain), "minutes_per_day": round(c.outcome.cost, 1)}

    rows = [
        SensitivityRow(d.habit, start[d.habit], side(probes[d.habit][0], d.habit), side(probes[d.habit][1], d.habit))
        for d in space
    ]
    return sorted(rows, key=lambda r: -r.swing)


# --------------------------------------------------------------------------------------
# Plain language
# --------------------------------------------------------------------------------------


def _signed(x: float) -> str:
    return f"{round(x):+,d}"


def _followers(x: float) -> str:
    """``+1 follower``, ``-12 followers``."""
    return f"{_signed(x)} {'follower' if abs(round(x)) == 1 else 'followers'}"


def _minutes_phrase(delta: float) -> str:
    m = round(abs(delta))
    if m == 0:
        return "about the same time a day"
    unit = "minute" if m == 1 else "minutes"
    return f"{m} {'more' if delta > 0 else 'fewer'} {unit} a day"


def _sentence(
    scenario: Scenario,
    dims: Mapping[str, Dimension],
    changes: Mapping[str, float],
    gain: Mapping[str, float],
    delta: float,
    runs: int = INTERVAL_RUNS,
) -> str:
    """E.g. "Answer 6 in 10 replies instead of 1 in 10: +38 followers over 90 days (80%: +25 to +51), 12 more minutes a day."

    Of fewer than ``INTERVAL_RUNS`` paired runs no 80% interval is said: "(median of 2 paired runs)",
    "(from 1 paired run)".
    """
    parts = [dims[h].phrase(getattr(scenario.habits, h), v) for h, v in changes.items()]
    what = parts[0] + "".join(f", and {p[0].lower()}{p[1:]}" for p in parts[1:])
    spread = (
        f"80%: {_signed(gain['p10'])} to {_signed(gain['p90'])}"
        if runs >= INTERVAL_RUNS
        else few_runs(runs, paired=True)
    )
    return f"{what}: {_followers(gain['median'])} over {counted(scenario.days, 'day')} ({spread}), {_minutes_phrase(delta)}."


def _message(
    result: SearchResult, suggestions: Sequence[Suggestion], runner_up: tuple[Suggestion, str] | None, budget: float,
    current: float, threshold: float, space: SearchSpace, days: int,
) -> str:  # fmt: skip
    """The one-line verdict above the suggestions."""
    if current > budget:
        if suggestions:
            return f"Your habits take about {current:.0f} minutes a day, more than your budget of {budget:.0f}; these changes fit it."
        return f"Your habits take about {current:.0f} minutes a day, and no change we tried fits in {budget:.0f} minutes a day."
    if suggestions:
        return f"Changes that gain followers within {budget:.0f} minutes a day, best first."
    text = (
        f"Your habits are already near the best the model can find within {budget:.0f} minutes a day: no change we tried "
        f"gained at least {threshold:.0f} followers in at least {WIN_SHARE:.0%} of paired runs."
    )
    if runner_up is not None:
        s, why = runner_up
        return f"{text} The most promising one did not hold up on fresh runs ({why}): {s.text}"
    closest = max((c for c in result.evaluated if c.admissible), key=rank_key, default=None)
    if closest is None or closest.median_gain <= 0:
        text += " None did better at all in the search runs."
    else:
        dims = {d.habit: d for d in space}
        what = "; ".join(dims[h].phrase(result.start.point[h], v) for h, v in closest.changes.items())
        g = quantiles(closest.gain)
        text += f" The closest: {what}: {_followers(g['median'])} over {counted(days, 'day')} in the search runs."
    return text
