"""Charts and display tables for results: Ensemble → pandas frame → Altair chart.

Pure functions with no Streamlit import, so the app, notebooks and scripts share them and
tests can inspect the frames. Charts are sized for a projector (large fonts, thick lines,
colour-blind-safe palette) and export to PNG through vl-convert for slides.
Labels use the plain words of :data:`coach.results.CHANNEL_WORDS` and ``REASON_WORDS``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from coach.results import CHANNEL_WORDS, CHANNELS, REASON_WORDS, REASONS, Ensemble, paired_differences, quantiles

# Okabe-Ito: distinguishable with the common colour-vision deficiencies and on projectors.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
BASELINE_COLOR = "#6b6b6b"
CHANNEL_COLORS = dict(zip(CHANNELS, ["#0072B2", "#009E73", "#E69F00", "#56B4E9"], strict=True))
REASON_COLORS = dict(zip(REASONS, ["#D55E00", "#CC79A7", "#E69F00", "#6b6b6b", "#56B4E9"], strict=True))

FONT_SIZE = 15
TITLE_SIZE = 18


def _titled(chart: alt.LayerChart, title: str | None, subtitle: str, height: int) -> alt.LayerChart:
    """A banded chart with its title and the subtitle that says what the band means."""
    if title:
        chart = chart.properties(title=alt.TitleParams(title, subtitle=subtitle, subtitleFontSize=FONT_SIZE - 2))
    return _style(chart, height=height)


def _style(chart: alt.TopLevelMixin, height: int = 320, legend_columns: int = 2) -> alt.TopLevelMixin:
    """Projector-friendly fonts and a white background (also for PNG export)."""
    return (
        # fit-x: the width follows the page, ``height`` is the plotting area (legend and title
        # come on top), so a legend below never squeezes the plot.
        chart.properties(
            height=height, background="white", autosize=alt.AutoSizeParams(type="fit-x", contains="padding")
        )
        .configure_axis(labelFontSize=FONT_SIZE - 1, titleFontSize=FONT_SIZE, grid=True, gridOpacity=0.4)
        .configure_legend(
            labelFontSize=FONT_SIZE - 1,
            titleFontSize=FONT_SIZE,
            labelLimit=320,
            orient="bottom",
            columns=legend_columns,
            symbolSize=260,
            symbolStrokeWidth=4,
        )
        .configure_title(fontSize=TITLE_SIZE, anchor="start")
        .configure_view(strokeWidth=0)
    )


# --------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------


def band_frame(ensemble: Ensemble, name: str = "followers", label: str | None = None) -> pd.DataFrame:
    """Per day: median, 10th and 90th percentile of one daily series over the replicates."""
    series = ensemble.series(name)
    return pd.DataFrame(
        {
            "day": np.arange(1, series.shape[1] + 1),
            "median": np.percentile(series, 50, axis=0),
            "p10": np.percentile(series, 10, axis=0),
            "p90": np.percentile(series, 90, axis=0),
            "scenario": label if label is not None else ensemble.scenario.name,
        }
    )


def smoothing_days(days: int) -> int:
    """Window of the rolling mean used for daily charts: a week, once there are 4 weeks."""
    return 7 if days >= 28 else 1


def daily_mix_frame(ensemble: Ensemble, kind: str, window: int | None = None) -> pd.DataFrame:
    """Long frame (day, group, per_day) of follows by channel or unfollows by reason.

    ``per_day`` is the mean over replicates, so the groups stack to the mean total
    (medians would not add up), then a trailing rolling mean over ``window`` days
    (default :func:`smoothing_days`). ``group`` is the plain-language label.
    """
    window = smoothing_days(ensemble.days) if window is None else window
    if kind == "channel":
        keys, words, prefix = CHANNELS, CHANNEL_WORDS, "follows_"
    elif kind == "reason":
        keys, words, prefix = REASONS, REASON_WORDS, "unfollows_"
    else:
        raise ValueError(f"kind must be 'channel' or 'reason', not {kind!r}")
    frames = []
    for order, key in enumerate(keys):
        mean = pd.Series(ensemble.series(prefix + key).mean(axis=0)).rolling(window, min_periods=1).mean().to_numpy()
        frames.append(
            pd.DataFrame(
                {"day": np.arange(1, len(mean) + 1), "group": words[key], "key": key, "order": order, "per_day": mean}
            )
        )
    return pd.concat(frames, ignore_index=True)


def reason_table(current: Ensemble, baseline: Ensemble | None = None, baseline_label: str = "persona") -> pd.DataFrame:
    """Why people left, in words: total unfollows per reason over the horizon.

    With a baseline run on the same seeds, adds the paired change (current − baseline).
    """
    totals = current.totals()
    changes = paired_differences(baseline, current) if baseline is not None else {}
    rows = []
    for reason in REASONS:
        name = f"unfollows_{reason}"
        row: dict[str, Any] = {"why they left": REASON_WORDS[reason], "reason": reason}
        q = quantiles(totals[name])
        row["people (median)"] = q["median"]
        row["80% of runs"] = f"{q['p10']:,.0f} to {q['p90']:,.0f}"
        if baseline is not None:
            row[f"change vs {baseline_label}"] = changes[name]["median"]
        rows.append(row)
    return pd.DataFrame(rows)


SUMMARY_ROWS = {
    "followers_end": "followers at the end",
    "net": "net change",
    "follows": "new followers",
    "unfollows": "unfollows",
    **{f"unfollows_{r}": f"left: {REASON_WORDS[r]}" for r in REASONS},
    **{f"follows_{c}": f"came: {CHANNEL_WORDS[c]}" for c in CHANNELS},
    "minutes_per_day": "minutes per day",
    "engagement_per_post": "engagement per post",
}


def compare_table(ensembles: Sequence[Ensemble], labels: Sequence[str]) -> pd.DataFrame:
    """Side-by-side outcomes: one row per measure, one column per scenario.

    The first scenario is the reference; every other column shows its median with the
    paired change against the reference (same seeds), e.g. ``912 (+83; +60 to +101)``.
    """
    if len(ensembles) != len(labels):
        raise ValueError("one label per ensemble")
    ref = ensembles[0]
    totals = [e.totals() for e in ensembles]
    changes = [None] + [paired_differences(ref, e) for e in ensembles[1:]]
    digits = {"minutes_per_day": 0, "engagement_per_post": 1}
    rows = []
    for key, words in SUMMARY_ROWS.items():
        row: dict[str, str] = {"measure": words}
        for i, label in enumerate(labels):
            d = digits.get(key, 0)
            med = round(float(np.median(totals[i][key])), d) + 0.0  # + 0.0: no "-0"
            change = changes[i]
            if change is None:
                row[label] = f"{med:,.{d}f}"
            else:
                diff = {k: round(v, d) + 0.0 for k, v in change[key].items()}
                row[label] = f"{med:,.{d}f} ({diff['median']:+,.{d}f}; {diff['p10']:+,.{d}f} to {diff['p90']:+,.{d}f})"
        rows.append(row)
    return pd.DataFrame(rows).set_index("measure")


# --------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------


def followers_chart(
    current: Ensemble,
    baseline: Ensemble | None = None,
    *,
    current_label: str = "your settings",
    baseline_label: str = "persona",
    title: str | None = "Followers over time",
) -> alt.TopLevelMixin:
    """Median followers per day with the 10–90% band; the baseline's median dashed."""
    frames = [band_frame(current, label=current_label)]
    if baseline is not None:
        frames.append(band_frame(baseline, label=baseline_label))
    data = pd.concat(frames, ignore_index=True)
    domain = [current_label] + ([baseline_label] if baseline is not None else [])
    colors = [PALETTE[0]] + ([BASELINE_COLOR] if baseline is not None else [])
    color = alt.Color("scenario:N", title=None, scale=alt.Scale(domain=domain, range=colors))
    x = alt.X("day:Q", title="day", scale=alt.Scale(nice=False))
    base = alt.Chart(data)
    band = (
        base.transform_filter(alt.datum.scenario == current_label)
        .mark_area(opacity=0.22, color=PALETTE[0])
        .encode(x=x, y=alt.Y("p10:Q", title="followers", scale=alt.Scale(zero=False)), y2="p90:Q")
    )
    tooltip = [
        alt.Tooltip("scenario:N"),
        alt.Tooltip("day:Q"),
        alt.Tooltip("median:Q", format=",.0f"),
        alt.Tooltip("p10:Q", format=",.0f", title="10th percentile"),
        alt.Tooltip("p90:Q", format=",.0f", title="90th percentile"),
    ]
    lines = base.mark_line(strokeWidth=3.5).encode(
        x=x,
        y=alt.Y("median:Q"),
        color=color,
        strokeDash=alt.StrokeDash(
            "scenario:N", title=None, scale=alt.Scale(domain=domain, range=[[1, 0], [7, 5]][: len(domain)])
        ),
        tooltip=tooltip,
    )
    return _titled(
        alt.layer(band, lines), title, "line: median of the runs; shaded: 80% of runs (10th to 90th percentile)", 340
    )


