"""The Explore tab: "how many posts a day is best for me?" — one or two habits across a range.

Every value is run on the page's seed and replicate indices (the same runs as the
Predictions tab), with the other settings as they are in the sidebar, so the curve's
differences come from the habit, not from luck, and the point at your current setting is
the Predictions tab's number. Your current value is always one of the grid's values.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import streamlit as st

from app.guard import APP_LIMITS, guarded
from app.state import (
    HABIT_LABELS,
    INT_HABITS,
    MAIN_HABITS,
    MAX_SECONDS,
    MORE_HABITS,
    bounds,
    keep,
    png_download,
    remember,
    slug,
)
from app.text import safe
from coach import Habits, Scenario, ScenarioError, estimated_seconds, worker_count, workqueue
from coach import sweep_plots as charts
from coach.budget import check
from coach.engine import RunCancelled
from coach.messages import format_number, quote
from coach.sweep import Axis, Sweep, sweep_of
from coach.sweep_backends import CellResult, run_sweep
from coach.sweep_output import csv_header, csv_rows, csv_text

STEPS = {key: step for key, _, step in MAIN_HABITS + MORE_HABITS}
DEFAULT_RANGES = {  # a useful first look; any range within the field's bounds can be chosen
    "posts_per_day": (0.5, 12.0),
    "reply_rate": (0.0, 1.0),
    "link_share": (0.0, 0.8),
    "posts_per_session": (1.0, 6.0),
    "promo_share": (0.0, 0.5),
    "question_share": (0.0, 0.5),
    "outreach_per_day": (0.0, 20.0),
    "follow_back_rate": (0.0, 1.0),
    "reply_delay_hours": (0.5, 24.0),
    "minutes_per_post": (1.0, 15.0),
    "minutes_per_reply": (0.5, 10.0),
}
COUNTS = {1: 5, 2: 3}  # values per habit by default: one habit 5 (+ yours), two habits 3 × 3 (+ yours)
DEFAULT_HABITS = ["posts_per_day"]
DEFAULT_OUTCOME = "net"
MOST_VALUES = 9  # the "Values per habit" slider's top: 10 × 10 cells at most with your values added
URL_PARAMS = ("explore", "explore_range", "explore_values", "explore_outcome")
"""Explore's picks in the page's link (listed in app/state.py URL_KEYS, so they are known)."""


def grid_values(habit: str, low: float, high: float, count: int, current: float) -> list[float | int]:
    """``count`` evenly spaced values on the slider's step, plus your current value if in range."""
    step = STEPS[habit]
    raw = np.linspace(low, high, count)
    values = {round(round(v / step) * step, 6) for v in raw}
    if low <= current <= high:
        values.add(current)
    cast = int if habit in INT_HABITS else float
    return sorted({cast(v) for v in values})


@st.cache_data(show_spinner=False, max_entries=16)
def explore_cells(scenario_json: str, axes: tuple[tuple[str, tuple[Any, ...]], ...]) -> list[CellResult]:
    """Every cell of the grid, on the scenario's seed and replicates; cached on the scenario's JSON.

    Runs as one job in the server's queue under the page's time and memory budget
    (app/guard.py), like every other tab's simulation: it raises RunCancelled or Busy with a
    sentence for the page, and nothing half-done is cached (cache_data keeps only returns).
    Kept here rather than in app/state.py: no other view reads this cache.
    """
    sweep = sweep_of(Scenario.model_validate_json(scenario_json), [Axis(f, v) for f, v in axes])
    running, waiting = workqueue.load()
    first = f"Simulating {sweep.size} values × {sweep.replicates} runs…"
    if running or waiting:
        first = (
            f"Waiting for {running + waiting} other simulation(s) on this server, then {first[0].lower()}{first[1:]}"
        )
    bar = st.progress(0.0, text=first)

    def progress(cells: int, total: int, runs: int, runs_total: int) -> None:
        bar.progress(runs / runs_total, text=f"Simulating value {min(cells + 1, total)} of {total}…")

    parallel = worker_count() > 1 and sweep.runs > 1
    try:
        return guarded(lambda stop: list(run_sweep(sweep, parallel=parallel, progress=progress, should_stop=stop)))
    finally:
        bar.empty()


