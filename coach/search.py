"""The coach's search: which habits it may change (declared as data) and how it looks for better ones.

The search space is a tuple of :class:`Dimension` — habit, range, steps, and the words to say
a change in — so it can be read, printed, tested and replaced without touching the code.

:func:`search` is deterministic and knows nothing about the simulation. It asks an
``objective`` to score *batches* of candidate habit sets (so a simulator can fan every run
of a batch out at once) and compares each candidate with the starting habits *per
replicate*: the objective returns one value per replicate, computed on the same seeds for
every candidate, and the gain is the paired difference. In order it tries

1. **probes**: one grid step down and up for every habit (the tornado chart's data);
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

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

Point = dict[str, float]
"""A full set of values for the habits of a search space."""


# --------------------------------------------------------------------------------------
# The space, as data
# --------------------------------------------------------------------------------------


def _times_a_day(v: float) -> str:
    words = {0.5: "every other day", 1.0: "once a day", 2.0: "twice a day"}
    return words.get(float(v), f"{v:g} times a day")


def _in_ten(v: float) -> str:
    tenths = v * 10
    return f"{tenths:.0f} in 10" if abs(tenths - round(tenths)) < 1e-9 else f"{v:.0%}"


def _plural(singular: str, plural: str) -> Callable[[float], str]:
    return lambda v: f"{v:g} {singular if v == 1 else plural}"


FORMATS: dict[str, Callable[[float], str]] = {
    "times_a_day": _times_a_day,
    "posts": _plural("post", "posts"),
    "in_ten": _in_ten,
    "percent": lambda v: f"{v:.0%}",
    "hours": _plural("hour", "hours"),
    "replies_a_day": lambda v: f"{_plural('reply', 'replies')(v)} a day",
}
"""How a value reads in a sentence, by the name a :class:`Dimension` gives in ``style``."""


@dataclass(frozen=True)
class Dimension:
    """One habit the coach may change, the grid it moves on, and how to say a change.

    The grid is ``low, low + step, … high``, or an explicit ``ladder`` of values when
    equal steps would be wrong (going from 1 to 2 posts a day is as big a change as from 10
    to 20). One grid step is the *realistic step* of the sensitivity analysis.
    """

    habit: str
    low: float = 0.0
    high: float = 1.0
    step: float = 0.1
    ladder: tuple[float, ...] = ()
    integer: bool = False
    style: str = "percent"  # a key of FORMATS
    say: str = "Change {habit} to {new} instead of {old}"  # fields: {new}, {old}, {habit}

    def __post_init__(self) -> None:
        if self.ladder:
            if list(self.ladder) != sorted(set(self.ladder)):
                raise ValueError(f"{self.habit}: ladder must be strictly increasing")
        elif not (self.step > 0 and self.high > self.low):
            raise ValueError(f"{self.habit}: need low < high and step > 0, or a ladder")
        if self.style not in FORMATS:
            raise ValueError(f"{self.habit}: style {self.style!r} is not one of {', '.join(FORMATS)}")

    def grid(self) -> tuple[float, ...]:
        """Every value the search may give this habit, ascending."""
        if self.ladder:
            values = self.ladder
        else:
            count = math.floor((self.high - self.low) / self.step + 1e-9)
            values = tuple(round(self.low + k * self.step, 10) for k in range(count + 1))
        return tuple(self.coerce(v) for v in values)

    def coerce(self, value: float) -> float:
        """The value in the habit's own type (posts per sitting are whole numbers)."""
        return round(value) if self.integer else float(value)

    def moves(self, current: float, direction: int) -> tuple[float, ...]:
        """Grid values beyond ``current`` in ``direction`` (-1 or +1), nearest first.

        When ``current`` is off the grid, a grid value closer than half the local spacing is
        skipped, so the first move is always a real step (0.37 moves to 0.5 or 0.3, not 0.4).
        """
        grid = self.grid()
        ahead = [v for v in grid if (v - current) * direction > 1e-9]
        if direction < 0:
            ahead.reverse()
        if not ahead:
            return ()
        behind = [v for v in grid if (v - current) * direction <= 1e-9]
        last = behind[-1] if direction > 0 and behind else (behind[0] if behind else None)
        if last is not None and abs(ahead[0] - current) < 0.5 * abs(ahead[0] - last) - 1e-9:
            ahead = ahead[1:]
        return tuple(ahead)

    def phrase(self, old: float, new: float) -> str:
        """The change as an instruction, e.g. "Answer 6 in 10 replies instead of 1 in 10"."""
        fmt = FORMATS[self.style]
        return self.say.format(new=fmt(new), old=fmt(old), habit=self.habit.replace("_", " "))

    def to_dict(self) -> dict[str, Any]:
        return {"habit": self.habit, "grid": list(self.grid()), "style": self.style, "say": self.say}


SearchSpace = tuple[Dimension, ...]