def daily_mix_chart(ensemble: Ensemble, kind: str, title: str | None = None) -> alt.TopLevelMixin:
    """Stacked areas of follows per day by channel, or unfollows per day by reason."""
    data = daily_mix_frame(ensemble, kind)
    keys, words, colors = (
        (CHANNELS, CHANNEL_WORDS, CHANNEL_COLORS) if kind == "channel" else (REASONS, REASON_WORDS, REASON_COLORS)
    )
    domain = [words[k] for k in keys]
    if title is None:
        title = "Where new followers came from" if kind == "channel" else "Why people left"
    y_title = "new followers per day" if kind == "channel" else "unfollows per day"
    window = smoothing_days(ensemble.days)
    subtitle = "average per day over the runs" + (f", {window}-day rolling mean" if window > 1 else "")
    chart = (
        alt.Chart(data)
        .mark_area(opacity=0.85)
        .encode(
            x=alt.X("day:Q", title="day", scale=alt.Scale(nice=False)),
            y=alt.Y("sum(per_day):Q", title=y_title, stack="zero"),
            color=alt.Color(
                "group:N", title=None, scale=alt.Scale(domain=domain, range=[colors[k] for k in keys]), sort=domain
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("group:N", title="who"),
                alt.Tooltip("day:Q"),
                alt.Tooltip("per_day:Q", format=".2f", title="per day (mean of runs)"),
            ],
        )
        .properties(title=alt.TitleParams(title, subtitle=subtitle, subtitleFontSize=FONT_SIZE - 2))
    )
    return _style(chart, height=300, legend_columns=1)