def grid_refusal(sweep: Sweep, habits: list[str]) -> str | None:
    """Why the page will not run this grid (too long, or a value whose crowd needs too much memory), else None.

    Time: the engine's estimate summed over the cells, on every core. Memory: each cell's
    projected crowd (coach/budget.py), since a larger habit value can grow a larger crowd.
    """
    cells = list(sweep.cells())
    runs = sweep.runs
    cli = f"`coach sweep my-settings.yaml --vary habits.{habits[0]}=…` (Download settings in the sidebar)"
    seconds = sum(estimated_seconds(c.scenario, sweep.replicates) for c in cells) / max(1, min(worker_count(), runs))
    if seconds > MAX_SECONDS:
        return (
            f"{len(cells)} values × {sweep.replicates} runs would take about {seconds:.0f} seconds; this page stops at "
            f"about {MAX_SECONDS:.0f}. Use fewer values or runs, or run it from the command line: {cli}."
        )
    memory_only = dataclasses.replace(APP_LIMITS, max_seconds=None)  # time is summed over the cells above
    for cell in cells:
        where = "These settings with " + ", ".join(
            f"{HABIT_LABELS[f.split('.', 1)[1]].lower()} {v:g}" for f, v in cell.values.items()
        )
        problems = check(cell.scenario, memory_only, runs=sweep.replicates, where=where)
        if problems:
            return (
                " ".join(problems)
                + f" This page allows about {APP_LIMITS.max_bytes_per_run / 1e9:g} GB a run so it stays "
                "responsive for everyone; "
                f"narrow the range, or run the grid from the command line: {cli}."
            )
    return None


# ---- the link: Explore's picks as query parameters -----------------------------------


def _picked(key: str, default: Any) -> Any:
    """A widget's value, or the copy kept while its tab was hidden (see ``keep``), or ``default``."""
    ss = st.session_state
    return ss[key] if key in ss else ss.get(f"_{key}", default)


def explore_params() -> dict[str, str]:
    """Explore's picks for the page's link: only what differs from the tab's defaults.

    ``explore=posts_per_day,reply_rate`` (the habits, in order), ``explore_range=0.5:12,0:1``
    (LOW:HIGH per habit, same order), ``explore_values=4`` (values per habit) and
    ``explore_outcome=followers_end``.
    """
    habits = list(_picked("explore_habits", DEFAULT_HABITS))
    params: dict[str, str] = {}
    if habits != DEFAULT_HABITS:
        params["explore"] = ",".join(habits)
    ranges = [tuple(_picked(f"explore_range_{h}", DEFAULT_RANGES[h])) for h in habits]
    if any(r != tuple(DEFAULT_RANGES[h]) for r, h in zip(ranges, habits, strict=True)):
        params["explore_range"] = ",".join(f"{lo:g}:{hi:g}" for lo, hi in ranges)
    if habits:
        count = _picked(f"explore_count_{len(habits)}", COUNTS[len(habits)])
        if count != COUNTS[len(habits)]:
            params["explore_values"] = str(count)
    outcome = _picked("explore_outcome", DEFAULT_OUTCOME)
    if outcome != DEFAULT_OUTCOME:
        params["explore_outcome"] = outcome
    return params


def _habit_range(habit: str, text: str) -> tuple[Any, Any] | None:
    """``LOW:HIGH`` for one habit on its slider's bounds and step, or None if it is not one."""
    lo, hi, _ = bounds(Habits, habit)
    step = STEPS[habit]
    pieces = text.split(":")
    if len(pieces) != 2 or any(len(p) > 40 for p in pieces):  # 5,000 digits are not a setting
        return None
    try:
        low, high = (float(p) for p in pieces)
    except ValueError:
        return None
    on_step = all(abs(round((v - lo) / step) * step + lo - v) < 1e-9 for v in (low, high) if math.isfinite(v))
    if not (math.isfinite(low) and math.isfinite(high) and on_step and lo <= low < high <= hi):
        return None
    cast = int if habit in INT_HABITS else float
    return cast(round(low, 6)), cast(round(high, 6))


