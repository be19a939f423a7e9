"""The Compare tab: two to four scenarios side by side, on the same horizon, runs and seeds."""

from __future__ import annotations

import streamlit as st

from app.state import APP_RUNS, png_download, refusal, simulate, with_run_settings
from app.text import safe
from coach import Scenario, plots


def compare_options(personas: dict[str, Scenario]) -> dict[str, tuple[str, Scenario | None]]:
    """Option key → (label, scenario); ``current`` is resolved by the caller."""
    options: dict[str, tuple[str, Scenario | None]] = {"current": ("Your current settings", None)}
    for key, s in personas.items():
        options[f"persona:{key}"] = (s.name, s)
    for name, s in st.session_state["variants"].items():
        options[f"variant:{name}"] = (f"{name} (saved)", s)
    return options


def on_compare_pick() -> None:
    st.session_state["_compare_pick"] = list(st.session_state["compare_pick"])


def compare_tab(personas: dict[str, Scenario], current: Scenario | None) -> None:
    ss = st.session_state
    options = compare_options(personas)
    if "compare_pick" not in ss:  # widget state is dropped while the tab is hidden; restore it
        ss["compare_pick"] = [k for k in ss["_compare_pick"] if k in options]
    st.multiselect(
        "Scenarios to compare (two to four)",
        list(options),
        format_func=lambda k: options[k][0],
        max_selections=4,
        key="compare_pick",
        on_change=on_compare_pick,
        help="Personas, your current settings, and variants saved with “Save as variant” in the sidebar.",
    )
    picks = list(ss["compare_pick"])
    if len(picks) < 2:
        st.info("Pick at least two scenarios. Save your own variants with “Save as variant” in the sidebar.")
        return
    if current is None and "current" in picks:
        st.error("Your current settings are not valid; fix them in the sidebar or remove them from the comparison.")
        return
    if current is not None:
        days, reps, seed = current.days, current.replicates, current.seed
    else:  # the scenario format's defaults, with runs capped as when a persona opens
        fields = Scenario.model_fields
        days, reps, seed = fields["days"].default, min(fields["replicates"].default, APP_RUNS), fields["seed"].default
    scenarios, labels = [], []
    for key in picks:
        label, scenario = options[key]
        scenario = current if key == "current" else scenario
        scenarios.append(with_run_settings(scenario, days, reps, seed))
        labels.append(label if label not in labels else f"{label} ({len(labels) + 1})")
    message = next((m for m in (refusal(s, len(scenarios)) for s in scenarios) if m), None)
    if message:
        st.warning(safe(message))
        return
    ensembles = [simulate(s) for s in scenarios]
    if any(e is None for e in ensembles):
        return
    st.caption(
        f"All scenarios ran {days} days, {reps} runs each, on the same seeds ({seed}), so differences come from the settings, not luck."
    )
    chart = plots.compare_chart(ensembles, labels)
    st.altair_chart(chart, width="stretch", theme=None)
    st.markdown(
        f"**Side by side** — each column after the first: median (paired change vs “{safe(labels[0])}”; 80% of runs)"
    )
    table = plots.compare_table(ensembles, labels)
    st.dataframe(table, width="stretch", height=35 * (len(table) + 1) + 3)  # every row, no inner scrolling
    d1, d2 = st.columns(2)

    def csv() -> str:  # one table: the header once, then every scenario's days
        return "".join(e.to_csv() if i == 0 else e.to_csv().split("\n", 1)[1] for i, e in enumerate(ensembles))

    d1.download_button(
        "Comparison per day (CSV)",
        data=csv,
        file_name="comparison-daily.csv",
        mime="text/csv",
        key="dl_compare_csv",
        on_click="ignore",
        width="stretch",
    )
    png_download(d2, "Comparison chart (PNG)", chart, "comparison.png", "dl_compare_png", width="stretch")
