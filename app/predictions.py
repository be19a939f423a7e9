"""The Predictions tab: your settings against the reference, on the same seeds."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from app import prefetch
from app.charts import draw, spec_png, vega_spec, with_frames
from app.layout import escape_markdown
from app.sidebar import POSTS_GRID
from app.state import HABIT_LABELS, reference_phrases, reference_words, refusal, simulate, slug, with_run_settings
from app.text import safe
from coach import (
    CHANNEL_WORDS,
    CHANNELS,
    REASON_WORDS,
    REASONS,
    Ensemble,
    Scenario,
    __version__,
    paired_differences,
    plots,
)

PAIRED_WORDS = (
    "Each change compares every run with the {kind}'s run on the same luck (same random seed) and takes the "
    "middle of those differences, so it need not equal one median minus the other."
)


def metric(
    col: Any,
    label: str,
    q: dict[str, float],
    delta: float | None,
    *,
    ref: str,
    ref_value: float | None = None,
    digits: int = 0,
    inverse: bool = False,
    help_text: str = "",
) -> None:
    fmt = f"{{:,.{digits}f}}"
    delta_text = None if delta is None else f"{round(delta, digits) + 0.0:+,.{digits}f} vs {ref}"
    col.metric(
        label,
        fmt.format(q["median"]),
        delta_text,
        delta_color="inverse" if inverse else "normal",
        help=help_text,
        border=True,
    )
    lines = []
    if ref_value is not None and delta is not None:
        lines.append(f"{ref.capitalize()}: {fmt.format(ref_value)}")
    if "p10" in q:
        lines.append(f"80% of runs: {fmt.format(q['p10'])} to {fmt.format(q['p90'])}")
    if lines:
        col.caption(" · ".join(lines))


@st.cache_data(show_spinner=False, max_entries=32)
def figures(
    current_json: str, reference_json: str | None, *, _ensemble: Ensemble, _reference: Ensemble
) -> dict[str, Any]:
    """The cards' numbers: both summaries and the paired changes (computed before any chart,
    so the cards show as soon as the runs are done).

    Keyed on the two scenarios' JSON (each holds its seed and runs, so it fixes its
    ensemble); the ensembles themselves are not hashed.
    """
    changed = reference_json is not None
    return {
        "summary": summary_of(current_json, _ensemble=_ensemble),
        "ref_summary": summary_of(reference_json, _ensemble=_reference) if changed else None,
        "changes": paired_differences(_reference, _ensemble) if changed else {},
    }


CHARTS = ("followers", "channels", "reasons", "reach")


def chart_frames(ensemble: Ensemble, reference: Ensemble | None, baseline_label: str) -> dict[str, pd.DataFrame]:
    """The data each chart of the tab draws, made as ``coach.plots`` makes it (cheap: a few
    percentiles and rolling means; building the Altair charts is what costs)."""
    bands = [plots.band_frame(ensemble, label="your settings")]
    if reference is not None:
        bands.append(plots.band_frame(reference, label=baseline_label))
    return {
        "followers": pd.concat(bands, ignore_index=True),
        "channels": plots.daily_mix_frame(ensemble, "channel"),
        "reasons": plots.daily_mix_frame(ensemble, "reason"),
        "reach": plots.band_frame(ensemble, name="impressions", label="your settings"),
    }


def build_specs(
    ensemble: Ensemble, reference: Ensemble | None, current: Scenario, baseline_label: str, present: bool
) -> dict[str, dict[str, Any]]:
    """The tab's charts from scratch (coach.plots), as unvalidated specs (app/charts.py)."""
    markers = plots.timeline_markers(current, HABIT_LABELS)
    followers = plots.followers_chart(
        ensemble,
        reference,
        current_label="your settings",
        baseline_label=baseline_label,  # a chart label is text, not Markdown
        markers=markers,
        height=300 if present else 340,
        legend="top" if present else "bottom",
    )
    return {
        "followers": vega_spec(followers),
        "followers_shown": vega_spec(plots.larger(followers)) if present else vega_spec(followers),
        "channels": vega_spec(plots.daily_mix_chart(ensemble, "channel", markers=markers)),
        "reasons": vega_spec(plots.daily_mix_chart(ensemble, "reason", markers=markers)),
        "reach": vega_spec(plots.activity_chart(ensemble, "impressions", markers=markers)),
    }


@st.cache_data(show_spinner=False, max_entries=16)
def chart_template(key: str, *, _build: Callable[[], tuple[dict, dict]]) -> tuple[dict, dict]:
    """The specs of the tab's charts and the data they were built from, once per ``key``:
    everything the charts print except the runs (horizon, timeline markers, words, mode)."""
    return _build()