def read_explore_params() -> list[str]:
    """Restore Explore's picks from the link (into the copies ``keep`` reads); return problems found."""
    qp = st.query_params
    ss = st.session_state
    problems: list[str] = []
    options = [key for key, _, _ in MAIN_HABITS + MORE_HABITS]
    habits = list(DEFAULT_HABITS)
    habits_ok = True
    if "explore" in qp:
        text = qp["explore"]
        picked = [part.strip() for part in text.split(",")] if text.strip() else []
        if len(picked) <= 2 and len(set(picked)) == len(picked) and all(p in options for p in picked):
            habits = picked
            ss["_explore_habits"] = habits
        else:
            habits_ok = False
            problems.append(
                f"URL parameter explore={quote(text)} is not allowed; allowed: one or two different habits, "
                f"comma-separated, from {', '.join(options)}. Explore shows {DEFAULT_HABITS[0]} with its default "
                "range instead."
            )
    if "explore_range" in qp and habits_ok:
        text = qp["explore_range"]
        parts = text.split(",")
        ranges = [_habit_range(h, part) for h, part in zip(habits, parts, strict=False)]
        if len(parts) == len(habits) and all(r is not None for r in ranges):
            for habit, r in zip(habits, ranges, strict=True):
                ss[f"_explore_range_{habit}"] = r
        else:
            wanted = []
            for habit in habits or DEFAULT_HABITS:
                lo, hi, _ = bounds(Habits, habit)
                wanted.append(
                    f"{habit} from {format_number(lo)} to {format_number(hi)} in steps of {format_number(STEPS[habit])}"
                )
            problems.append(
                f"URL parameter explore_range={quote(text)} is not allowed; allowed: LOW:HIGH with LOW below HIGH "
                f"for each habit in explore, comma-separated in the same order: {'; '.join(wanted)}. "
                "Using the default range instead."
            )
    if "explore_values" in qp:
        text = qp["explore_values"]
        count = int(text) if text.isdigit() and len(text) <= 2 else None
        if count is not None and 2 <= count <= MOST_VALUES:
            if habits:  # no habit picked: nothing to count
                ss[f"_explore_count_{len(habits)}"] = count
        else:
            problems.append(
                f"URL parameter explore_values={quote(text)} is not allowed; allowed: a whole number of values per "
                f"habit from 2 to {MOST_VALUES}. Using {COUNTS[len(habits) or 1]} instead."
            )
    if "explore_outcome" in qp:
        text = qp["explore_outcome"]
        if text in charts.OUTCOMES:
            ss["_explore_outcome"] = text
        else:
            problems.append(
                f"URL parameter explore_outcome={quote(text)} is not an outcome; allowed: "
                f"{', '.join(charts.OUTCOMES)}. Showing {DEFAULT_OUTCOME} instead."
            )
    return problems


