"""The Explore tab: "how many posts a day is best for me?" — one or two habits across a range.

Every value is run on the page's seed and replicate indices (the same runs as the
Predictions tab), with the other settings as they are in the sidebar, so the curve's
differences come from the habit, not from luck, and the point at your current setting is
the Predictions tab's number. Your current value is always one of the grid's values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

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
from coach import Habits, Scenario, estimated_seconds, worker_count
from coach import sweep_plots as charts
from coach.sweep import Axis, sweep_of
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

    Kept here rather than in app/state.py: no other view reads this cache.
    """
    sweep = sweep_of(Scenario.model_validate_json(scenario_json), [Axis(f, v) for f, v in axes])
    bar = st.progress(0.0, text=f"Simulating {sweep.size} values × {sweep.replicates} runs…")

    def progress(cells: int, total: int, runs: int, runs_total: int) -> None:
        bar.progress(runs / runs_total, text=f"Simulating value {min(cells + 1, total)} of {total}…")

    results = list(run_sweep(sweep, parallel=worker_count() > 1 and sweep.runs > 1, progress=progress))
    bar.empty()
    return results


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
    keep("explore_habits", ["posts_per_day"])
    keep("explore_outcome", "net")
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
        9,
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
    cells = int(np.prod([len(v) for _, v in axes]))
    seconds = cells * estimated_seconds(current, current.replicates) / max(1, min(worker_count(), cells * current.replicates))  # fmt: skip
    if seconds > MAX_SECONDS:
        st.warning(
            f"{cells} values × {current.replicates} runs would take about {seconds:.0f} seconds; this page stops at "
            f"about {MAX_SECONDS:.0f}. Use fewer values or runs, or run it from the command line: "
            f"`coach sweep my-settings.yaml --vary habits.{habits[0]}=…` (Download settings in the sidebar)."
        )
        return
    try:
        results = explore_cells(current.model_dump_json(), tuple(axes))
    except Exception as exc:  # the page must never show a traceback
        st.error(f"These values could not be simulated ({type(exc).__name__}: {exc}).")
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
    sweep = sweep_of(current, [Axis(f, v) for f, v in axes])
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