def compare_chart(
    ensembles: Sequence[Ensemble], labels: Sequence[str], title: str | None = "Followers over time"
) -> alt.TopLevelMixin:
    """Overlaid median curves with 10–90% bands, one colour per scenario."""
    data = pd.concat([band_frame(e, label=lab) for e, lab in zip(ensembles, labels, strict=True)], ignore_index=True)
    color = alt.Color(
        "scenario:N", title=None, scale=alt.Scale(domain=list(labels), range=PALETTE[: len(labels)]), sort=list(labels)
    )
    x = alt.X("day:Q", title="day", scale=alt.Scale(nice=False))
    base = alt.Chart(data)
    # The band takes its colour from a column (no scale, so no legend of its own): the legend
    # shows only the lines, at full strength.
    data["band_color"] = data["scenario"].map(dict(zip(labels, PALETTE, strict=False)))
    base = alt.Chart(data)
    band = base.mark_area(opacity=0.15).encode(
        x=x,
        y=alt.Y("p10:Q", title="followers", scale=alt.Scale(zero=False)),
        y2="p90:Q",
        fill=alt.Fill("band_color:N", scale=None),
        detail="scenario:N",
    )
    lines = base.mark_line(strokeWidth=3.5).encode(
        x=x,
        y="median:Q",
        color=color,
        tooltip=[
            alt.Tooltip("scenario:N"),
            alt.Tooltip("day:Q"),
            alt.Tooltip("median:Q", format=",.0f"),
            alt.Tooltip("p10:Q", format=",.0f"),
            alt.Tooltip("p90:Q", format=",.0f"),
        ],
    )
    return _titled(alt.layer(band, lines), title, "same random seeds for every scenario; shaded: 80% of runs", 380)


