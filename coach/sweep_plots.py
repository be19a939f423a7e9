"""A sweep's answer as a picture: an outcome across one habit (line and band) or two (heatmap).

Pure functions of :class:`coach.sweep.CellResult` lists (no Streamlit), so the app, notebooks
and tests share them. Each cell's median and 10th/90th percentiles are computed from its
per-replicate rows with :func:`coach.results.quantiles`, the same function behind every
``summary``, so the chart agrees with ``coach sweep --format json`` and ``coach run``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from coach.plots import PALETTE, _style
from coach.results import REASON_WORDS, REASONS, quantiles
from coach.sweep import METRICS
from coach.sweep_backends import CellResult

OUTCOMES: dict[str, tuple[str, bool]] = {
    "net": ("Net change in followers", True),
    "followers_end": ("Followers at the end", True),
    "unfollows": ("Unfollows, all reasons", False),
    **{f"unfollows_{r}": (f"Unfollows: {REASON_WORDS[r]}", False) for r in REASONS},
    "minutes_per_day": ("Minutes a day you spend", False),
}
"""Outcome key (a tidy CSV column) → (label, whether more is better)."""


def sweep_frame(results: Sequence[CellResult], outcome: str) -> pd.DataFrame:
    """One row per cell: the varied fields' values, then median, p10 and p90 of ``outcome``."""
    column = 2 + METRICS.index(outcome)  # rows are: replicate, seed, METRICS…
    records = []
    for result in results:
        q = quantiles(np.array([row[column] for row in result.rows], dtype=float))
        records.append({**result.values, **q})
    return pd.DataFrame.from_records(records)


def best_row(frame: pd.DataFrame, outcome: str) -> pd.Series:
    """The cell with the best median (most followers, fewest unfollows or minutes)."""
    more_is_better = OUTCOMES[outcome][1]
    index = frame["median"].idxmax() if more_is_better else frame["median"].idxmin()
    return frame.loc[index]


def line_chart(
    frame: pd.DataFrame, field: str, outcome: str, *, label: str, current: float | None = None
) -> alt.TopLevelMixin:
    """The outcome's median across one habit, with its 10–90% band, your setting and the best value."""
    title, more_is_better = OUTCOMES[outcome]
    data = frame.rename(columns={field: "value"})
    x = alt.X("value:Q", title=label)
    base = alt.Chart(data)
    band = base.mark_area(opacity=0.25, color=PALETTE[0]).encode(x=x, y=alt.Y("p10:Q", title=title), y2=alt.Y2("p90:Q"))
    line = base.mark_line(color=PALETTE[0], strokeWidth=4, point=alt.OverlayMarkDef(size=90, color=PALETTE[0]))
    line = line.encode(
        x=x,
        y=alt.Y("median:Q"),
        tooltip=[alt.Tooltip("value:Q", title=label), "median:Q", "p10:Q", "p90:Q"],
    )
    best = best_row(frame, outcome)
    marks = pd.DataFrame([{"value": best[field], "median": best["median"], "mark": "best"}])
    layers: list[Any] = [band, line]
    layers.append(
        alt.Chart(marks)
        .mark_point(shape="diamond", size=420, filled=True, color=PALETTE[1])
        .encode(x=alt.X("value:Q"), y=alt.Y("median:Q"))
    )
    layers.append(
        alt.Chart(marks)
        .mark_text(dy=-22, fontSize=15, fontWeight="bold", color=PALETTE[1])
        .encode(x=alt.X("value:Q"), y=alt.Y("median:Q"), text=alt.Text("mark:N"))
    )
    if current is not None:
        rule = pd.DataFrame([{"value": current, "mark": "your setting"}])
        layers.append(
            alt.Chart(rule).mark_rule(strokeDash=[6, 4], strokeWidth=2, color="#000000").encode(x=alt.X("value:Q"))
        )
        layers.append(
            alt.Chart(rule)
            .mark_text(align="left", dx=6, dy=-8, fontSize=14, color="#000000")
            .encode(x=alt.X("value:Q"), y=alt.value(12), text=alt.Text("mark:N"))
        )
    better = "higher is better" if more_is_better else "lower is better"
    chart = alt.layer(*layers).properties(
        title=alt.TitleParams(
            f"{title} by {label.lower()}", subtitle=f"median and 80% of runs; {better}", subtitleFontSize=13
        )
    )
    return _style(chart, height=340)


def heatmap(
    frame: pd.DataFrame,
    fields: tuple[str, str],
    outcome: str,
    *,
    labels: tuple[str, str],
    current: Mapping[str, Any] | None = None,
) -> alt.TopLevelMixin:
    """The outcome's median over two habits; your setting outlined, the best cell starred."""
    title, more_is_better = OUTCOMES[outcome]
    fx, fy = fields
    data = frame.rename(columns={fx: "x", fy: "y"})
    data["text"] = data["median"].map(lambda v: f"{v:,.0f}")
    best = best_row(frame, outcome)
    data["mark"] = ["★" if (x == best[fx] and y == best[fy]) else "" for x, y in zip(data["x"], data["y"], strict=True)]
    x = alt.X("x:O", title=labels[0], sort="ascending", axis=alt.Axis(labelAngle=0))
    y = alt.Y("y:O", title=labels[1], sort="descending")
    scheme = alt.Scale(scheme="viridis", reverse=not more_is_better)
    rect = alt.Chart(data).mark_rect().encode(
        x=x,
        y=y,
        color=alt.Color("median:Q", title="median", scale=scheme),
        tooltip=[alt.Tooltip("x:O", title=labels[0]), alt.Tooltip("y:O", title=labels[1]), "median:Q", "p10:Q", "p90:Q"],
    )  # fmt: skip
    # viridis is light at one end: dark text there, white elsewhere, so every number stays legible
    low, high = float(data["median"].min()), float(data["median"].max())
    cut = low + 0.6 * (high - low) if more_is_better else high - 0.6 * (high - low)
    data["light"] = (
        [bool(v >= cut) if more_is_better else bool(v <= cut) for v in data["median"]] if high > low else False
    )
    text = (
        alt.Chart(data)
        .mark_text(fontSize=14, dy=6)
        .encode(
            x=x,
            y=y,
            text=alt.Text("text:N"),
            color=alt.condition("datum.light", alt.value("#000000"), alt.value("#ffffff")),
        )
    )
    star = alt.Chart(data).mark_text(fontSize=20, dy=-12, color=PALETTE[1]).encode(x=x, y=y, text=alt.Text("mark:N"))
    layers: list[Any] = [rect, text, star]
    if current is not None:
        here = data[(data["x"] == current.get(fx)) & (data["y"] == current.get(fy))]
        if len(here):
            layers.append(alt.Chart(here).mark_rect(fill=None, stroke="#000000", strokeWidth=4).encode(x=x, y=y))
    better = "higher is better" if more_is_better else "lower is better"
    chart = alt.layer(*layers).properties(
        title=alt.TitleParams(
            f"{title}: median by {labels[0].lower()} and {labels[1].lower()}",
            subtitle=f"★ best cell, black outline your setting; {better}",
            subtitleFontSize=13,
        )
    )
    return _style(chart, height=360)
