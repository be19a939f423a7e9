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

from coach.results import (
    CHANNEL_WORDS,
    CHANNELS,
    REASON_WORDS,
    REASONS,
    Ensemble,
    paired_differences,
    quantiles,
    quantiles_of,
)

# One palette for the whole product (page, PNG exports, CLI-made charts): a colour means one
# thing everywhere. Channels (how people came) are cool colours, reasons (why they left) warm
# ones, and the two sets share no colour, so adjacent charts cannot contradict each other.
# Okabe-Ito and Paul Tol's colours: distinguishable with the common colour-vision
# deficiencies and on projectors.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
YOU_COLOR = "#0072B2"  # "your settings", in every chart
BASELINE_COLOR = "#6b6b6b"  # the reference (persona, file) you compare with: grey, dashed
CHANNEL_COLORS = {"reshare": "#117733", "conversation": "#44AA99", "outreach": "#332288", "discovery": "#88CCEE"}
REASON_COLORS = {
    "fatigue": "#D55E00",
    "content": "#CC79A7",
    "ignored": "#E69F00",
    "neglect": "#882255",
    "churn": "#DDCC77",
}
# Each bundled persona keeps its colour wherever it is drawn, whatever else is picked with it
# (keyed by file stem). Blue stays "your settings"; grey stays "the reference".
PERSONA_COLORS = {
    "billboard": "#D55E00",
    "conversationalist": "#009E73",
    "ghost": "#999999",
    "newcomer": "#56B4E9",
    "news_curator": "#E69F00",
    "over_poster": "#CC79A7",
    "scheduled_bot": "#882255",
    "steady_professional": "#332288",
    "turnaround": "#117733",
    "self_promoter": "#AA4499",
    "collector": "#999933",
    "too_big": "#000000",
    "chat_regular": "#44AA99",
}
# Saved variants and files: colours not used by a bundled persona, chosen by name (stable).
EXTRA_COLORS = ["#661100", "#6699CC", "#DDCC77", "#117777", "#AA4466", "#4477AA"]


def scenario_color(key: str) -> str:
    """The colour of a compared scenario, by its key: ``current``, ``persona:NAME`` or any other."""
    if key == "current":
        return YOU_COLOR
    stem = key.split(":", 1)[1] if key.startswith("persona:") else None
    if stem in PERSONA_COLORS:
        return PERSONA_COLORS[stem]
    import zlib  # a stable hash (str hash changes between processes)

    return EXTRA_COLORS[zlib.crc32(key.encode()) % len(EXTRA_COLORS)]


FONT_SIZE = 15
TITLE_SIZE = 18


def _titled(
    chart: alt.LayerChart, title: str | None, subtitle: str, height: int, legend: str = "bottom"
) -> alt.LayerChart:
    """A banded chart with its title and the subtitle that says what the band means."""
    if title:
        chart = chart.properties(title=alt.TitleParams(title, subtitle=subtitle, subtitleFontSize=FONT_SIZE - 2))
    return _style(chart, height=height, legend_orient=legend, legend_columns=4 if legend == "top" else 2)


