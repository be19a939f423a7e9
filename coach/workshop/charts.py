"""The facilitator's charts, from stored results (Altair; no streamlit, no simulation).

Participants' names reach the charts only as data (tooltips and axis labels), which
Vega-Lite draws as text: nothing typed by a participant is interpreted as markup.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from coach.plots import BASELINE_COLOR, FONT_SIZE, PALETTE, REASON_COLORS, TITLE_SIZE
from coach.results import REASON_WORDS, REASONS

BASELINE_LABEL = "the persona as it is"
COACH_LABEL = "the coach's answer"
PROJECTOR_FONT = FONT_SIZE + 1  # px; read from the back of a room


def _projector(chart: Any, height: int) -> Any:
    return (
        # fit-x: the width follows the page (a PNG gets its width from chart_png)
        chart.properties(
            height=height, background="white", autosize=alt.AutoSizeParams(type="fit-x", contains="padding")
        )
        .configure_axis(labelFontSize=PROJECTOR_FONT, titleFontSize=PROJECTOR_FONT, labelLimit=0, gridOpacity=0.4)
        .configure_legend(labelFontSize=PROJECTOR_FONT, titleFontSize=PROJECTOR_FONT, labelLimit=0, orient="bottom")
        .configure_title(fontSize=TITLE_SIZE + 2, anchor="start", subtitleFontSize=PROJECTOR_FONT - 2)
        .configure_view(strokeWidth=0)
    )


def curves_chart(
    baseline: dict[str, Any] | None,
    entries: list[tuple[str, dict[str, Any]]],
    coach: dict[str, Any] | None = None,
    height: int = 290,
) -> Any:
    """Every participant's median followers per day over the persona's (dashed) and the coach's."""
    frames = []
    for name, curve in entries:
        frames.append(pd.DataFrame({"day": curve["day"], "followers": curve["median"], "who": name, "kind": "class"}))
    if baseline is not None:
        frames.append(
            pd.DataFrame(
                {"day": baseline["day"], "followers": baseline["median"], "who": BASELINE_LABEL, "kind": BASELINE_LABEL}
            )
        )
    if coach is not None:
        frames.append(
            pd.DataFrame({"day": coach["day"], "followers": coach["median"], "who": COACH_LABEL, "kind": COACH_LABEL})
        )
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["day", "followers", "who", "kind"])
    domain = ["class", BASELINE_LABEL, COACH_LABEL]
    chart = (
        alt.Chart(data)
        .mark_line()
        .encode(
            x=alt.X("day:Q", title="day", scale=alt.Scale(nice=False)),
            y=alt.Y("followers:Q", title="followers (median of runs)", scale=alt.Scale(zero=False)),
            detail="who:N",
            color=alt.Color(
                "kind:N", title=None, scale=alt.Scale(domain=domain, range=[PALETTE[0], BASELINE_COLOR, "#000000"])
            ),
            strokeDash=alt.StrokeDash(
                "kind:N", title=None, scale=alt.Scale(domain=domain, range=[[1, 0], [8, 5], [2, 2]])
            ),
            strokeWidth=alt.StrokeWidth(
                "kind:N", title=None, legend=None, scale=alt.Scale(domain=domain, range=[2.0, 4.0, 4.0])
            ),
            opacity=alt.value(0.8),
            tooltip=[alt.Tooltip("who:N", title="who"), "day:Q", alt.Tooltip("followers:Q", format=",.0f")],
        )
        .properties(
            title=alt.TitleParams(
                "Followers over time: one line per participant",
                subtitle="dashed: the persona as it is · dotted: the coach's answer · same seeds for all",
            )
        )
    )
    return _projector(chart, height)


def scatter_chart(
    rows: list[dict[str, Any]], habit: str, habit_label: str, metric_label: str, height: int = 320
) -> Any:
    """One dot per participant: the habit chosen against the outcome, with its 80% interval."""
    data = pd.DataFrame([
        {
            "name": r["name"], "habit": r["habits"].get(habit), "score": r["score"], "low": r["score_p10"],
            "high": r["score_p90"], "budget": "within the time budget" if r["within_budget"] else "over the time budget",
        }
        for r in rows
    ])  # fmt: skip
    base = alt.Chart(data).encode(x=alt.X("habit:Q", title=habit_label, scale=alt.Scale(zero=False, padding=12)))
    bars = base.mark_rule(strokeWidth=2, opacity=0.5).encode(y=alt.Y("low:Q", title=metric_label), y2="high:Q")
    dots = base.mark_circle(size=160, opacity=0.9).encode(
        y="score:Q",
        color=alt.Color(
            "budget:N",
            title=None,
            scale=alt.Scale(domain=["within the time budget", "over the time budget"], range=[PALETTE[0], PALETTE[1]]),
        ),
        tooltip=[
            "name:N",
            alt.Tooltip("habit:Q", title=habit_label),
            alt.Tooltip("score:Q", format=",.1f", title=metric_label),
        ],
    )
    chart = alt.layer(bars, dots).properties(
        title=alt.TitleParams(
            f"{habit_label} against the outcome", subtitle="one dot per participant; line: 80% of runs"
        )
    )
    return _projector(chart, height)


def reasons_chart(rows: list[dict[str, Any]], baseline: dict[str, Any] | None, height: int = 300) -> Any:
    """Why people left: the class's average unfollows by reason beside the persona's own."""
    records = []
    if rows:
        for reason in REASONS:
            mean = sum(r["reasons"][reason] for r in rows) / len(rows)
            records.append(
                {"reason": REASON_WORDS[reason], "key": reason, "who": "the class (average)", "unfollows": mean}
            )
    if baseline is not None:
        by_reason = baseline["summary"]["unfollows_by_reason"]
        for reason in REASONS:
            records.append({
                "reason": REASON_WORDS[reason], "key": reason, "who": BASELINE_LABEL, "unfollows": by_reason[reason]["median"],
            })  # fmt: skip
    data = pd.DataFrame(records)
    order = [REASON_WORDS[r] for r in REASONS]
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("reason:N", title=None, sort=order),
            yOffset=alt.YOffset("who:N", sort=["the class (average)", BASELINE_LABEL]),
            x=alt.X("unfollows:Q", title="unfollows over the horizon (median of runs)"),
            color=alt.Color(
                "who:N",
                title=None,
                scale=alt.Scale(
                    domain=["the class (average)", BASELINE_LABEL], range=[REASON_COLORS["fatigue"], BASELINE_COLOR]
                ),
            ),
            tooltip=["who:N", "reason:N", alt.Tooltip("unfollows:Q", format=",.0f")],
        )
        .properties(title=alt.TitleParams("Why people left, across the class", subtitle="each reason's unfollows"))
    )
    return _projector(chart, height)
