"""The fitting part of the Your history tab: fit the audience to your archive and follower counts.

Called from :func:`app.history.history_tab`. The archive is the one uploaded above; the
follower count today, an optional history CSV and a few typed-in points complete the data.
The fit runs here, on this machine, with a progress bar; its report (words, fitted values
with intervals, what stays assumed, observed vs simulated history, forecast, engagement per
post by kind) is kept in the session; "Load the fitted scenario" makes it the reference so
the sliders and the coach speak about this audience. Typed text is shown as text only.
"""

from __future__ import annotations

import re
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from app.history import followers_today_input
from app.state import HABIT_LABELS, keep, load_base
from app.text import safe
from coach import Scenario

TRIAL_CHOICES = (16, 32, 48, 96)


# coach.fit speaks to the command line; on this page the same places have other names.
CLI_WORDS = {
    "(--history, or typed-in counts in the app)": "(the follower history file or typed-in counts)",
    "(use --since or a shorter history, or a shorter --forecast)": "(give a shorter follower history)",
    "(see coach fit --format json)": "(the fit's report in the Your history tab lists them all)",
}
# A scenario path, with the words coach.fit puts after it in brackets (one level of nested brackets).
_PATH = re.compile(r"\b(audience\.(?:segments\[\d\]\.)?\w+|habits\.\w+)(?: \((?:[^()]|\([^()]*\))*\))?")


def field_label(path: str, segments: int = 1) -> str:
    """A path the fit reports (``audience.segments[0].churn_per_month``, ``habits.follow_back_rate``) in words."""
    from coach.fit.core import field_words

    if path.startswith("habits."):
        name = path.removeprefix("habits.")
        return HABIT_LABELS.get(name, name).lower()
    return field_words(path, segments)


def assumed_words(report: dict[str, Any]) -> str:
    """What stays assumed, in words; the habits the archive cannot show named together."""
    parts = parts_of(report)
    habits = [field_label(a) for a in report["assumed"] if a.startswith("habits.")]
    rest = [field_label(a, parts) for a in report["assumed"] if not a.startswith("habits.")]
    if habits:
        rest.append("your habits as set in the sidebar for " + ", ".join(habits))
    return "; ".join(rest)


def app_words(text: str, segments: int = 1) -> str:
    """A sentence of coach.fit's in this page's words: paths named in words, no command-line flags."""
    for cli, app in CLI_WORDS.items():
        text = text.replace(cli, app)
    text = _PATH.sub(lambda m: field_label(m[1], segments), text)
    return text[:1].upper() + text[1:]


def parts_of(report: dict[str, Any]) -> int:
    """How many parts the fitted crowd has (two when the taste for links splits it)."""
    return 2 if any("segments[1]" in f for f in [*report["fitted"], *report["assumed"]]) else 1


def fitted_story(report: dict[str, Any]) -> str:
    """The fitted scenario's description in the page's words (coach.fit's names the paths)."""
    ev, fit, parts = report["evidence"], report["fit"], parts_of(report)
    lines = [
        f"Fitted in the Your history tab to {ev['source']}: {ev['history_points']} follower counts from "
        f"{ev['history_first']} to {ev['history_last']} and {ev['originals']:,} original posts."
    ]
    lines += [
        f"{field_label(k, parts)}: {v['value']:g} (80% {v['p10']:g} to {v['p90']:g})."
        for k, v in report["fitted"].items()
    ]
    lines += [app_words(w, parts) for w in fit["words"][:1]]
    lines.append(f"Assumed (not fitted): {assumed_words(report)}.")
    text = " ".join(line[:1].upper() + line[1:] for line in lines)
    return text if len(text) <= 2000 else text[:1997] + "..."


def _points(table: Any) -> tuple[list[tuple[Any, int]], list[str]]:
    """Typed-in (date, followers) rows, and one problem sentence per unusable row."""
    from coach.fit import parse_point

    rows, problems = [], []
    if table is None:
        return rows, problems
    frame = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)
    for i, record in enumerate(frame.to_dict("records"), start=1):
        day, count = record.get("date"), record.get("followers")
        missing_day = day is None or (isinstance(day, float) and pd.isna(day)) or day is pd.NaT
        missing_count = count is None or (isinstance(count, float) and pd.isna(count))
        if missing_day and missing_count:
            continue
        if missing_day or missing_count:
            problems.append(f"typed-in row {i}: give both a date and a follower count")
            continue
        try:
            rows.append(parse_point(pd.Timestamp(day).date(), count))
        except (ValueError, TypeError) as exc:
            problems.append(f"typed-in row {i}: {exc}")
    return rows, problems


