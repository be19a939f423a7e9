"""The coach's search: how it looks for better habits in a space declared as data.

The space (:mod:`coach.space`) is a tuple of :class:`~coach.space.Dimension` — habit, grid,
and the words to say a change in — so it can be read, printed, tested and replaced without
touching this code.

:func:`search` is deterministic and knows nothing about the simulation. It asks an
``objective`` to score *batches* of candidate habit sets (so a simulator can fan every run
of a batch out at once) and compares each candidate with the starting habits *per
replicate*: the objective returns one value per replicate, computed on the same seeds for
every candidate, and the gain is the paired difference. In order it tries

1. **probes**: one grid step down and up for every habit (the tornado chart's data), and
   a far probe a few steps out on the more promising side (small first steps drown in noise);
2. **lines**: along every direction whose probe improved, steps of 1, 2, 4 … grid positions
   until the gain stops rising, then bisection back to the best grid value;
3. **pairs**: the best single changes combined two at a time (and a change that does not
   fit the time budget alone, combined with ones that save time), then a small coordinate
   climb around the best pair.

Candidates are ranked by :func:`rank_key`: any candidate within budget beats any candidate
over it; within budget the higher median gain wins, over budget the cheaper one. An Optuna
or other optimiser can replace this function behind the same arguments later.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from coach.space import DEFAULT_SPACE, FORMATS, Dimension, SearchSpace

ADVICE_REPLICATES = 6
"""Runs per candidate in the coach's search, paired on common seeds (and as many fresh ones
for the verdict): here, beside the search, so the command line can show it without loading
the engine (:mod:`coach.advisor` uses it)."""

PILOT_FOLLOWERS = 2_500
"""Audiences this large or larger have the coach measure the noise of its probes on a few
replicates first and keep only the search replicates it needs (:mod:`coach.advisor`); here
for the same reason."""

__all__ = [
    "DEFAULT_SPACE", "FORMATS", "Candidate", "Dimension", "Objective", "Outcome", "Point",
    "SearchResult", "SearchSpace", "best_by_habits", "pointwise", "probes_of", "rank_key", "search",
]  # fmt: skip

Point = dict[str, float]
"""A full set of values for the habits of a search space."""


# --------------------------------------------------------------------------------------
# Candidates and their scores
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the objective says about one candidate.

    ``values`` holds one objective value per replicate, in replicate order, computed on
    the same seeds for every candidate so that differences can be taken pairwise; ``cost``
    is what the budget limits (minutes per day); ``detail`` is anything the caller wants
    back (the advisor keeps the ensemble).
    """

    values: np.ndarray
    cost: float = 0.0
    detail: Any = field(default=None, compare=False, repr=False)


Objective = Callable[[Sequence[Point]], Sequence[Outcome]]
"""Scores a batch of candidates at once (a simulator runs the whole batch in parallel)."""


def pointwise(function: Callable[[Point], float | Sequence[float] | Outcome]) -> Objective:
    """Turn a function of one candidate (returning a number, values or an Outcome) into an Objective."""

    def objective(batch: Sequence[Point]) -> list[Outcome]:
        out = []
        for point in batch:
            value = function(point)
            out.append(value if isinstance(value, Outcome) else Outcome(np.atleast_1d(np.asarray(value, dtype=float))))
        return out

    return objective


@dataclass(frozen=True)
class Candidate:
    """One evaluated set of habits, with its paired gain over the start."""

    point: Point
    changes: Point
    outcome: Outcome
    gain: np.ndarray
    admissible: bool

    @property
    def median_gain(self) -> float:
        return float(np.median(self.gain))

    @property
    def wins(self) -> float:
        """Share of paired replicates in which this candidate beat the start."""
        return float(np.mean(self.gain > 0))

    @property
    def habits_changed(self) -> frozenset[str]:
        return frozenset(self.changes)


def rank_key(c: Candidate) -> tuple[int, float]:
    """Within budget beats over budget; then the higher median gain, or else the lower cost."""
    return (1, c.median_gain) if c.admissible else (0, -c.outcome.cost)