def explore_tab(current: Scenario | None) -> None:
    ss = st.session_state
    if current is None:
        st.error("Your settings are not valid, so nothing can be explored; fix them in the sidebar.")
        return
    st.markdown(
        "How does one habit (or two) change the outcome for **this** audience? Every value runs on the "
        "same seeds as the Predictions tab, with your other settings unchanged."
    )
    options = [key for key, _, _ in MAIN_HABITS + MORE_HABITS]
    keep("explore_habits", list(DEFAULT_HABITS))
    keep("explore_outcome", DEFAULT_OUTCOME)
    c1, c2 = st.columns(2)
    c1.multiselect(
        "Habits to vary (one or two)",
        options,
        format_func=lambda k: HABIT_LABELS[k],
        max_selections=2,
        key="explore_habits",
        on_change=remember,
        args=("explore_habits",),
    )
    c2.selectbox(
        "Outcome",
        list(charts.OUTCOMES),
        format_func=lambda k: charts.OUTCOMES[k][0],
        key="explore_outcome",
        on_change=remember,
        args=("explore_outcome",),
    )
    habits: list[str] = list(ss["explore_habits"])
    outcome: str = ss["explore_outcome"]
    if not habits:
        st.info("Pick a habit to vary, for example Posts per day.")
        return
    count_key = f"explore_count_{len(habits)}"
    keep(count_key, COUNTS[len(habits)])
    st.slider(
        "Values per habit",
        2,
        MOST_VALUES,
        key=count_key,
        on_change=remember,
        args=(count_key,),
        help="Evenly spaced over each range; your current value is added. More values take longer.",
    )
    axes = []
    cols = st.columns(len(habits))
    for col, habit in zip(cols, habits, strict=True):
        lo, hi, _ = bounds(Habits, habit)
        key = f"explore_range_{habit}"
        keep(key, DEFAULT_RANGES[habit])
        cast = int if habit in INT_HABITS else float
        col.slider(
            f"{HABIT_LABELS[habit]}: range",
            cast(lo),
            cast(hi),
            step=cast(STEPS[habit]),
            key=key,
            on_change=remember,
            args=(key,),
        )
        low, high = ss[key]
        axes.append(
            (f"habits.{habit}", tuple(grid_values(habit, low, high, ss[count_key], getattr(current.habits, habit))))
        )
    try:
        sweep = sweep_of(current, [Axis(f, v) for f, v in axes])
    except ScenarioError as exc:  # e.g. a link share that, with your other shares, passes 100%
        st.warning(
            safe(
                "Some values in this range are not valid with your other settings, so nothing was simulated: "
                + "; ".join(exc.problems)
                + ". Narrow the range or change the other settings in the sidebar."
            )
        )
        return
    refused = grid_refusal(sweep, habits)
    if refused:
        st.warning(refused)
        return
    try:
        results = explore_cells(current.model_dump_json(), tuple(axes))
    except (RunCancelled, workqueue.Busy) as exc:  # over the page's budget, or the server's queue is full
        st.warning(
            safe(
                f"{exc} In Explore, fewer values per habit also help; the whole grid runs from the command line "
                f"with `coach sweep` (docs/cli.md)."
            )
        )
        return
    except Exception as exc:  # the page must never show a traceback
        st.error(safe(f"These values could not be simulated ({type(exc).__name__}: {str(exc)[:300]})."))
        return
    frame = charts.sweep_frame(results, outcome)
    fields = [f"habits.{h}" for h in habits]
    frame = frame.rename(columns=dict(zip(fields, habits, strict=True)))
    labels = [HABIT_LABELS[h] for h in habits]
    mine = {h: getattr(current.habits, h) for h in habits}
    best = charts.best_row(frame, outcome)
    if len(habits) == 1:
        chart = charts.line_chart(frame, habits[0], outcome, label=labels[0], current=mine[habits[0]])
    else:
        chart = charts.heatmap(frame, (habits[0], habits[1]), outcome, labels=(labels[0], labels[1]), current=mine)
    st.altair_chart(chart, width="stretch", theme=None)
    title = charts.OUTCOMES[outcome][0].lower()
    where = ", ".join(f"{label.lower()} {best[h]:g}" for label, h in zip(labels, habits, strict=True))
    st.markdown(
        f"**Best in this range:** {where} — {title} {best['median']:,.0f} "
        f"(80% of runs: {best['p10']:,.0f} to {best['p90']:,.0f})."
    )
    here = frame
    for h in habits:
        here = here[here[h] == mine[h]]
    if len(here):
        row = here.iloc[0]
        st.caption(
            f"Your current setting ({', '.join(f'{label.lower()} {mine[h]:g}' for label, h in zip(labels, habits, strict=True))}): "
            f"{title} {row['median']:,.0f} (80% of runs: {row['p10']:,.0f} to {row['p90']:,.0f}). "
            f"{current.replicates} runs per value on seed {current.seed}, {current.days} days."
        )
    else:
        st.caption("Your current setting is outside the chosen range, so it is not marked.")
    ss["explore"] = {"habits": habits, "outcome": outcome, "values": [list(v) for _, v in axes], "best": best.to_dict()}
    d1, d2 = st.columns(2)

    def tidy_csv() -> str:
        return csv_text([csv_header(sweep)] + [row for r in results for row in csv_rows(sweep, r)])

    d1.download_button(
        "Every run (CSV)",
        data=tidy_csv,
        file_name=f"explore-{slug('-'.join(habits))}.csv",
        mime="text/csv",
        key="dl_explore_csv",
        on_click="ignore",
        width="stretch",
    )
    png_download(d2, "Chart (PNG)", chart, f"explore-{slug('-'.join(habits))}.png", "dl_explore_png", width="stretch")