def _run_fit() -> None:
    """Read the inputs, run the fit with a progress bar, keep the report (never a traceback)."""
    from coach.fit import FitError, fit, from_archive, read_history_csv
    from coach.importers import ArchiveError

    ss = st.session_state
    ss["fit_problem"] = None
    upload, history_upload = ss.get("import_upload"), ss.get("fit_history_upload")
    try:
        history = read_history_csv(history_upload.getvalue(), history_upload.name) if history_upload else []
        typed, problems = _points(ss.get("fit_points_value"))
        if problems:
            raise FitError(problems)
        data = from_archive(
            upload.getvalue(),
            int(ss["followers"]),  # the one count today (app/history.py): the sidebar's, the box's
            [*history, *typed],
            filename=upload.name,
            tz=ss.get("import_tz", "UTC"),
            history_label=history_upload.name if history_upload else "the typed-in counts",
            today_label="“Your followers today”",
        )
        bar = st.progress(0.0, text="Fitting: trying candidate audiences…")

        def progress(done: int, total: int) -> None:
            bar.progress(min(1.0, done / total), text=f"Fitting: simulation {done} of {total}…")

        result = fit(data, trials=int(ss["fit_trials"]), forecast=90, progress=progress)
        bar.empty()
    except ArchiveError as exc:
        ss["fit_problem"] = [exc.message]
        return
    except FitError as exc:
        ss["fit_problem"] = exc.problems
        return
    except ValueError as exc:
        ss["fit_problem"] = [str(exc)]
        return
    except Exception as exc:  # the page must never show a traceback
        ss["fit_problem"] = [f"the fit could not run ({type(exc).__name__}: {exc})"]
        return
    ss["fit_result"] = result.to_dict()
    ss["fit_scenario"] = result.scenario.model_dump_json()


def band_words(kind: dict[str, Any]) -> str:
    """Whether your engagement per post of a kind lies inside the model's 10-90% range, in words."""
    from coach.fit.report import outside_band

    outside = outside_band(kind)
    if outside is None:
        return "not counted"
    if not outside:
        return "yes"
    return "no: above" if kind["observed"] > kind["p90"] else "no: below"


def _clear_problem() -> None:
    """An input changed: the last fit's error was about the old inputs."""
    st.session_state["fit_problem"] = None


def _on_load() -> None:
    ss = st.session_state
    scenario = Scenario.model_validate_json(ss["fit_scenario"])
    scenario = scenario.model_copy(update={"description": fitted_story(ss["fit_result"])})
    load_base(scenario, "fit", "your fitted account")
    ss["notices"] = [
        *ss.get("notices", []),
        "The sliders and the coach now use your fitted audience (from the Your history tab).",
    ]


YOURS, FITTED, AHEAD = "your counts", "fitted history (median, 10–90%)", "forecast, from your count today"
CHART_WORDS = (
    "Black dots: the follower counts you gave. Blue: where the fitted model could have taken you, run from your "
    "first count (its median and 10–90% band). Orange: the forecast if nothing changes; it starts from your "
    "count today (the last dot) and adds each run's gains and losses after it, so where today's count lies "
    "off the blue band's end, the forecast starts off it too."
)


def _history_chart(report: dict[str, Any]) -> alt.Chart:
    f, fc, hist = report["fit"]["followers"], report["fit"]["forecast"], report["fit"].get("history")
    bands = []
    if hist:
        bands.append(
            pd.DataFrame(
                {"date": hist["date"], "median": hist["median"], "p10": hist["p10"], "p90": hist["p90"], "part": FITTED}
            )
        )
    # The forecast is your count today plus each run's gains and losses after it (coach.fit.report):
    # drawn from that count, so the orange starts at the last dot.
    today, count = f["date"][-1], f["observed"][-1]
    bands.append(
        pd.DataFrame(
            {
                "date": [today, *fc["date"]],
                "median": [count, *fc["median"]],
                "p10": [count, *fc["p10"]],
                "p90": [count, *fc["p90"]],
                "part": AHEAD,
            }
        )
    )
    band = pd.concat(bands)
    band["date"] = pd.to_datetime(band["date"])
    observed = pd.DataFrame({"date": pd.to_datetime(f["date"]), "followers": f["observed"], "part": YOURS})
    # Around the data, not from 0: the curves are what is read.
    low = min(band["p10"].min(), observed["followers"].min())
    high = max(band["p90"].max(), observed["followers"].max())
    pad = max((high - low) * 0.05, 1.0)
    y_scale = alt.Scale(domain=[max(0.0, low - pad), high + pad], zero=False)
    color = alt.Color(
        "part:N",
        title=None,
        scale=alt.Scale(domain=[YOURS, FITTED, AHEAD], range=["black", "#4c78a8", "#f58518"]),
        legend=alt.Legend(orient="top", labelLimit=400, symbolOpacity=1),
    )
    area = (
        alt.Chart(band)
        .mark_area(opacity=0.25)
        .encode(
            x=alt.X("date:T", title=None),
            y=alt.Y("p10:Q", title="followers", scale=y_scale),
            y2="p90:Q",
            color=color,
        )
    )
    line = alt.Chart(band).mark_line().encode(x="date:T", y=alt.Y("median:Q", scale=y_scale), color=color)
    dots = (
        alt.Chart(observed)
        .mark_point(filled=True, opacity=1)
        .encode(x="date:T", y=alt.Y("followers:Q", scale=y_scale), color=color, tooltip=["date:T", "followers:Q"])
    )
    return (area + line + dots).properties(height=280)