def _style(
    chart: alt.TopLevelMixin, height: int = 320, legend_columns: int = 2, legend_orient: str = "bottom"
) -> alt.TopLevelMixin:
    """Projector-friendly fonts and a white background (also for PNG export)."""
    return (
        # fit-x: the width follows the page, ``height`` is the plotting area (legend and title
        # come on top), so a legend below never squeezes the plot.
        chart.properties(
            height=height, background="white", autosize=alt.AutoSizeParams(type="fit-x", contains="padding")
        )
        .configure_axis(
            labelFontSize=FONT_SIZE - 1,
            titleFontSize=FONT_SIZE,
            grid=True,
            gridOpacity=0.4,
            labelOverlap="greedy",  # drop a tick label rather than print "115120"
            labelSeparation=6,
        )
        .configure_legend(
            labelFontSize=FONT_SIZE - 1,
            titleFontSize=FONT_SIZE,
            labelLimit=320,
            orient=legend_orient,
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


MEASURES = {
    "net": "net change in followers since day 0",
    "growth": "growth since day 0 (%)",
    "followers": "followers",
}


def band_frame(
    ensemble: Ensemble, name: str = "followers", label: str | None = None, measure: str = "followers"
) -> pd.DataFrame:
    """Per day: median, 10th and 90th percentile of one daily series over the replicates.

    ``measure`` (for ``followers`` only): ``followers`` as counted, ``net`` change since day 0
    (people), or ``growth`` since day 0 (%, of the starting followers). Net change and growth
    let accounts of different sizes be compared by what their habits do, not by their size.
    """
    series = ensemble.series(name).astype(float)
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, not {measure!r}")
    if measure != "followers":
        start = float(ensemble.runs[0].followers_start)
        series = series - start
        if measure == "growth":
            series = 100.0 * series / max(start, 1.0)
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

    With a baseline run on the same seeds, adds the paired change (current − baseline, run
    by run) in a short ``change`` column placed before the interval, so it is never the
    column a narrow screen cuts off. Figures are text with thousands separators.
    """
    totals = current.totals()
    changes = paired_differences(baseline, current) if baseline is not None else {}
    rows = []
    for reason in REASONS:
        name = f"unfollows_{reason}"
        row: dict[str, Any] = {"why they left": REASON_WORDS[reason], "reason": reason}
        q = quantiles(totals[name])
        # Medians of an even number of runs can fall between two whole people: round them.
        row["people"] = f"{q['median']:,.0f}"
        if baseline is not None:
            row["change"] = f"{round(changes[name]['median']) + 0:+,}"
        row["80% of runs"] = f"{q['p10']:,.0f} to {q['p90']:,.0f}"
        rows.append(row)
    return pd.DataFrame(rows)


SUMMARY_ROWS = {
    "net": "net change",
    "growth": "growth (%)",
    "followers_start": "followers at the start",
    "followers_end": "followers at the end",
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
    Net change and growth (% of the starting followers) come first: they say what the
    habits did, whatever the account's size.
    """
    if len(ensembles) != len(labels):
        raise ValueError("one label per ensemble")
    totals = [e.totals_with_growth() for e in ensembles]
    changes: list[dict[str, Any] | None] = [None]
    for e, t in zip(ensembles[1:], totals[1:], strict=True):
        paired_differences(ensembles[0], e)  # raises unless both ran on the same seeds
        changes.append(quantiles_of({k: t[k] - totals[0][k] for k in SUMMARY_ROWS}))
    digits = {"minutes_per_day": 0, "engagement_per_post": 1, "growth": 1}
    rows = []
    for key, words in SUMMARY_ROWS.items():
        row: dict[str, str] = {"measure": words}
        for i, label in enumerate(labels):
            d = digits.get(key, 0)
            med = round(float(np.median(totals[i][key])), d) + 0.0  # + 0.0: no "-0"
            change = changes[i]
            if change is None or key == "followers_start":  # a given, not an outcome: no change shown
                row[label] = f"{med:,.{d}f}"
            else:
                diff = {k: round(v, d) + 0.0 for k, v in change[key].items()}
                row[label] = f"{med:,.{d}f} ({diff['median']:+,.{d}f}; {diff['p10']:+,.{d}f} to {diff['p90']:+,.{d}f})"
        rows.append(row)
    return pd.DataFrame(rows).set_index("measure")


# --------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------


Markers = Sequence[tuple[int, str]]
"""Timeline steps to mark on a time chart: (first day of the new habits, what changes)."""


def timeline_markers(scenario: Any, words: Mapping[str, str] | None = None) -> list[tuple[int, str]]:
    """(day, "from day 45: reply rate 0.9") for each timeline step of a scenario."""
    words = words or {}
    out = []
    for step in sorted(scenario.timeline, key=lambda s: s.day):
        changes = step.habits.model_dump(exclude_none=True)
        text = ", ".join(f"{words.get(k, k.replace('_', ' ')).lower()} {_short(v)}" for k, v in changes.items())
        out.append((int(step.day), f"from day {step.day}: {text}"))
    return out


def _short(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "–".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _marker_layer(markers: Markers | None, x_field: str = "day") -> list[alt.Chart]:
    """Dashed vertical rules at timeline steps, labelled "day N" at the top."""
    if not markers:
        return []
    data = pd.DataFrame({x_field: [d for d, _ in markers], "what": [w for _, w in markers]})
    data["label"] = [f"day {d}" for d, _ in markers]
    rule = (
        alt.Chart(data)
        .mark_rule(color="black", strokeDash=[4, 3], strokeWidth=1.5)
        .encode(x=alt.X(f"{x_field}:Q"), tooltip=[alt.Tooltip("what:N", title="habits change")])
    )
    text = (
        alt.Chart(data)
        .mark_text(align="left", baseline="top", dx=4, dy=2, fontSize=FONT_SIZE - 2, color="black")
        .encode(x=alt.X(f"{x_field}:Q"), y=alt.value(0), text=alt.Text("label:N"))
    )
    return [rule, text]


def followers_chart(
    current: Ensemble,
    baseline: Ensemble | None = None,
    *,
    current_label: str = "your settings",
    baseline_label: str = "persona",
    title: str | None = "Followers over time",
    markers: Markers | None = None,
    height: int = 340,
    legend: str = "bottom",
) -> alt.TopLevelMixin:
    """Median followers per day with the 10–90% band; the baseline's median dashed grey.

    ``markers`` (see :func:`timeline_markers`) draw the days on which habits change.
    """
    frames = [band_frame(current, label=current_label)]
    if baseline is not None:
        frames.append(band_frame(baseline, label=baseline_label))
    data = pd.concat(frames, ignore_index=True)
    domain = [current_label] + ([baseline_label] if baseline is not None else [])
    colors = [YOU_COLOR] + ([BASELINE_COLOR] if baseline is not None else [])
    color = alt.Color("scenario:N", title=None, scale=alt.Scale(domain=domain, range=colors))
    x = alt.X("day:Q", title="day", scale=alt.Scale(nice=False))
    base = alt.Chart(data)
    band = (
        base.transform_filter(alt.datum.scenario == current_label)
        .mark_area(opacity=0.22, color=YOU_COLOR)
        .encode(x=x, y=alt.Y("p10:Q", title="followers", scale=alt.Scale(zero=False)), y2=alt.Y2("p90:Q"))
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
        alt.layer(band, lines, *_marker_layer(markers)),
        title,
        "line: median of the runs; shaded: 80% of runs (10th to 90th percentile)",
        height,
        legend,
    )


def activity_chart(
    current: Ensemble, name: str = "impressions", title: str | None = None, markers: Markers | None = None
) -> alt.TopLevelMixin:
    """One daily activity series (impressions by default) with its 10–90% band."""
    data = band_frame(current, name=name, label="your settings")
    words = {"impressions": "times your posts were seen (impressions) per day"}
    y_title = words.get(name, name.replace("_", " ") + " per day")
    x = alt.X("day:Q", title="day", scale=alt.Scale(nice=False))
    base = alt.Chart(data)
    band = base.mark_area(opacity=0.22, color=YOU_COLOR).encode(
        x=x, y=alt.Y("p10:Q", title=y_title, scale=alt.Scale(zero=True)), y2=alt.Y2("p90:Q")
    )
    line = base.mark_line(strokeWidth=3, color=YOU_COLOR).encode(
        x=x,
        y=alt.Y("median:Q"),
        tooltip=[alt.Tooltip("day:Q"), alt.Tooltip("median:Q", format=",.0f", title="median")],
    )
    title = title if title is not None else "Reach: how often your posts were seen"
    return _titled(alt.layer(band, line, *_marker_layer(markers)), title, "line: median; shaded: 80% of runs", 220)


def daily_mix_chart(
    ensemble: Ensemble, kind: str, title: str | None = None, markers: Markers | None = None
) -> alt.TopLevelMixin:
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
    areas = (
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
    )
    chart = alt.layer(areas, *_marker_layer(markers)).properties(
        title=alt.TitleParams(title, subtitle=subtitle, subtitleFontSize=FONT_SIZE - 2)
    )
    return _style(chart, height=300, legend_columns=1)


def compare_chart(
    ensembles: Sequence[Ensemble],
    labels: Sequence[str],
    title: str | None = None,
    *,
    measure: str = "net",
    colors: Sequence[str] | None = None,
    markers: Markers | None = None,
    height: int = 360,
    subtitle: str = "same random seeds for every scenario; shaded: 80% of runs",
    legend: str = "bottom",
) -> alt.TopLevelMixin:
    """Overlaid median curves with 10–90% bands, one colour per scenario.

    ``measure``: ``net`` change since day 0 (default), ``growth`` (%) or ``followers``.
    ``colors``: one per scenario (see :func:`scenario_color`), so a scenario keeps its
    colour whatever else is compared with it; default: the palette in order.
    """
    colors = list(colors) if colors is not None else PALETTE[: len(labels)]
    frames = [band_frame(e, label=lab, measure=measure) for e, lab in zip(ensembles, labels, strict=True)]
    data = pd.concat(frames, ignore_index=True)
    color = alt.Color("scenario:N", title=None, scale=alt.Scale(domain=list(labels), range=colors), sort=list(labels))
    x = alt.X("day:Q", title="day", scale=alt.Scale(nice=False))
    # The band takes its colour from a column (no scale, so no legend of its own): the legend
    # shows only the lines, at full strength.
    data["band_color"] = data["scenario"].map(dict(zip(labels, colors, strict=True)))
    base = alt.Chart(data)
    y_title = MEASURES[measure]
    band = base.mark_area(opacity=0.15).encode(
        x=x,
        y=alt.Y("p10:Q", title=y_title, scale=alt.Scale(zero=measure != "followers")),
        y2=alt.Y2("p90:Q"),
        fill=alt.Fill("band_color:N", scale=None),
        detail=alt.Detail("scenario:N"),
    )
    fmt = ",.1f" if measure == "growth" else ",.0f"
    lines = base.mark_line(strokeWidth=3.5).encode(
        x=x,
        y=alt.Y("median:Q"),
        color=color,
        tooltip=[
            alt.Tooltip("scenario:N"),
            alt.Tooltip("day:Q"),
            alt.Tooltip("median:Q", format=fmt),
            alt.Tooltip("p10:Q", format=fmt),
            alt.Tooltip("p90:Q", format=fmt),
        ],
    )
    layers: list[Any] = [band, lines, *_marker_layer(markers)]
    if measure != "followers":  # the zero line: above it the account grew
        layers.append(
            alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="black", strokeWidth=1).encode(y=alt.Y("y:Q"))
        )
    if title is None:
        title = {"net": "Net change in followers", "growth": "Growth", "followers": "Followers over time"}[measure]
    return _titled(alt.layer(*layers), title, subtitle, height, legend)


def reasons_compare_frame(ensembles: Sequence[Ensemble], labels: Sequence[str], per_thousand: bool) -> pd.DataFrame:
    """Long frame (reason, scenario, value, p10, p90): unfollows by reason for each scenario."""
    rows = []
    for e, label in zip(ensembles, labels, strict=True):
        totals = e.totals()
        scale = 1000.0 / max(float(e.runs[0].followers_start), 1.0) if per_thousand else 1.0
        for order, reason in enumerate(REASONS):
            q = quantiles(np.asarray(totals[f"unfollows_{reason}"], dtype=float) * scale)
            rows.append({"reason": REASON_WORDS[reason], "order": order, "scenario": label, **q})
    return pd.DataFrame(rows)


def reasons_compare_chart(
    ensembles: Sequence[Ensemble],
    labels: Sequence[str],
    colors: Sequence[str] | None = None,
    title: str | None = "Why people left, side by side",
) -> alt.TopLevelMixin:
    """Grouped bars: unfollows by reason, one bar per scenario (its colour, as on the curves).

    When the scenarios start with different numbers of followers, bars are per 1,000
    starting followers, so a big account does not look worse just for being big.
    """
    colors = list(colors) if colors is not None else PALETTE[: len(labels)]
    starts = {e.runs[0].followers_start for e in ensembles}
    per_thousand = len(starts) > 1
    data = reasons_compare_frame(ensembles, labels, per_thousand)
    x_title = "left per 1,000 starting followers (median)" if per_thousand else "people who left (median)"
    order = [REASON_WORDS[r] for r in REASONS]
    y = alt.Y("reason:N", sort=order, title=None, axis=alt.Axis(labelLimit=360))
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=y,
            yOffset=alt.YOffset("scenario:N", sort=list(labels)),
            x=alt.X("median:Q", title=x_title),
            color=alt.Color("scenario:N", title=None, scale=alt.Scale(domain=list(labels), range=colors)),
            tooltip=[
                alt.Tooltip("scenario:N"),
                alt.Tooltip("reason:N", title="why"),
                alt.Tooltip("median:Q", format=",.0f"),
                alt.Tooltip("p10:Q", format=",.0f", title="10th percentile"),
                alt.Tooltip("p90:Q", format=",.0f", title="90th percentile"),
            ],
        )
    )
    chart = bars
    if title:
        subtitle = "starting sizes differ, so per 1,000 starting followers" if per_thousand else "same seeds"
        chart = chart.properties(title=alt.TitleParams(title, subtitle=subtitle, subtitleFontSize=FONT_SIZE - 2))
    return _style(chart, height=max(220, 22 * len(labels) * len(REASONS)))


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
        .encode(y=y, x=alt.X("mid:Q"), text=alt.Text("setting:N"), detail=alt.Detail("side:N"))
    )
    rule = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(color="black", strokeWidth=1.5).encode(x=alt.X("x:Q"))
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


