"""The Compare tab: two to four scenarios side by side, on the same horizon, runs and seeds.

It leads with what the habits do — net change and growth (% of the starting followers) —
not with the accounts' sizes, which differ from persona to persona (500 to 3,000 followers).
"Same starting audience" goes one step further: every scenario's habits on the first pick's
audience, so only the habits differ.
"""

from __future__ import annotations

import streamlit as st

from app.layout import escape_markdown
from app.state import APP_RUNS, HABIT_LABELS, png_download, refusal, simulate, with_run_settings
from app.text import safe
from coach import Ensemble, Scenario, plots

SHOW = {"net": "Net change", "growth": "Growth (%)", "followers": "Followers"}


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


def _remember(key: str) -> None:
    st.session_state[f"_{key}"] = st.session_state[key]


def on_audience(scenario: Scenario, audience_of: Scenario) -> Scenario:
    """``scenario``'s habits, platform and timeline on ``audience_of``'s audience."""
    return scenario.model_copy(update={"audience": audience_of.audience})


def net_card(col, label: str, ensemble: Ensemble) -> None:
    """One scenario's headline: net change, growth %, and start → end in words."""
    s = ensemble.summary()
    start = s["followers_start"]
    net = s["net"]["median"]
    growth = 100.0 * net / max(start, 1)
    col.metric(
        escape_markdown(label),  # a saved variant's name is typed by a person: shown as text
        f"{round(net) + 0:+,}",
        f"{growth:+.1f}% growth",
        delta_color="normal",
        border=True,
        help="Net change: new followers minus people who left over the horizon (median of the runs).",
    )
    col.caption(
        f"{start:,} → {s['followers_end']['median']:,.0f} followers; 80% of runs: "
        f"{s['net']['p10']:+,.0f} to {s['net']['p90']:+,.0f}"
    )


def compare_tab(personas: dict[str, Scenario], current: Scenario | None) -> None:
    ss = st.session_state
    options = compare_options(personas)
    if "compare_pick" not in ss:  # widget state is dropped while the tab is hidden; restore it
        ss["compare_pick"] = [k for k in ss["_compare_pick"] if k in options]
    for key, default in (("compare_show", "net"), ("compare_same_audience", False)):
        if key not in ss:
            ss[key] = ss.get(f"_{key}", default)
    present = bool(ss.get("present"))
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
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    c1.segmented_control(
        "Show",
        list(SHOW),
        label_visibility="collapsed" if present else "visible",
        format_func=SHOW.get,
        key="compare_show",
        on_change=_remember,
        args=("compare_show",),
        help="Net change and growth say what the habits did, whatever the account's size; followers show the sizes.",
    )
    c2.toggle(
        "Same starting audience",
        key="compare_same_audience",
        on_change=_remember,
        args=("compare_same_audience",),
        help="Run every scenario's habits on the first pick's audience (followers and kinds of follower), "
        "so only the habits differ.",
    )
    show = ss.get("compare_show") or "net"
    if current is not None:
        days, reps, seed = current.days, current.replicates, current.seed
    else:  # the scenario format's defaults, with runs capped as when a persona opens
        fields = Scenario.model_fields
        days, reps, seed = fields["days"].default, min(fields["replicates"].default, APP_RUNS), fields["seed"].default
    scenarios, labels, colors = [], [], []
    for key in picks:
        label, scenario = options[key]
        scenario = current if key == "current" else scenario
        scenarios.append(with_run_settings(scenario, days, reps, seed))
        labels.append(label if label not in labels else f"{label} ({len(labels) + 1})")
        colors.append(plots.scenario_color(key))
    if ss["compare_same_audience"]:
        scenarios = [scenarios[0]] + [on_audience(s, scenarios[0]) for s in scenarios[1:]]
    message = next((m for m in (refusal(s, len(scenarios)) for s in scenarios) if m), None)
    if message:
        st.warning(safe(message))
        return
    ensembles = [simulate(s) for s in scenarios]
    if any(e is None for e in ensembles):
        return
    audience = (
        f"all on the audience of “{labels[0]}” ({scenarios[0].audience.followers:,} followers)"
        if ss["compare_same_audience"]
        else "each on its own audience"
    )
    if not present:  # on a projector the chart's subtitle says it
        st.caption(
            f"All scenarios ran {days} days, {reps} runs each, on the same seeds ({seed}), {audience}, "
            "so differences come from the settings, not luck."
        )
    first, second = st.container(), st.container()
    chart_slot, cards_slot = (first, second) if ss.get("present") else (second, first)
    cols = cards_slot.container(key="cards").columns(len(ensembles))  # compact cards (app/layout.py)
    for col, label, ensemble in zip(cols, labels, ensembles, strict=True):
        net_card(col, label, ensemble)
    markers = []
    for label, s in zip(labels, scenarios, strict=True):
        markers += [(day, f"{label}, {what}") for day, what in plots.timeline_markers(s, HABIT_LABELS)]
    chart = plots.compare_chart(
        ensembles,
        labels,
        measure=show,
        colors=colors,
        markers=markers,
        height=230 if present else 360,
        subtitle=f"{days} days, {reps} runs each, same seeds ({seed}), {audience}; shaded: 80% of runs",
        legend="top" if present else "bottom",
    )
    chart_slot.altair_chart(plots.larger(chart) if present else chart, width="stretch", theme=None)
    reasons = plots.reasons_compare_chart(ensembles, labels, colors=colors)
    st.altair_chart(reasons, width="stretch", theme=None)
    st.markdown(
        f"**Side by side** — each column after the first: median (change from “{labels[0]}”, run by run on the "
        "same luck; the range covering 80% of runs)"
    )
    table = plots.compare_table(ensembles, labels)
    st.dataframe(table, width="stretch", height=35 * (len(table) + 1) + 3)  # every row, no inner scrolling
    d1, d2, d3 = st.columns(3)

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
    context = [
        "Compared: " + " · ".join(labels),
        f"{days} days, {reps} runs each, seed {seed}, {audience}",
    ]
    png_download(d2, "Comparison chart (PNG)", chart, "comparison.png", "dl_compare_png", context, width="stretch")
    png_download(
        d3,
        "Why people left (PNG)",
        reasons,
        "comparison-why-left.png",
        "dl_compare_reasons_png",
        context,
        width="stretch",
    )