POSTS_LADDER = (0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40)
DEFAULT_SPACE: SearchSpace = (
    Dimension("posts_per_day", ladder=POSTS_LADDER, style="times_a_day", say="Post {new} instead of {old}"),
    Dimension("posts_per_session", ladder=(1, 2, 3, 4, 6, 8, 10, 15, 20, 30), integer=True, style="posts",
              say="Publish {new} per sitting instead of {old}"),
    Dimension("link_share", 0.0, 1.0, 0.1, say="Put a link in {new} of your posts instead of {old}"),
    Dimension("promo_share", 0.0, 0.5, 0.05, say="Promote yourself in {new} of your posts instead of {old}"),
    Dimension("question_share", 0.0, 0.6, 0.1, say="Ask a question in {new} of your posts instead of {old}"),
    Dimension("reply_rate", 0.0, 1.0, 0.1, style="in_ten", say="Answer {new} replies instead of {old}"),
    Dimension("reply_delay_hours", ladder=(0.5, 1, 2, 3, 4, 6, 8, 12, 24, 48), style="hours",
              say="Answer within about {new} instead of {old}"),
    Dimension("outreach_per_day", ladder=(0, 1, 2, 3, 5, 8, 10, 15, 20, 30, 40), style="replies_a_day",
              say="Leave {new} on other people's posts instead of {old}"),
    Dimension("follow_back_rate", 0.0, 1.0, 0.1, say="Follow back {new} of your new followers instead of {old}"),
)  # fmt: skip
"""The habits the coach tunes. Not here: active hours (a pair of hours, not a number) and
the minutes a post or reply costs (facts about the person, not habits to change)."""


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
        """The best candidate for each set of changed habits, best first (ties: fewer changes, then order)."""
        best: dict[frozenset[str], Candidate] = {}
        for c in self.evaluated:
            if c.changes and (c.habits_changed not in best or rank_key(c) > rank_key(best[c.habits_changed])):
                best[c.habits_changed] = c
        return sorted(best.values(), key=lambda c: (rank_key(c), -len(c.changes)), reverse=True)


# --------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------


class _Book:
    """Evaluates candidates in batches, once each, and keeps them in evaluation order."""

    def __init__(self, space: SearchSpace, start: Point, objective: Objective, budget: float | None,
                 admissible: Callable[[Point], bool] | None, progress: Callable[[int, int], None] | None):
        self.space, self.start_point, self.objective = space, dict(start), objective
        self.budget, self.admissible, self.progress = budget, admissible, progress
        self.seen: dict[tuple[tuple[str, float], ...], Candidate | None] = {}
        self.order: list[Candidate] = []
        self.start: Candidate | None = None

    @staticmethod
    def key(point: Point) -> tuple[tuple[str, float], ...]:
        return tuple(sorted((k, round(float(v), 9)) for k, v in point.items()))

    def evaluate(self, points: Sequence[Point], planned: int = 0) -> list[Candidate | None]:
        """Score the new points of ``points`` in one batch; None for those ruled out beforehand."""
        fresh: dict[tuple[tuple[str, float], ...], Point] = {}
        for p in points:
            k = self.key(p)
            if k in self.seen or k in fresh:
                continue
            if self.admissible is not None and self.start is not None and not self.admissible(p):
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


def search(
    space: SearchSpace,
    start: Mapping[str, float],
    objective: Objective,
    *,
    budget: float | None = None,
    admissible: Callable[[Point], bool] | None = None,
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
        admissible: a cheap check run before evaluating a candidate (validity, an estimated
            cost far over budget); candidates it rejects are never evaluated.
        pair_pool: how many of the best single changes are combined in pairs.
        climb_rounds: rounds of the coordinate climb around the best pair.
        max_rounds: most rounds of the line searches.
        progress: called as ``progress(candidates evaluated, candidates expected)``.
    """
    book = _Book(space, dict(start), objective, budget, admissible, progress)
    start_point = {**start, **{d.habit: d.coerce(start[d.habit]) for d in space}}
    base = book.evaluate([start_point], planned=2 * len(space))[0]
    assert base is not None

    def moved(point: Point, habit: str, value: float) -> Point:
        return {**point, habit: value}

    # 1. Probes: one step each way.
    probe_points: dict[tuple[str, int], Point] = {}
    for d in space:
        for direction in (-1, 1):
            steps = d.moves(start_point[d.habit], direction)
            if steps:
                probe_points[(d.habit, direction)] = moved(start_point, d.habit, steps[0])
    got = book.evaluate(list(probe_points.values()), planned=2 * len(space) + pair_pool * 2)
    by_probe = dict(zip(probe_points, got, strict=True))
    probes = {d.habit: (by_probe.get((d.habit, -1)), by_probe.get((d.habit, 1))) for d in space}

    # 2. Lines: expand by doubling while better, then bisect back towards the best grid value.
    lines = []
    for (habit, direction), cand in by_probe.items():
        if cand is not None and rank_key(cand) > rank_key(base):
            dim = next(d for d in space if d.habit == habit)
            steps = dim.moves(start_point[habit], direction)
            lines.append({"habit": habit, "steps": steps, "done": {0: base, 1: cand}, "best": 1, "expanding": True})
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

    # 3. Pairs of the best single changes, then a small climb around the best pair.
    singles = [c for c in book.best_by_habits() if len(c.changes) == 1]
    pool = [c for c in singles if c.admissible and rank_key(c) > rank_key(base)][:pair_pool]
    combos = [{**a.point, **b.changes} for a, b in combinations(pool, 2)]
    # A change too costly alone may fit together with one that saves time.
    best_gain = max((c.median_gain for c in pool), default=0.0)
    over = sorted((c for c in singles if not c.admissible and c.median_gain > best_gain), key=lambda c: -c.median_gain)
    if over:
        savers = [c for c in singles if c.admissible and c.outcome.cost < base.outcome.cost and c.habits_changed != over[0].habits_changed]
        combos += [{**over[0].point, **s.changes} for s in savers[:pair_pool]]
    book.evaluate(combos, planned=4 * climb_rounds)
    pairs = [c for c in book.best_by_habits() if len(c.changes) == 2]
    if pairs:
        best = pairs[0]
        dims = [d for d in space if d.habit in best.changes]
        for _ in range(climb_rounds):
            around = [moved(best.point, d.habit, v) for d in dims for sgn in (-1, 1) for v in d.moves(best.point[d.habit], sgn)[:1]]
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
    return [(k + best) // 2 for k in (lower, upper) if k is not None and abs(k - best) > 1 and (k + best) // 2 not in done]


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