@dataclass
class SearchResult:
    """Everything the search evaluated, in order, and the probes of step 1."""

    start: Candidate
    evaluated: list[Candidate]
    probes: dict[str, tuple[Candidate | None, Candidate | None]]

    def best_by_habits(self) -> list[Candidate]:
        """The best candidate for each set of changed habits, best first."""
        return best_by_habits(self.evaluated)


def best_by_habits(candidates: Sequence[Candidate]) -> list[Candidate]:
    """The best candidate for each set of changed habits, best first (ties: fewer changes, then order)."""
    best: dict[frozenset[str], Candidate] = {}
    for c in candidates:
        if c.changes and (c.habits_changed not in best or rank_key(c) > rank_key(best[c.habits_changed])):
            best[c.habits_changed] = c
    return sorted(best.values(), key=lambda c: (rank_key(c), -len(c.changes)), reverse=True)


# --------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------


class _Book:
    """Evaluates candidates in batches, once each, and keeps them in evaluation order."""

    def __init__(
        self,
        start: Point,
        objective: Objective,
        budget: float | None,
        valid: Callable[[Point], bool] | None,
        worth_trying: Callable[[Point], bool] | None,
        progress: Callable[[int, int], None] | None,
    ):
        self.start_point, self.objective, self.budget = dict(start), objective, budget
        self.valid, self.worth_trying, self.progress = valid, worth_trying, progress
        self.seen: dict[tuple[tuple[str, float], ...], Candidate | None] = {}
        self.order: list[Candidate] = []
        self.start: Candidate | None = None

    @staticmethod
    def key(point: Point) -> tuple[tuple[str, float], ...]:
        return tuple(sorted((k, round(float(v), 9)) for k, v in point.items()))

    def evaluate(self, points: Sequence[Point], planned: int = 0, screen: bool = True) -> list[Candidate | None]:
        """Score the new points of ``points`` in one batch; None for those ruled out beforehand.

        Invalid points are never scored; with ``screen``, neither are those not worth trying.
        """
        fresh: dict[tuple[tuple[str, float], ...], Point] = {}
        for p in points:
            k = self.key(p)
            if k in fresh or (k in self.seen and (self.seen[k] is not None or screen)):
                continue
            ruled_out = self.valid is not None and not self.valid(p)
            if screen and self.worth_trying is not None and not ruled_out:
                ruled_out = not self.worth_trying(p)
            if ruled_out and self.start is not None:
                self.seen[k] = None
                continue
            fresh[k] = p
        if fresh:
            outcomes = self.objective(list(fresh.values()))
            for (k, p), outcome in zip(fresh.items(), outcomes, strict=True):
                self.seen[k] = self._candidate(p, outcome)
                if self.start is None:
                    self.start = self.seen[k]
                else:
                    self.order.append(self.seen[k])  # type: ignore[arg-type]
        if self.progress:
            self.progress(len(self.order), len(self.order) + planned)
        return [self.seen[self.key(p)] for p in points]

    def _candidate(self, point: Point, outcome: Outcome) -> Candidate:
        base = self.start.outcome.values if self.start is not None else outcome.values
        changes = {k: v for k, v in point.items() if abs(v - self.start_point[k]) > 1e-9}
        fits = self.budget is None or outcome.cost <= self.budget + 1e-9
        return Candidate(dict(point), changes, outcome, np.asarray(outcome.values, float) - base, fits)


def probes_of(space: SearchSpace, start: Mapping[str, float]) -> dict[tuple[str, int], Point]:
    """The search's first candidates: one grid step down (-1) and up (+1) of each habit, where there is one.

    ``start`` as :func:`search` takes it; keyed by (habit, direction).
    """
    start_point = {**start, **{d.habit: d.coerce(start[d.habit]) for d in space}}
    out: dict[tuple[str, int], Point] = {}
    for d in space:
        for direction in (-1, 1):
            steps = d.moves(start_point[d.habit], direction)
            if steps:
                out[(d.habit, direction)] = {**start_point, d.habit: steps[0]}
    return out