def tab_specs(
    ensemble: Ensemble, reference: Ensemble | None, current: Scenario, baseline_label: str, present: bool
) -> dict[str, dict[str, Any]]:
    """The charts for these runs: the template's specs with these runs' data put in.

    A new setting changes only the data, so the Altair charts (most of the page's own time on
    a slider nudge) are built once per template, not per nudge. Whatever the template cannot
    take (a data frame it does not hold) is built from scratch.
    """
    markers = plots.timeline_markers(current, HABIT_LABELS)
    key = json.dumps([current.days, markers, baseline_label, present, reference is not None])
    specs, frames = chart_template(
        key,
        _build=lambda: (
            build_specs(ensemble, reference, current, baseline_label, present),
            chart_frames(ensemble, reference, baseline_label),
        ),
    )
    new = chart_frames(ensemble, reference, baseline_label)
    out = {}
    for name in (*CHARTS, "followers_shown"):
        frame = name.removesuffix("_shown")
        out[name] = with_frames(specs[name], frames[frame], new[frame])
        if out[name] is None:  # the template does not hold this data: build everything
            return build_specs(ensemble, reference, current, baseline_label, present)
    return out


@st.cache_data(show_spinner=False, max_entries=32)
def chart_specs(
    current_json: str,
    reference_json: str | None,
    kind: str,
    raw_name: str,
    present: bool,
    *,
    _ensemble: Ensemble,
    _reference: Ensemble,
) -> dict[str, dict[str, Any]]:
    """The charts' specs, keyed like :func:`figures` and on the words and mode the charts
    print (a setting seen before is drawn without any work)."""
    current = Scenario.model_validate_json(current_json)
    reference = _reference if reference_json is not None else None
    return tab_specs(_ensemble, reference, current, f"{kind}: {raw_name}", present)


@st.cache_data(show_spinner=False, max_entries=32)
def reasons_table(
    current_json: str, reference_json: str | None, kind: str, *, _ensemble: Ensemble, _reference: Ensemble
) -> pd.DataFrame:
    """The "Why people left" table, keyed like :func:`figures` (it is numbers: it comes with the cards)."""
    reference = _reference if reference_json is not None else None
    return plots.reason_table(_ensemble, reference, baseline_label=kind)


# ---- the cards before the charts ------------------------------------------------------
# Measured in Chromium (benchmarks/bench_browser.py, docs/app.md): when a nudge's run sends
# new cards and new charts together, the browser handles them in one pass and the four
# Vega views' update holds back the paint of the cards by 150-250 ms. So a run that brings
# new numbers redraws the charts already on screen, unchanged (the browser keeps an element
# whose content is identical, at no cost), and asks for one follow-up run that draws the
# new charts: the cards are painted first, the charts one run later.
CHARTS_SHOWN = "_charts_shown"  # {"key", "layout", "specs"}: the charts last drawn on the page
CHARTS_DEFERRED = "_charts_deferred"  # the key whose charts the follow-up run must draw
FOLLOW_UP = "_charts_follow_up"  # set when this run left the charts for a follow-up run
DRAWN = "_charts_drawn"  # set when this run drew the tab's charts (else none are on screen)


