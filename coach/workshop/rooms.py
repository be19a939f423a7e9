"""The room logic between the store and the pages: submissions become scenarios, scenarios
become results (simulated once, cached in the database by scenario hash), results become a
leaderboard, and the coach's best answer within the round's budget.

Every submission of a round runs on the round's seed and replicate indices, so two
participants' outcomes differ only through their habits (common random numbers).

Every simulation goes through a ``run`` (:data:`Runner`): the app passes
``app.guard.workshop_run`` (submissions, baselines) and ``workshop_coach_run`` (the coach's
search, in the queue's background lane), both :func:`app.guard.guarded`, so the workshop's
pages share the server's one queue and run under a time and memory budget like every other
tab; without one (the command line, tests) a job runs here, unbounded.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import io
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from coach.experiments import StopCheck, run_many
from coach.results import REASONS, Ensemble
from coach.scenario import Scenario
from coach.workshop.exercise import Exercise, Round, habit_range, metric_value
from coach.workshop.store import Room, RoomError, Store, Submission

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()

T = TypeVar("T")
Runner = Callable[[Callable[[StopCheck | None], T]], T]
"""``run(job)`` calls ``job(should_stop)`` in some queue under some budget and returns its result."""


def unguarded(job: Callable[[StopCheck | None], T]) -> T:
    """Run a job here and now, with no budget (the command line; a default for tests)."""
    return job(None)


@functools.lru_cache(maxsize=32)
def room_exercise(exercise_yaml: str) -> Exercise:
    """The exercise a room was opened with (validated when the room was opened)."""
    return Exercise.model_validate(yaml.safe_load(exercise_yaml))


def round_of(room: Room) -> tuple[Round, Scenario]:
    """The room's current round and its persona as played."""
    exercise = room_exercise(room.exercise_yaml)
    return exercise.rounds[room.round_index], Scenario.model_validate_json(room.scenarios[room.round_index])


def scenario_key(scenario: Scenario) -> str:
    """The cache key of a simulated scenario: its JSON holds the habits, seed and runs."""
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()