def search(
    space: SearchSpace,
    start: Mapping[str, float],
    objective: Objective,
    *,
    budget: float | None = None,
    valid: Callable[[Point], bool] | None = None,
    worth_trying: Callable[[Point], bool] | None = None,
    min_improvement: float = 0.0,
    min_wins: float = 0.0,
    far_probe: int = 4,
    max_lines: int = 4,
    pair_pool: int = 3,
    climb_rounds: int = 2,
    max_rounds: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> SearchResult:
    """Search the habits of ``space`` for changes that raise ``objective`` within ``budget``.

    Args:
        space: the habits to tune and their grids.
        start: the current value of every habit in ``space`` (extra keys are kept as they are).
        objective: scores batches of candidates (see :data:`Objective`, :func:`pointwise`).
        budget: the highest admissible ``Outcome.cost``; None for no limit.
        valid: whether a candidate can be evaluated at all (e.g. shares summing above 1).
        worth_trying: a cheap screen (e.g. an estimated cost far over budget); candidates it
            rejects are not evaluated, except the probes, which the sensitivity needs.
        min_improvement: the median gain a probe (one step) must show to start a line search,
            and a single change to join the pairs; above 0 it keeps noise from being chased.
        min_wins: likewise, the share of paired replicates it must win.
        far_probe: grid steps out of the far probe of each habit (0: none).
        max_lines: most line searches followed (the most promising, by median gain).
        pair_pool: how many of the best single changes are combined in pairs.
        climb_rounds: rounds of the coordinate climb around the best pair.
        max_rounds: most rounds of the line searches.
        progress: called as ``progress(candidates evaluated, candidates expected)``.
    """
    start_point = {**start, **{d.habit: d.coerce(start[d.habit]) for d in space}}
    book = _Book(start_point, objective, budget, valid, worth_trying, progress)
    base = book.evaluate([start_point], planned=2 * len(space))[0]
    assert base is not None

    def moved(point: Point, habit: str, value: float) -> Point:
        return {**point, habit: value}

    # 1. Probes: one step each way.
    probe_points = probes_of(space, start_point)
    got = book.evaluate(list(probe_points.values()), planned=2 * len(space) + pair_pool * 2, screen=False)
    by_probe = dict(zip(probe_points, got, strict=True))
    probes = {d.habit: (by_probe.get((d.habit, -1)), by_probe.get((d.habit, 1))) for d in space}

    def promising(c: Candidate | None) -> bool:
        if c is None or rank_key(c) <= rank_key(base):
            return False
        return not (c.admissible and base.admissible) or (c.median_gain >= min_improvement and c.wins >= min_wins)

    # 2. Far probes: a first step may be too small to show above the noise (answering 1 in
    # 10 replies instead of none), so each habit also tries ``far_probe`` steps out, in the
    # direction of its better probe.
    far: dict[tuple[str, int], tuple[int, Point]] = {}
    if max_rounds > 0 and far_probe > 1:
        for d in space:
            sides = [s for s in (-1, 1) if by_probe.get((d.habit, s)) is not None]
            if not sides:
                continue
            side = max(sides, key=lambda s: rank_key(by_probe[(d.habit, s)]))  # type: ignore[arg-type]
            steps = d.moves(start_point[d.habit], side)
            k = min(far_probe, len(steps))
            if k > 1:
                far[(d.habit, side)] = (k, moved(start_point, d.habit, steps[k - 1]))
    got = book.evaluate([p for _, p in far.values()], planned=len(far) + 4 + pair_pool * 2)
    by_far = {key: (k, cand) for (key, (k, _)), cand in zip(far.items(), got, strict=True)}

    # 3. Lines: expand by doubling while better, then bisect back towards the best grid value.
    def gains_but_costs_too_much(c: Candidate | None) -> bool:
        return (
            c is not None and not c.admissible and base.admissible
            and c.median_gain > 0 and c.median_gain >= min_improvement and c.wins >= min_wins
        )  # fmt: skip

    lines = []
    for (habit, direction), cand in by_probe.items():
        k_far, far_cand = by_far.get((habit, direction), (0, None))
        dim = next(d for d in space if d.habit == habit)
        steps = dim.moves(start_point[habit], direction)
        if promising(cand) or promising(far_cand):
            done = {0: base, 1: cand} | ({k_far: far_cand} if k_far else {})
        elif gains_but_costs_too_much(far_cand):
            # The far probe pays but does not fit: bisect towards the start for what does.
            # (The near probe is left out of the line: next to the far one's gain it is noise.)
            done = {0: base, k_far: far_cand}
        else:
            continue
        line = {"habit": habit, "steps": steps, "done": done, "best": 1, "expanding": True}
        _update_line(line)
        lines.append(line)
    # Follow the most promising lines only: under noise many probes look a little better.
    lines.sort(key=lambda line: -max(c.median_gain for k, c in line["done"].items() if k and c is not None))
    lines = lines[:max_lines]
    for _ in range(max_rounds):
        wanted: list[tuple[dict[str, Any], int]] = []
        for line in lines:
            wanted += [(line, k) for k in _next_positions(line)]
        if not wanted:
            break
        points = [moved(start_point, line["habit"], line["steps"][k - 1]) for line, k in wanted]
        for (line, k), cand in zip(wanted, book.evaluate(points, planned=len(wanted) + pair_pool * 2), strict=True):
            line["done"][k] = cand
        for line in lines:
            _update_line(line)

    # 4. Pairs of the best single changes, then a small climb around the best pair.
    singles = [c for c in best_by_habits(book.order) if len(c.changes) == 1]
    pool = [c for c in singles if c.admissible and promising(c)][:pair_pool]
    combos = [{**a.point, **b.changes} for a, b in combinations(pool, 2)]
    # A change too costly alone may fit together with one that saves time.
    best_gain = max((c.median_gain for c in pool), default=0.0)
    over = sorted((c for c in singles if not c.admissible and c.median_gain > best_gain), key=lambda c: -c.median_gain)
    if over:
        savers = [
            c
            for c in singles
            if c.admissible and c.outcome.cost < base.outcome.cost and c.habits_changed != over[0].habits_changed
        ]
        combos += [{**over[0].point, **s.changes} for s in savers[:pair_pool]]
    book.evaluate(combos, planned=4 * climb_rounds)
    pairs = [c for c in best_by_habits(book.order) if len(c.changes) == 2]
    if pairs:
        best = pairs[0]
        dims = [d for d in space if d.habit in best.changes]
        for _ in range(climb_rounds):
            around = [
                moved(best.point, d.habit, v)
                for d in dims
                for sgn in (-1, 1)
                for v in d.moves(best.point[d.habit], sgn)[:1]
            ]
            around = [p for p in around if _changed(p, start_point) == 2]
            top = max((c for c in book.evaluate(around, planned=4) if c is not None), key=rank_key, default=None)
            if top is None or rank_key(top) <= rank_key(best):
                break
            best = top
    book.evaluate([], planned=0)
    return SearchResult(start=base, evaluated=book.order, probes=probes)


def _changed(point: Point, start: Point) -> int:
    return sum(abs(v - start[k]) > 1e-9 for k, v in point.items())


def _next_positions(line: dict[str, Any]) -> list[int]:
    """Grid positions (1-based along the line; 0 is the start) a line wants evaluated next.

    While expanding, the next position doubles the best one; afterwards, the gaps on each
    side of the best position are halved until the best has evaluated neighbours.
    """
    n, done, best = len(line["steps"]), line["done"], line["best"]
    if line["expanding"]:
        k = min(2 * best, n)
        if k > best and k not in done:
            return [k]
        line["expanding"] = False
    lower = max((k for k in done if k < best), default=None)
    upper = min((k for k in done if k > best), default=None)
    return [
        (k + best) // 2 for k in (lower, upper) if k is not None and abs(k - best) > 1 and (k + best) // 2 not in done
    ]


def _update_line(line: dict[str, Any]) -> None:
    """Move the line's best to its best evaluated position; keep expanding only while the farthest is best."""
    ruled_out = [k for k, c in line["done"].items() if c is None]
    if ruled_out:  # a candidate rejected before evaluation (invalid, far over budget) ends the line
        line["steps"] = line["steps"][: min(ruled_out) - 1]
        line["done"] = {k: c for k, c in line["done"].items() if c is not None and k <= len(line["steps"])}
    done = line["done"]
    top = max(sorted(done), key=lambda k: rank_key(done[k]))  # ties go to the smaller change
    line["expanding"] = line["expanding"] and top == max(done) and top < len(line["steps"])
    line["best"] = top
