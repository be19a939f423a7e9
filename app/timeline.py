"""Edit the timeline in the page: "from day N, reply rate 0.9", without writing YAML.

The steps live in ``st.session_state["timeline_rows"]`` as ``{"day", "habit", "value"}``
rows (loaded from the reference by :func:`app.state.load_base`); ``settings_data`` turns
them into the scenario's ``timeline``. Each row is one habit from one day on; rows of the
same day become one step.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.state import HABIT_LABELS, INT_HABITS, MAIN_HABITS, MORE_HABITS, bounds
from coach import Habits

EDITABLE = [key for key, _, _ in MAIN_HABITS + MORE_HABITS]


def _add() -> None:
    ss = st.session_state
    habit, day, value = ss["tl_habit"], int(ss["tl_day"]), float(ss["tl_value"])
    lo, hi, _ = bounds(Habits, habit)
    label = HABIT_LABELS[habit]
    if lo is not None and hi is not None and not lo <= value <= hi:
        ss["tl_problem"] = f"{label} {value:g} is not allowed; allowed: {lo:g} to {hi:,g}. Nothing was added."
        return
    if day > int(ss["days"]):
        ss["tl_problem"] = f"Day {day} is after the horizon ({ss['days']} days). Nothing was added."
        return
    if habit in INT_HABITS and not value.is_integer():
        ss["tl_problem"] = f"{label} takes whole numbers; {value:g} is not one. Nothing was added."
        return
    rows = [r for r in ss.get("timeline_rows", []) if not (r["day"] == day and r["habit"] == habit)]
    rows.append({"day": day, "habit": habit, "value": int(value) if habit in INT_HABITS else value})
    ss["timeline_rows"] = sorted(rows, key=lambda r: (r["day"], EDITABLE.index(r["habit"])))
    ss["tl_problem"] = None


def _remove(index: int) -> None:
    ss = st.session_state
    rows = list(ss.get("timeline_rows", []))
    if 0 <= index < len(rows):
        del rows[index]
    ss["timeline_rows"] = rows


def row_words(row: dict[str, Any]) -> str:
    return f"From day {row['day']}: {HABIT_LABELS[row['habit']].lower()} {row['value']:g}"


def timeline_editor() -> None:
    """The sidebar's "Habits that change over time" panel."""
    ss = st.session_state
    rows = ss.get("timeline_rows", [])
    with st.expander(f"Habits that change over time ({len(rows)})" if rows else "Habits that change over time"):
        st.caption("The sliders set the habits from day 1; add a change to switch one habit from a later day on.")
        for i, row in enumerate(rows):
            left, right = st.columns([3, 1], vertical_alignment="center")
            left.text(row_words(row))
            right.button("Remove", key=f"tl_remove_{i}", on_click=_remove, args=(i,))
        if "tl_day" not in ss:
            ss["tl_day"] = max(1, int(ss.get("days", 90)) // 2)
        st.number_input("From day", 1, 730, step=1, key="tl_day")
        st.selectbox("Habit", EDITABLE, format_func=HABIT_LABELS.get, key="tl_habit")
        st.number_input("New value", 0.0, 200.0, step=0.05, key="tl_value", format="%g")
        st.button("Add this change", key="tl_add", on_click=_add, width="stretch")
        if ss.get("tl_problem"):
            st.warning(ss["tl_problem"])