def charts_for(key: str, layout: str, fresh: Callable[[], dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The chart specs this run draws: the new ones (``fresh()``), or, when the page shows
    charts of another setting in the same places, those same charts again and a follow-up
    run is requested (:func:`finish_page`) that draws the new ones.

    ``key`` names what the charts show, ``layout`` where they stand (presenter mode moves
    them). A follow-up run always draws its key's charts, so a page never waits twice.
    """
    ss = st.session_state
    ss[DRAWN] = True
    shown = ss.get(CHARTS_SHOWN)
    if shown is not None and shown["key"] != key and shown["layout"] == layout and ss.get(CHARTS_DEFERRED) != key:
        ss[CHARTS_DEFERRED] = key
        ss[FOLLOW_UP] = True
        return shown["specs"]
    specs = fresh()
    ss[CHARTS_SHOWN] = {"key": key, "layout": layout, "specs": specs}
    ss.pop(FOLLOW_UP, None)
    return specs


def finish_page() -> None:
    """At the end of the page's run: start the follow-up run that draws the new charts, if
    this run left them for it (the cards are on screen by now). A run that drew no charts
    (another tab, invalid settings) leaves none on screen to keep: the next draws at once."""
    ss = st.session_state
    if not ss.pop(DRAWN, False):
        ss.pop(CHARTS_SHOWN, None)
    if ss.pop(FOLLOW_UP, False):
        st.rerun()


@st.cache_data(show_spinner=False, max_entries=64)
def summary_of(scenario_json: str, *, _ensemble: Ensemble) -> dict[str, Any]:
    """An ensemble's summary, cached on its scenario: the reference's is computed once, not per nudge."""
    return _ensemble.summary()


def time_warning(scenario: Scenario, minutes_per_day: float) -> str | None:
    """Plain words when the habits need more minutes than the active hours hold."""
    hours = len(scenario.habits.active_hour_list)
    available = 60 * hours
    if minutes_per_day <= available:
        return None
    start, end = scenario.habits.active_hours
    return (
        f"These habits take about {minutes_per_day:,.0f} minutes a day, but your active hours "
        f"({start}:00 to {end % 24}:00, {hours} hours) hold only {available:,} minutes. Nobody can keep this up: "
        "post less, answer fewer replies, take less time per post or reply, or widen your active hours."
    )


def predictions_tab(current: Scenario | None, problems: list[str]) -> None:
    ss = st.session_state
    if current is None:
        return  # the page's top already says what is wrong and there is no valid run to show yet
    # The reference is the loaded scenario's habits on *your* audience: changing the starting
    # followers or the mix re-bases the comparison instead of comparing with the old audience.
    base = with_run_settings(ss["base"], current.days, current.replicates, current.seed)
    rebased = base.audience != current.audience
    base = base.model_copy(update={"audience": current.audience})
    changed = base.model_dump_json() != current.model_dump_json()
    message = refusal(current, 2 if changed else 1)
    if message:
        st.warning(safe(message))
        return
    ensemble = simulate(current)
    reference = simulate(base) if changed else ensemble
    if ensemble is None or reference is None:
        return
    kind, raw_name = reference_words()
    name = escape_markdown(raw_name)  # a file's or a link's name: shown as text inside Markdown
    present = bool(ss.get("present"))
    current_json, reference_json = current.model_dump_json(), base.model_dump_json() if changed else None
    numbers = figures(current_json, reference_json, _ensemble=ensemble, _reference=reference)
    summary, changes = numbers["summary"], numbers["changes"]
    ref_summary = numbers["ref_summary"] or summary
    ss["results"] = {
        "scenario": current.model_dump_json(),
        "summary": summary,
        "reference": ref_summary,
        "changed": changed,
        "changes": changes,
    }

    def delta(figure: str) -> float | None:
        return changes[figure]["median"] if changed else None

    def ref_value(figure: str) -> float | None:
        value = ref_summary[figure]
        return value["median"] if isinstance(value, dict) else value

    against, own = reference_phrases(name)
    on_audience = f" with your audience ({current.audience.followers:,} followers)" if rebased else ""
    st.container(key="pred_intro").markdown(
        f"**After {current.days} days**, median of {current.replicates} runs (seed {current.seed}); "
        + (
            f"changes are against {against}{on_audience}, run by run on the same luck."
            if changed
            else f"these are {own}{on_audience}; move a slider to see what changes."
        ),
        help=PAIRED_WORDS.format(kind=kind) if changed else None,
    )
    warning = time_warning(current, summary["minutes_per_day"])
    if warning:
        st.warning(warning)
    # On a projector the chart comes first, so it is on screen without scrolling.
    first, second = st.container(), st.container()
    chart_slot, cards_slot = (first, second) if ss.get("present") else (second, first)
    with cards_slot.container(key="cards"):  # compact cards in one row (app/layout.py)
        c1, c2, c3, c4, c5 = st.columns(5, gap="small")
    metric(
        c1,
        f"Followers, day {current.days}",
        summary["followers_end"],
        delta("followers_end"),
        ref=kind,
        ref_value=ref_value("followers_end"),
        help_text=f"Followers at day {current.days}; started with {summary['followers_start']:,}. "
        + (PAIRED_WORDS.format(kind=kind) if changed else ""),
    )
    metric(
        c2,
        "New follows",
        summary["follows"],
        delta("follows"),
        ref=kind,
        ref_value=ref_value("follows"),
        help_text="People who followed during the horizon.",
    )
    metric(
        c3,
        "Unfollows",
        summary["unfollows"],
        delta("unfollows"),
        ref=kind,
        ref_value=ref_value("unfollows"),
        inverse=True,
        help_text="People who left during the horizon (see why below).",
    )
    metric(
        c4,
        "Minutes a day",
        {"median": summary["minutes_per_day"]},
        delta("minutes_per_day"),
        ref=kind,
        ref_value=ref_value("minutes_per_day"),
        inverse=True,
        help_text="Time your habits cost: posts × minutes per post + replies and outreach × minutes per reply.",
    )
    if not changed:
        c4.caption("what these habits cost you")
    metric(
        c5,
        "Engagement per post",
        summary["engagement_per_post"],
        delta("engagement_per_post"),
        ref=kind,
        ref_value=ref_value("engagement_per_post"),
        digits=1,
        help_text="Replies, reshares and likes per post.",
    )

    # The charts after the cards; on a new setting, one run later (see charts_for).
    def fresh_specs() -> dict[str, dict[str, Any]]:
        return chart_specs(
            current_json, reference_json, kind, raw_name, present, _ensemble=ensemble, _reference=reference
        )

    specs = charts_for(json.dumps([current_json, reference_json, kind, raw_name]), json.dumps(present), fresh_specs)
    draw(chart_slot, specs["followers_shown"])
    left, right = st.columns(2)
    draw(left, specs["channels"])
    draw(right, specs["reasons"])
    with left:
        st.markdown("**Where new followers came from** (total over the horizon)")
        rows = [
            {
                "how they found you": CHANNEL_WORDS[c],
                "people": f"{summary['follows_by_channel'][c]['median']:,.0f}",
            }
            for c in CHANNELS
        ]
        st.table(rows, hide_index=True)  # a static table wraps its text: no column cut off on any screen
    with right:
        st.markdown("**Why people left** (total over the horizon)")
        table = reasons_table(current_json, reference_json, kind, _ensemble=ensemble, _reference=reference)
        table = table.drop(columns="reason")
        if changed:
            table = table.rename(columns={"change": f"change vs {kind}"})
        # Every column, "80% of runs" included, stays on screen at 1280 px (a data frame scrolls
        # sideways and cut it off); the words are ours, so the table's Markdown has nothing to interpret.
        st.table(table, hide_index=True)
    top = max(REASONS, key=lambda r: summary["unfollows_by_reason"][r]["median"])
    if summary["unfollows"]["median"] > 0:
        st.caption(f"The most common reason to leave: **{REASON_WORDS[top]}**.")

    draw(st, specs["reach"])
    replies = summary["replies_per_day"]
    st.caption(
        f"Per day (median): your posts were seen {summary['impressions_per_day']['median']:,.0f} times; "
        f"{replies['received']['median']:,.0f} replies came in, you answered "
        f"{replies['answered']['median']:,.0f} and left {replies['ignored']['median']:,.0f} unanswered."
    )

    st.markdown("**Export**")
    d1, d2, d3, d4 = st.columns(4)
    stem = slug(current.name)
    context = export_context(current, kind, raw_name, changed)
    d1.download_button(
        "Results per day (CSV)",
        data=ensemble.to_csv,
        file_name=f"{stem}-daily.csv",
        mime="text/csv",
        key="dl_csv",
        on_click="ignore",
        width="stretch",
    )
    for where, label, chart, suffix, key in (
        (d2, "Followers chart (PNG)", "followers", "followers", "dl_png_followers"),
        (d3, "Follows chart (PNG)", "channels", "follows", "dl_png_channels"),
        (d4, "Unfollows chart (PNG)", "reasons", "unfollows", "dl_png_reasons"),
    ):
        where.download_button(  # rendered only when clicked, from this setting's chart (cached)
            label,
            data=lambda chart=chart: spec_png(fresh_specs()[chart], context),
            file_name=f"{stem}-{suffix}.png",
            mime="image/png",
            key=key,
            on_click="ignore",
            width="stretch",
        )
    st.caption("The page address holds these settings: copy it to share exactly this view.")
    # Last, once the page is drawn: simulate the next step of the slider being nudged.
    if ss.get("look_ahead_from") == current:
        return  # the same setting drawn again (its charts' follow-up run, another widget): keep the look-aheads
    steps = prefetch.ahead_of(ss.get("look_ahead_from"), current, POSTS_GRID)
    ss["look_ahead_from"] = current
    wanted = prefetch.look_ahead(*(s for s in steps if refusal(s) is None), replacing=ss.get("look_aheads", ()))
    ss["look_aheads"] = wanted


def export_context(current: Scenario, kind: str, name: str, changed: bool) -> list[str]:
    """Lines printed on exported images: which scenario, which settings, which runs."""
    h = current.habits
    lines = [
        f"{current.name}"
        + (f" (changed from {kind} “{name}”)" if changed else "")
        + f" · {current.platform.name} · {current.audience.followers:,} starting followers",
        f"{h.posts_per_day:g} posts a day in sittings of {h.posts_per_session}, reply rate {h.reply_rate:g}, "
        f"link share {h.link_share:g}, promotion share {h.promo_share:g}, question share {h.question_share:g}, "
        f"outreach {h.outreach_per_day:g} a day",
        f"{current.days} days, {current.replicates} runs, seed {current.seed} · Cadence Coach {__version__}",
    ]
    return lines