def larger(chart: alt.TopLevelMixin, factor: float = 1.3) -> alt.TopLevelMixin:
    """The same chart with its type ``factor`` times larger (presenter mode, projectors)."""
    big = chart.copy(deep=True)
    config = big.config
    for part, names in (
        (config.axis, ("labelFontSize", "titleFontSize")),
        (config.legend, ("labelFontSize", "titleFontSize")),
        (config.title, ("fontSize",)),
    ):
        for name in names:
            value = getattr(part, name, alt.Undefined)
            if isinstance(value, int | float):
                setattr(part, name, round(value * factor))
    return big


# --------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------


def chart_png(chart: alt.TopLevelMixin, scale: float = 2.0, width: int = 900, context: Sequence[str] = ()) -> bytes:
    """The chart as a PNG image (for slides), rendered offline by vl-convert.

    ``context`` lines (which scenario, which settings, the seed) are added under the title,
    so an image pasted into a slide or an email still says what it shows.
    """
    return chart_png_from_spec(with_context(chart.to_dict(), context), scale=scale, width=width)


def chart_png_from_spec(spec: dict[str, Any], scale: float = 2.0, width: int = 900) -> bytes:
    """A Vega-Lite spec (data inline, as JSON) as a PNG image, rendered offline by vl-convert."""
    import vl_convert as vlc

    if not isinstance(spec.get("width"), int):
        spec = {**spec, "width": width}  # Streamlit sizes charts to their container; a file needs pixels
    return vlc.vegalite_to_png(spec, scale=scale)


def with_context(spec: dict[str, Any], context: Sequence[str]) -> dict[str, Any]:
    """A chart spec whose title carries extra subtitle lines (``context``)."""
    if not context:
        return spec
    spec = dict(spec)
    title = spec.get("title")
    if isinstance(title, str):
        title = {"text": title}
    title = dict(title or {"text": ""})
    subtitle = title.get("subtitle") or []
    subtitle = [subtitle] if isinstance(subtitle, str) else list(subtitle)
    title["subtitle"] = [*subtitle, *context]
    spec["title"] = title
    return spec
