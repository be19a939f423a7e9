"""Simulate the next slider step before it is asked for.

People tune a habit by nudging its slider a step at a time in one direction ("a bit more…
a bit more"). After a page shows the runs for a nudged habit, the next step in the same
direction is simulated in the background while the person reads the numbers; when they
nudge again, the page takes that finished (or half-finished) result instead of starting
from nothing. The result is the one the page would compute itself — the same
:func:`coach.run_many` call on the same scenario, seed and runs — so a prefetched answer
cannot differ from a computed one.

Bounded on purpose: one look-ahead at a time per server, only while no other simulation
waits (it never delays anyone's real request: it gives way as soon as one queues, and when
the person moves the other way its now useless look-ahead is dropped), within
the same time and memory budget as every app run (:mod:`app.guard`). A look-ahead nobody
takes is dropped after :data:`KEEP` newer ones. ``COACH_LOOK_AHEAD=0`` in the server's
environment turns it off (the test suite does, outside tests/test_prefetch.py, so that no
test meets another's background work).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from app.guard import RUN_SECONDS, guarded
from app.state import MAIN_HABITS, MORE_HABITS, bounds
from coach import Ensemble, Habits, Scenario, run_many, workqueue

KEEP = 4  # look-aheads kept for the taking, the oldest dropped first
STEPS = {key: step for key, _, step in MAIN_HABITS + MORE_HABITS}

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coach-look-ahead")
_lock = threading.Lock()
_pending: OrderedDict[str, Future] = OrderedDict()  # look-aheads for the taking, by scenario JSON
_dropped: set[str] = set()  # look-aheads nobody wants any more: they stop at their next check
_active = 0  # look-aheads running now (they hold the queue's slot)


def next_value(key: str, old: float, new: float, grid: list[float] | None = None) -> float | None:
    """The slider value one more step from ``old`` past ``new`` (None at the end of the range).

    ``grid`` is the slider's list of values when it has one (Posts per day), else the step
    of :data:`STEPS` applies, within the field's bounds.
    """
    if new == old or key not in STEPS:
        return None
    up = new > old
    if grid is not None:
        later = [v for v in grid if (v > new if up else v < new)]
        return (min(later) if up else max(later)) if later else None
    value = new + (STEPS[key] if up else -STEPS[key])
    lo, hi, _ = bounds(Habits, key)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        return None
    return int(value) if Habits.model_fields[key].annotation is int else round(value, 6)


def following(previous: Scenario | None, current: Scenario, grid: list[float] | None = None) -> Scenario | None:
    """The scenario one more step along, when exactly one habit moved from ``previous`` to ``current``."""
    if previous is None or previous.model_copy(update={"habits": current.habits}) != current:
        return None  # something besides the habits changed (persona, audience, runs…)
    before, after = previous.habits.model_dump(), current.habits.model_dump()
    moved = [key for key in after if after[key] != before[key]]
    if len(moved) != 1 or moved[0] not in STEPS:
        return None
    key = moved[0]
    value = next_value(key, before[key], after[key], grid if key == "posts_per_day" else None)
    if value is None:
        return None
    try:
        return current.with_habits(**{key: value})
    except ValueError:  # the next step does not fit the other habits (shares over 1, …)
        return None


def ahead_of(previous: Scenario | None, current: Scenario, grid: list[float] | None = None) -> list[Scenario]:
    """What to simulate next: the following step of the habit just nudged; on a page that
    has just opened (a persona, a link), both neighbours of Posts per day, the habit people
    try first; nothing when nothing changed."""
    if previous == current:
        return []
    step = following(previous, current, grid)
    if step is not None:
        return [step]
    if previous is not None and previous.model_copy(update={"habits": current.habits}) == current:
        return []  # several habits moved at once (a preset, the YAML editor): no direction to follow
    now = current.habits.posts_per_day
    out = []
    for direction in (+1, -1):  # up first: as if the slider had just moved that way to `now`
        value = next_value("posts_per_day", now - direction, now, grid) if grid is not None else None
        if value is not None:
            try:
                out.append(current.with_habits(posts_per_day=value))
            except ValueError:
                pass
    return out


def _run(scenario_json: str) -> Ensemble:
    global _active
    scenario = Scenario.model_validate_json(scenario_json)

    def give_way(limit) -> bool:  # as soon as a real request waits, or nobody wants this any more
        return limit() or workqueue.load()[1] > 0 or scenario_json in _dropped

    with _lock:
        _active += 1
    try:
        return guarded(
            lambda limit: run_many(
                scenario, scenario.replicates, scenario.seed, parallel=None, should_stop=lambda: give_way(limit)
            )
        )
    finally:
        with _lock:
            _active -= 1
            _dropped.discard(scenario_json)


def _idle() -> bool:
    """No real request runs or waits (our own look-ahead may run: it gives way)."""
    running, waiting = workqueue.load()
    return waiting == 0 and running <= _active


def look_ahead(*scenarios: Scenario, replacing: Sequence[str] = ()) -> list[str]:
    """Start simulating these scenarios (one after the other, in the background) if the
    server is idle, and drop the look-aheads ``replacing`` names (the caller's earlier ones)
    that are not among them: queued ones never start, a running one stops at its next
    check. Returns the JSON of the look-aheads now wanted, to pass as ``replacing`` next time.
    """
    texts = [s.model_dump_json() for s in scenarios]
    with _lock:
        for text in replacing:
            if text not in texts and (future := _pending.pop(text, None)) is not None and not future.cancel():
                _dropped.add(text)
        if os.environ.get("COACH_LOOK_AHEAD", "1") == "0" or not _idle():
            return [t for t in texts if t in _pending]
        for text in texts:
            if text not in _pending:
                _dropped.discard(text)
                _pending[text] = _executor.submit(_run, text)
        while len(_pending) > KEEP:
            _pending.popitem(last=False)
        return [t for t in texts if t in _pending]


def take(scenario_json: str) -> Ensemble | None:
    """The look-ahead's ensemble for this scenario (waiting for it if still running), else None."""
    with _lock:
        future = _pending.pop(scenario_json, None)
    if future is None:
        return None
    try:
        return future.result(timeout=RUN_SECONDS)
    except Exception:  # cancelled to give way, over its budget, …: the page computes it itself
        return None


def drop_all() -> None:
    """Forget every look-ahead (waiting for those still running, so none outlives this call)."""
    with _lock:
        futures = list(_pending.values())
        _pending.clear()
    for future in futures:
        future.cancel()
        try:
            future.result()
        except Exception:  # cancelled, or it gave way: nothing to keep either way
            pass