def fitting_section() -> None:
    ss = st.session_state
    st.subheader("Fit the model to your account")
    st.markdown(
        "The sliders above are *your habits*; the audience is still a generic one. Give your follower count "
        "today and, if you have them, earlier counts (a tracker's CSV with `date,followers`, or a few dates typed "
        "in below). The fit tries candidate audiences in the simulator and keeps those that reproduce your "
        "history and your likes and reposts per post. **Nothing leaves this machine**: the fit runs here."
    )
    if ss.get("import_upload") is None:
        st.info("Upload your archive above first: the fit needs your posts.")
        return
    keep("fit_trials", 32)  # coach.fit.DEFAULT_TRIALS
    if ss.get("import_result"):  # the box is above, beside what the archive shows: one count, not two
        st.markdown(f"**Your followers today:** {int(ss['followers']):,} (the count above; the history's last point).")
    else:
        followers_today_input()
    st.file_uploader(
        "Follower history (optional): CSV with date,followers",
        type=["csv", "txt"],
        key="fit_history_upload",
        max_upload_size=2,  # MB, as the widget says it; coach.fit.data.MAX_HISTORY_BYTES is checked after
        on_change=_clear_problem,
    )
    st.caption("Or type a few earlier counts (one row per date):")
    typed = st.data_editor(
        pd.DataFrame({"date": pd.Series([], dtype="datetime64[ns]"), "followers": pd.Series([], dtype="Int64")}),
        num_rows="dynamic",
        column_config={
            "date": st.column_config.DateColumn("date", format="YYYY-MM-DD"),
            "followers": st.column_config.NumberColumn("followers", min_value=0, max_value=10_000_000, step=1),
        },
        key="fit_points",
        hide_index=True,
        on_change=_clear_problem,
    )
    ss["fit_points_value"] = typed
    st.select_slider(
        "Candidate audiences to try",
        options=TRIAL_CHOICES,
        key="fit_trials",
        help="More is slower and more accurate (about a minute for a year of history at 48).",
    )
    if st.button("Fit my audience", key="fit_run", type="primary"):
        _run_fit()
    if ss.get("fit_problem"):
        st.error("The fit could not run, so nothing was changed:")
        for problem in ss["fit_problem"]:
            st.text(app_words(problem))  # may echo what was typed: shown as plain text
    report = ss.get("fit_result")
    if not report:
        return
    from coach.fit.report import POORLY_TRY

    fit, parts = report["fit"], parts_of(report)
    for line in fit["words"]:
        st.markdown(f"- {safe(app_words(line, parts))}")
    if POORLY_TRY in fit["words"]:
        # The app has no seed to change: more candidates is what to try.
        st.warning("The fit looks poor: pick more candidate audiences to try above and press Fit my audience again.")
    for warning in report.get("warnings", []):
        st.warning(safe(app_words(warning, parts)))
    st.altair_chart(_history_chart(report), width="stretch")
    st.caption(CHART_WORDS)
    rows = [
        {"value": field_label(field, parts), "fitted": v["value"], "from (10%)": v["p10"], "to (90%)": v["p90"]}
        for field, v in report["fitted"].items()
    ]
    taste = (fit.get("taste") or {}).get("link_appetite_mean")
    if taste:  # not a scenario field: the average over both parts, the one the data pin down
        rows.append({
            "value": "average link appetite (all followers)",
            "fitted": taste["value"],
            "from (10%)": taste["p10"],
            "to (90%)": taste["p90"],
        })  # fmt: skip
    st.dataframe(rows, hide_index=True, width="stretch", key="fit_table")
    if fit["engagement"]:
        st.markdown("**Likes and reposts per post, yours vs the fitted model's (median, 10–90%)**")
        st.dataframe(
            [
                {
                    "kind": k,
                    "posts": e["posts"],
                    "yours": e["observed"],
                    "model": e["median"],
                    "from": e["p10"],
                    "to": e["p90"],
                    "yours inside 10–90%": band_words(e),
                }
                for k, e in fit["engagement"].items()
            ],
            hide_index=True,
            width="stretch",
        )
    st.markdown("**Assumed (not fitted):** " + safe(assumed_words(report)))
    fc = fit["forecast"]
    st.markdown(
        f"**If nothing changes:** in {fc['day'][-1]} days about {fc['median'][-1]:,.0f} followers "
        f"(10–90%: {fc['p10'][-1]:,.0f} to {fc['p90'][-1]:,.0f})."
    )
    st.button("Load the fitted scenario", key="fit_load", on_click=_on_load, type="primary")