def tornado_chart(
    sensitivity: Sequence[Mapping[str, Any]],
    labels: Mapping[str, str] | None = None,
    title: str | None = "What matters most",
) -> alt.TopLevelMixin:
    """Which habit matters most: the change in followers when each habit moves one step down or up.

    ``sensitivity`` items look like ``{"habit": h, "current": v, "low": {"value", "gain"} | None,
    "high": {...} | None}`` (as in ``Advice.to_dict()``), where ``gain`` is a number or a
    ``{median, p10, p90}`` mapping. A side that could not move (already at its bound) is
    left out. Bars are sorted by their largest swing, the biggest on top.
    """
    labels = labels or {}
    rows = []
    for item in sensitivity:
        habit = str(item["habit"])
        name = labels.get(habit, habit.replace("_", " "))
        current = item.get("current")
        if isinstance(current, int | float):
            name = f"{name} (now {current:g})"
        sides = []
        for side in ("low", "high"):
            end = item.get(side)
            if not end:
                continue
            gain = end.get("gain", 0.0)
            median = float(gain["median"]) if isinstance(gain, Mapping) else float(gain or 0.0)
            value = end.get("value")
            sides.append(
                {
                    "habit": name,
                    "side": "lower" if side == "low" else "higher",
                    "setting": f"{value:g}" if isinstance(value, int | float) else str(value),
                    "gain": median,
                }
            )
        swing = max((abs(r["gain"]) for r in sides), default=0.0)
        rows += [{**r, "swing": swing} for r in sides]
    data = pd.DataFrame(rows, columns=["habit", "side", "setting", "gain", "swing"])
    order = data.drop_duplicates("habit").sort_values("swing", ascending=False)["habit"].tolist()
    y = alt.Y("habit:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    bars = (
        alt.Chart(data)
        .mark_bar(height={"band": 0.7})
        .encode(
            y=y,
            x=alt.X("gain:Q", title="change in followers at the end (median, same seeds)"),
            color=alt.Color(
                "side:N", title="habit set", scale=alt.Scale(domain=["lower", "higher"], range=[PALETTE[1], PALETTE[0]])
            ),
            tooltip=[
                alt.Tooltip("habit:N"),
                alt.Tooltip("side:N", title="habit set"),
                alt.Tooltip("setting:N", title="to"),
                alt.Tooltip("gain:Q", format="+,.0f", title="followers"),
            ],
        )
    )
    # Label a bar with its setting only where the bar is long enough to hold it.
    labelled = data[data["gain"].abs() >= 0.12 * max(1.0, float(data["gain"].abs().max() or 0))] if len(data) else data
    text = (
        alt.Chart(labelled)
        .transform_calculate(mid="datum.gain / 2")
        .mark_text(fontSize=FONT_SIZE - 2, align="center", baseline="middle", color="white", fontWeight="bold")
        .encode(y=y, x=alt.X("mid:Q"), text="setting:N", detail="side:N")
    )
    rule = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="black", strokeWidth=1.5).encode(x="x:Q")
    chart = alt.layer(bars, text, rule)
    if title:
        chart = chart.properties(
            title=alt.TitleParams(
                title,
                subtitle="one step down and up for each habit; bars labelled with the setting tried",
                subtitleFontSize=FONT_SIZE - 2,
            )
        )
    return _style(chart, height=max(160, 48 * len(order)))


# --------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------


def chart_png(chart: alt.TopLevelMixin, scale: float = 2.0, width: int = 900) -> bytes:
    """The chart as a PNG image (for slides), rendered offline by vl-convert."""
    import vl_convert as vlc

    spec = chart.to_dict()
    if not isinstance(spec.get("width"), int):
        spec["width"] = width  # Streamlit sizes charts to their container; a file needs pixels
    return vlc.vegalite_to_png(spec, scale=scale)
