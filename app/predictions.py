"""The Predictions tab: your settings against the reference, on the same seeds."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.state import png_download, reference_words, refusal, simulate, slug, with_run_settings
from app.text import safe
from coach import CHANNEL_WORDS, CHANNELS, REASON_WORDS, REASONS, Scenario, paired_differences, plots


def metric(
    col: Any,
    label: str,
    q: dict[str, float],
    delta: float | None,
    *,
    ref: str,
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
    if "p10" in q:
        col.caption(f"80% of runs: {fmt.format(q['p10'])} to {fmt.format(q['p90'])}")


def predictions_tab(current: Scenario | None, problems: list[str]) -> None:
    ss = st.session_state
    if current is None:
        st.error(
            "These settings are not valid, so nothing was simulated. Change the controls in the sidebar:\n\n"
            + "\n".join(f"- {safe(p)}" for p in problems)
        )
        return
    base = with_run_settings(ss["base"], current.days, current.replicates, current.seed)
    changed = base.model_dump_json() != current.model_dump_json()
    message = refusal(current, 2 if changed else 1)
    if message:
        st.warning(safe(message))
        return
    ensemble = simulate(current)
    reference = simulate(base) if changed else ensemble
    if ensemble is None or reference is None:
        return
    kind, name = reference_words()
    summary, ref_summary = ensemble.summary(), reference.summary()
    changes = paired_differences(reference, ensemble) if changed else {}
    ss["results"] = {
        "scenario": current.model_dump_json(),
        "summary": summary,
        "reference": ref_summary,
        "changed": changed,
        "changes": changes,
    }

    def delta(figure: str) -> float | None:
        return changes[figure]["median"] if changed else None

    st.markdown(
        f"**After {current.days} days**, median of {current.replicates} runs (seed {current.seed}); "
        + (
            f"changes are against {kind} “{safe(name)}” on the same seeds."
            if changed
            else f"these are {kind} “{safe(name)}”'s own settings; move a slider to see what changes."
        )
    )
    c1, c2, c3, c4, c5 = st.columns(5)
    metric(
        c1,
        f"Followers at day {current.days}",
        summary["followers_end"],
        delta("followers_end"),
        ref=kind,
        help_text=f"Started with {summary['followers_start']:,}.",
    )
    metric(
        c2,
        "New follows",
        summary["follows"],
        delta("follows"),
        ref=kind,
        help_text="People who followed during the horizon.",
    )
    metric(
        c3,
        "Unfollows",
        summary["unfollows"],
        delta("unfollows"),
        ref=kind,
        inverse=True,
        help_text="People who left during the horizon (see why below).",
    )
    metric(
        c4,
        "Minutes per day",
        {"median": summary["minutes_per_day"]},
        delta("minutes_per_day"),
        ref=kind,
        inverse=True,
        help_text="Time your habits cost: posts × minutes per post + replies and outreach × minutes per reply.",
    )
    c4.caption("what these habits cost you")
    metric(
        c5,
        "Engagement per post",
        summary["engagement_per_post"],
        delta("engagement_per_post"),
        ref=kind,
        digits=1,
        help_text="Replies, reshares and likes per post.",
    )

    followers = plots.followers_chart(
        ensemble, reference if changed else None, current_label="your settings", baseline_label=f"{kind}: {name}"
    )
    st.altair_chart(followers, width="stretch", theme=None)
    left, right = st.columns(2)
    channels = plots.daily_mix_chart(ensemble, "channel")
    reasons = plots.daily_mix_chart(ensemble, "reason")
    left.altair_chart(channels, width="stretch", theme=None)
    right.altair_chart(reasons, width="stretch", theme=None)
    with left:
        st.markdown("**Where new followers came from** (total over the horizon)")
        rows = [
            {"how they found you": CHANNEL_WORDS[c], "people (median)": summary["follows_by_channel"][c]["median"]}
            for c in CHANNELS
        ]
        st.dataframe(rows, hide_index=True, width="stretch")
    with right:
        st.markdown("**Why people left** (total over the horizon)")
        table = plots.reason_table(ensemble, reference if changed else None, baseline_label=kind).drop(columns="reason")
        st.dataframe(table, hide_index=True, width="stretch")
    top = max(REASONS, key=lambda r: summary["unfollows_by_reason"][r]["median"])
    if summary["unfollows"]["median"] > 0:
        st.caption(f"The most common reason to leave: **{REASON_WORDS[top]}**.")

    st.markdown("**Export**")
    d1, d2, d3, d4 = st.columns(4)
    stem = slug(current.name)
    d1.download_button(
        "Results per day (CSV)",
        data=ensemble.to_csv,
        file_name=f"{stem}-daily.csv",
        mime="text/csv",
        key="dl_csv",
        on_click="ignore",
        width="stretch",
    )
    png_download(d2, "Followers chart (PNG)", followers, f"{stem}-followers.png", "dl_png_followers", width="stretch")
    png_download(d3, "Follows chart (PNG)", channels, f"{stem}-follows.png", "dl_png_channels", width="stretch")
    png_download(d4, "Unfollows chart (PNG)", reasons, f"{stem}-unfollows.png", "dl_png_reasons", width="stretch")
    st.caption("The page address holds these settings: copy it to share exactly this view.")
