"""The Coach tab: what the coach sees in your settings, and changes worth trying."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from app.guard import APP_LIMITS, COACH_RUN_SECONDS, guarded
from app.state import HABIT_LABELS, MAX_SECONDS, keep, on_apply, png_download, remember
from app.text import safe
from coach import Scenario, plots, worker_count, workqueue
from coach.budget import check, describe_seconds
from coach.engine import RunCancelled

# A coaching run simulates about this many candidate habit sets of ADVICE_REPLICATES runs each
# (the search plus fresh runs for the finalists): the page's estimate of its cost.
COACH_CANDIDATES = 40
# The coach is refused when that estimate (seconds, on all cores) exceeds this: it is pressed
# on purpose and shows its progress, so it may take longer than one simulation (MAX_SECONDS).
COACH_MAX_SECONDS = 15 * MAX_SECONDS  # once it runs, app.guard.COACH_RUN_SECONDS stops it


CONVERSATION_HABITS = ("reply_rate", "outreach_per_day")


def why_no_answering(result: dict) -> str | None:
    """When the diagnosis says answering would bring more but no suggestion answers more:
    say why (its cost in minutes is over the budget, or it gained too little), in words."""
    said = any(f.get("topic") in ("conversation", "ignored") for f in result.get("diagnosis", []))
    suggested = any(h in CONVERSATION_HABITS for s in result.get("suggestions", []) for h in s.get("changes", {}))
    if not said or suggested:
        return None
    budget = result.get("budget_minutes_per_day") or 0.0
    parts = []
    for row in result.get("sensitivity", []):
        if row.get("habit") not in CONVERSATION_HABITS or not row.get("high"):
            continue
        high = row["high"]
        gain = high["gain"]["median"] if isinstance(high.get("gain"), dict) else float(high.get("gain") or 0)
        minutes = high.get("minutes_per_day")
        label = HABIT_LABELS.get(row["habit"], row["habit"]).lower()
        if minutes is not None and minutes > budget:
            parts.append(
                f"raising {label} to {high['value']:g} would bring {gain:+,.0f} followers but takes about "
                f"{minutes:,.0f} minutes a day, more than your budget of {budget:,.0f}"
            )
        elif gain <= float(result.get("search", {}).get("min_gain", 0.0)):
            parts.append(f"raising {label} to {high['value']:g} gained only {gain:+,.0f} followers in these runs")
        else:
            parts.append(
                f"raising {label} to {high['value']:g} would bring {gain:+,.0f} followers, but the changes "
                "suggested bring more for the same time"
            )
    if not parts:
        return (
            "Why no suggestion about answering: the changes to replies and outreach the coach tried did not "
            "beat the others within your time budget."
        )
    return (
        "Why no suggestion about answering, though the coach sees it would help: "
        + "; ".join(parts)
        + ". Raise the time budget to let the coach suggest it."
    )


def coach_tab(current: Scenario | None) -> None:
    ss = st.session_state
    try:
        from coach.advisor import ADVICE_REPLICATES, advise
    except ImportError as exc:
        st.info(f"The coach is not available in this installation ({exc}).")
        return
    st.markdown(
        "The coach runs your current settings, says what it sees, then tries realistic changes of one "
        "or two habits — every candidate on the same seeds — and keeps those that gain followers "
        "within your time budget. It checks its favourites again on fresh runs before suggesting them."
    )
    if current is None:
        st.error("Your current settings are not valid; fix them in the sidebar first.")
        return
    keep("budget", None)
    st.number_input(
        "Time budget (minutes per day)",
        min_value=0.0,
        max_value=1440.0,
        step=5.0,
        key="budget",
        on_change=remember,
        args=("budget",),
        placeholder="empty: a little more than now",
        help="The most time a day you want to spend. Empty: your current minutes × 1.25 or + 10 minutes, whichever is more.",
    )
    # Refused on the projected crowd, not the starting one (coach/budget.py), like a simulation.
    limits = replace(APP_LIMITS, max_seconds=COACH_MAX_SECONDS)
    problems = check(
        current, limits, runs=COACH_CANDIDATES * ADVICE_REPLICATES, workers=worker_count(),
        levers="the horizon (days) or the starting followers",  # the coach's runs are its own
    )  # fmt: skip
    too_long = bool(problems)
    if too_long:
        st.warning(
            safe(" ".join(problems).replace("These settings would take", "Coaching these settings would take"))
            + " Run `coach advise` from the command line instead."
        )
    if st.button("Coach me", key="coach_me", type="primary", disabled=too_long):
        limit = describe_seconds(COACH_RUN_SECONDS)
        bar = st.progress(0.0, text="Running your settings…")

        def progress(done: int, total: int) -> None:
            bar.progress(
                min(1.0, done / max(total, 1)),
                text=f"Trying changes: {done} of about {total} runs… (the coach stops after {limit})",
            )

        try:
            # In the server's one queue, under a time and memory budget that really stops it
            # (app/guard.py: the engine asks between runs and once a simulated day).
            advice = guarded(
                lambda stop: advise(current, budget_minutes=ss.get("budget"), progress=progress, should_stop=stop),
                COACH_RUN_SECONDS,
                what="The coach",
                instead="Lower the runs, the horizon or the starting followers, or ask the coach from the "
                "command line, where it has no time limit (`coach advise my-settings.yaml`).",
            )
        except (workqueue.Busy, RunCancelled) as exc:
            bar.empty()
            st.warning(safe(str(exc)))
            return
        except Exception as exc:  # never a traceback
            bar.empty()
            st.error(f"The coach could not finish ({type(exc).__name__}: {exc}).")
            return
        bar.empty()
        ss["advice"] = {"scenario": current.model_dump_json(), "result": advice.to_dict()}
    stored = ss.get("advice")
    if not stored:
        st.caption("Coaching takes a few seconds to a minute; the result stays here while you try its suggestions.")
        return
    result = stored["result"]
    if stored["scenario"] != current.model_dump_json():
        st.info(
            "This advice was worked out for your settings before the latest change (an applied suggestion counts). Press “Coach me” again to coach the new settings."
        )
    st.subheader("What the coach sees")
    for finding in result.get("diagnosis", []):
        st.markdown(f"**{finding['finding']}**")
        st.caption(finding["evidence"])
    st.subheader("What to try")
    budget = result.get("budget_minutes_per_day")
    if result.get("message"):
        st.markdown(result["message"])
    for i, suggestion in enumerate(result.get("suggestions", [])):
        with st.container(border=True):
            st.markdown(f"**{suggestion['text']}**")
            c1, c2, c3, c4 = st.columns([1, 1, 1, 1])
            gain = suggestion["gain"]
            c1.metric("Followers at the end", f"{suggestion['followers_end']['median']:,.0f}")
            c2.metric("Gain", f"{gain['median']:+,.0f}", help="Median over fresh paired runs.")
            c2.caption(f"80% of runs: {gain['p10']:+,.0f} to {gain['p90']:+,.0f}")
            c3.metric(
                "Minutes per day",
                f"{suggestion['minutes_per_day']:,.0f}",
                help=f"Your budget: {budget:,.0f} minutes a day." if budget else None,
            )
            c4.button(
                "Apply",
                key=f"apply_{i}",
                on_click=on_apply,
                args=(dict(suggestion["changes"]),),
                width="stretch",
                help="Move the sliders to this suggestion (the predictions then show the change).",
            )
    why = why_no_answering(result)
    if why:
        st.info(why)
    if result.get("sensitivity"):
        # One title: the chart's own (it goes with the PNG), no heading above it.
        chart = plots.tornado_chart(result["sensitivity"], labels=HABIT_LABELS, title="Which habit matters most")
        st.altair_chart(chart, width="stretch", theme=None)
        png_download(st, "Chart (PNG)", chart, "what-matters-most.png", "dl_tornado_png")