def submission_scenario(base: Scenario, round_: Round, habits: dict[str, Any]) -> Scenario:
    """The persona with a participant's habits; only the round's habits, within its ranges."""
    unknown = sorted(set(habits) - set(round_.habits))
    if unknown:
        raise RoomError(f"This round lets you set {', '.join(round_.habits)}; not {', '.join(unknown)}.")
    clean: dict[str, Any] = {}
    for name, value in habits.items():
        lo, hi = habit_range(round_, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
            raise RoomError(f"{name}: {value!r} is not allowed in this round; allowed: {lo:g} to {hi:g}.")
        clean[name] = value
    try:
        return base.with_habits(**clean)
    except ValidationError as exc:
        err = exc.errors()[0]
        problem = str(err.get("ctx", {}).get("error", err["msg"]))
        shares = ("link_share", "promo_share", "question_share")
        fixed = [f"{n.split('_')[0]} share {getattr(base.habits, n):.0%}" for n in shares if n not in round_.habits]
        hint = f" (fixed in this round: {', '.join(fixed)})" if "share" in problem and fixed else ""
        raise RoomError(f"These habits do not fit together: {problem}{hint}. Lower one of them.") from None


def result_data(ensemble: Ensemble) -> dict[str, Any]:
    """What the pages need from an ensemble: the summary and the followers curve."""
    daily = ensemble.daily_quantiles(["followers"])
    return {
        "summary": ensemble.summary(),
        "curve": {"day": daily["day"], **daily["followers"]},
        "provenance": ensemble.provenance(),
    }


def _start_pool_once() -> None:
    """Start the engine's worker pool before a room's first run (``experiments._get_pool``
    locks: thirty sessions submitting in the same second get one pool)."""
    from coach import experiments

    if experiments._pool is None and experiments.worker_count() > 1 and experiments.workers_can_start():
        experiments._get_pool()


def ensure_result(store: Store, scenario: Scenario, run: Runner | None = None) -> tuple[str, dict[str, Any]]:
    """The scenario's result, simulated (through ``run``) only if no process has stored it yet."""
    key = scenario_key(scenario)
    found = store.get_result(key)
    if found is not None:
        return key, found
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:  # two sessions submitting the same habits at once: one simulates, one waits
        found = store.get_result(key)
        if found is None:
            _start_pool_once()
            ensemble = (run or unguarded)(
                lambda stop: run_many(scenario, scenario.replicates, scenario.seed, should_stop=stop)
            )
            found = result_data(ensemble)
            store.put_result(key, found)
    return key, found


def submit(
    store: Store,
    code: str,
    token: str,
    habits: dict[str, Any],
    guess: float | None = None,
    run: Runner | None = None,
) -> tuple[Submission, dict[str, Any]]:
    """Record a participant's habits for the current round, then simulate them (once per scenario).

    The submission is stored before the simulation runs, so the facilitator sees it at once
    (as "computing") and a rejected submission (round closed, too many a minute) costs no runs.
    """
    room = store.room(code)
    round_, base = round_of(room)
    scenario = submission_scenario(base, round_, habits)
    submission = store.submit(code, token, habits, scenario_key(scenario), guess)
    _, data = ensure_result(store, scenario, run)
    return submission, data


def baseline(store: Store, room: Room, run: Runner | None = None) -> dict[str, Any]:
    """The persona's own result in the current round (the reference line)."""
    return ensure_result(store, round_of(room)[1], run)[1]


# --------------------------------------------------------------------------------------
# The coach's answer within the round's budget
# --------------------------------------------------------------------------------------


def coach_space(round_: Round) -> tuple[Any, ...]:
    """The coach's search space cut down to the round's habits and ranges."""
    from coach.space import DEFAULT_SPACE

    space = []
    for dim in DEFAULT_SPACE:
        if dim.habit not in round_.habits:
            continue
        lo, hi = habit_range(round_, dim.habit)
        if dim.ladder:
            ladder = tuple(v for v in dim.ladder if lo <= v <= hi)
            if ladder:
                space.append(dataclasses.replace(dim, ladder=ladder))
        else:
            new_lo, new_hi = max(dim.low, lo), min(dim.high, hi)
            if new_hi > new_lo:
                space.append(dataclasses.replace(dim, low=new_lo, high=new_hi))
    return tuple(space)


def _coach_key(round_: Round, base: Scenario) -> str:
    budget = round_.constraints.budget_minutes_per_day
    space = [d.to_dict() for d in coach_space(round_)]
    return "coach:" + hashlib.sha256(json.dumps([scenario_key(base), budget, space]).encode()).hexdigest()


_preparing: set[tuple[str, str]] = set()  # (database, round's coach key) started here


def prepare_coach_answer(store: Store, room: Room, run: Runner | None = None) -> bool:
    """Start the coach's search in a background thread, once per round and process, so that
    "Reveal the coach's answer" is instant by the time the class has discussed (the search
    takes from seconds to a few minutes on a busy two-core machine). True if started now."""
    round_, base = round_of(room)
    key = _coach_key(round_, base)
    with _locks_guard:
        if (store.url, key) in _preparing:
            return False
        _preparing.add((store.url, key))
    if store.get_result(key) is not None:
        return False

    def prepare() -> None:
        try:
            coach_answer(store, room, run)
        except Exception:  # busy or over its budget: "Reveal" asks again and shows why
            return

    threading.Thread(target=prepare, name=f"coach-{room.code}", daemon=True).start()
    return True


def coach_answer(store: Store, room: Room, run: Runner | None = None) -> dict[str, Any]:
    """The coach's best habits within the round's budget and habits (computed once per round).

    The search and the simulation of its answer run as one job through ``run``.
    """
    round_, base = round_of(room)
    key = _coach_key(round_, base)
    found = store.get_result(key)
    if found is not None:
        return found
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        found = store.get_result(key)
        if found is not None:
            return found
        return (run or unguarded)(lambda stop: _coach_search(store, round_, base, key, stop))


def _coach_search(store: Store, round_: Round, base: Scenario, key: str, stop: StopCheck | None) -> dict[str, Any]:
    budget = round_.constraints.budget_minutes_per_day
    space = coach_space(round_)
    answer: dict[str, Any] = {"habits": {}, "text": [], "message": "", "result_key": None}
    if space:
        from coach.advisor import advise

        advice = advise(base, budget_minutes=budget, space=space, should_stop=stop)
        answer["message"] = advice.message
        if advice.suggestions:
            best = advice.suggestions[0]
            answer["text"] = [best.text]
            answer["habits"] = {h: base.habits.model_dump()[h] for h in round_.habits} | best.changes
    else:
        answer["message"] = "This round's habits are outside the coach's search space."
    if not answer["habits"]:
        answer["habits"] = {h: base.habits.model_dump()[h] for h in round_.habits}
    # Already inside the job (its slot, its budget): the answer's own runs share them.
    key_result, _ = ensure_result(store, base.with_habits(**answer["habits"]), lambda job: job(stop))
    answer["result_key"] = key_result
    store.put_result(key, answer)
    return answer


# --------------------------------------------------------------------------------------
# Leaderboard and export
# --------------------------------------------------------------------------------------


def within_budget(round_: Round, summary: dict[str, Any]) -> bool:
    budget = round_.constraints.budget_minutes_per_day
    return budget is None or summary["minutes_per_day"] <= budget


def leaderboard_rows(
    round_: Round, submissions: list[Submission], results: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """One row per participant with a result: metric, intervals, reasons; best first.

    Submissions over the round's time budget are listed after those within it.
    """
    rows = []
    for s in submissions:
        data = results.get(s.result_key)
        if data is None:
            continue
        summary = data["summary"]
        start = summary["followers_start"] or 1
        row: dict[str, Any] = {
            "name": s.name,
            "participant_id": s.participant_id,
            "score": metric_value(summary, round_.metric),
            "score_p10": metric_value(summary, round_.metric, "p10"),
            "score_p90": metric_value(summary, round_.metric, "p90"),
            "net": summary["net"],
            "net_percent": {q: 100.0 * v / start for q, v in summary["net"].items()},
            "unfollows": summary["unfollows"],
            "reasons": {r: summary["unfollows_by_reason"][r]["median"] for r in REASONS},
            "minutes_per_day": summary["minutes_per_day"],
            "within_budget": within_budget(round_, summary),
            "habits": s.habits,
            "guess": s.guess,
            "result_key": s.result_key,
            "submitted_at": s.submitted_at,
        }
        rows.append(row)
    sign = -1 if round_.metric == "unfollows" else 1
    rows.sort(key=lambda r: (not r["within_budget"], -sign * r["score"], r["submitted_at"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def export(store: Store, code: str) -> dict[str, Any]:
    """``coach workshop results --format json``: every round's last submission per participant."""
    room = store.room(code)
    exercise = room_exercise(room.exercise_yaml)
    out: list[dict[str, Any]] = []
    for index in range(room.rounds):
        subs = store.latest_submissions(room.code, index)
        results = store.get_results([s.result_key for s in subs])
        for s in subs:
            data = results.get(s.result_key)
            out.append({
                "name": s.name,
                "round": index + 1,
                "round_title": exercise.rounds[index].title,
                "submitted_at": iso(s.submitted_at),
                "habits": s.habits,
                "guess": s.guess,
                "summary": data["summary"] if data else None,
            })  # fmt: skip
    return {"room": room.code, "exercise": room.exercise_name, "title": exercise.title, "submissions": out}


def export_csv(data: dict[str, Any]) -> str:
    """One row per submission: round, name, time, habits, then the summary's medians and intervals."""
    habit_names = sorted({h for s in data["submissions"] for h in s["habits"]})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    figures = ["followers_end", "net", "follows", "unfollows"]
    header = ["room", "round", "name", "submitted_at", *habit_names, "guess"]
    header += [f"{f}_{q}" for f in figures for q in ("median", "p10", "p90")]
    header += [f"unfollows_{r}_median" for r in REASONS] + ["minutes_per_day"]
    writer.writerow(header)
    for s in data["submissions"]:
        row = [data["room"], s["round"], s["name"], s["submitted_at"]]
        row += [s["habits"].get(h, "") for h in habit_names] + ["" if s["guess"] is None else s["guess"]]
        summary = s["summary"]
        if summary:
            row += [summary[f][q] for f in figures for q in ("median", "p10", "p90")]
            row += [summary["unfollows_by_reason"][r]["median"] for r in REASONS] + [summary["minutes_per_day"]]
        writer.writerow(row)
    return buffer.getvalue()
