"""The Explore tab, driven headless by AppTest: curve, heatmap, marks and the page's seeds.

The strong check: the value at your current setting is the Predictions tab's number, because
the tab runs every value on the page's seed and replicate indices. Runs are kept small (a
newcomer, 20 days, 3 runs, 3 values) so the module takes seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parent.parent / "streamlit_app.py"
TIMEOUT = 240  # seconds per script run: generous for a loaded CI machine, never a speed assertion
SMALL = {"persona": "newcomer", "days": "20", "replicates": "3"}


@pytest.fixture(scope="module", autouse=True)
def fresh_cache():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def open_explore(**state) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in SMALL.items():
        at.query_params[key] = value
    at.run()  # the Predictions tab first: its summary is what Explore must agree with
    assert not at.exception, [e.value for e in at.exception]
    at.session_state["tab"] = "Explore"
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def chart_frame(at: AppTest) -> tuple[dict, pd.DataFrame]:
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    chart = charts[0]
    frames = [convert_arrow_bytes_to_pandas_df(d.data.data) for d in chart.proto.datasets]
    return json.loads(chart.proto.spec), pd.concat(frames, ignore_index=True)


def test_one_habit_is_a_band_with_the_current_value_and_the_best_marked():
    at = open_explore(explore_count_1=3)
    predictions = at.session_state["results"]["summary"]
    explore = at.session_state["explore"]
    current = json.loads(at.session_state["results"]["scenario"])["habits"]["posts_per_day"]
    values = explore["values"][0]
    assert current in values and len(values) >= 3  # your value is one of the grid's
    spec, data = chart_frame(at)
    marks = {layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in spec["layer"]}
    assert {"area", "line", "rule", "point"} <= marks  # band, median, your setting, the best value
    cells = data.dropna(subset=["p10"]).drop_duplicates("value")
    assert sorted(cells["value"]) == sorted(values)
    assert (cells["p10"] <= cells["median"]).all() and (cells["median"] <= cells["p90"]).all()
    mine = cells[cells["value"] == current].iloc[0]
    assert mine["median"] == predictions["net"]["median"]  # same seeds as the page
    assert (mine["p10"], mine["p90"]) == (predictions["net"]["p10"], predictions["net"]["p90"])
    assert explore["best"]["median"] == cells["median"].max()
    assert any("Best in this range" in m.value for m in at.markdown)
    assert len(at.get("download_button")) >= 2


def test_unfollows_by_reason_marks_the_fewest():
    at = open_explore(explore_count_1=3, explore_outcome="unfollows_fatigue")
    _, data = chart_frame(at)
    cells = data.dropna(subset=["p10"]).drop_duplicates("value")
    assert at.session_state["explore"]["best"]["median"] == cells["median"].min()


def test_two_habits_are_a_heatmap():
    at = open_explore(explore_habits=["posts_per_day", "reply_rate"], explore_count_2=2)
    spec, data = chart_frame(at)
    marks = [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in spec["layer"]]
    assert "rect" in marks and "text" in marks
    xs, ys = at.session_state["explore"]["values"]
    grid = data.drop_duplicates(["x", "y"])
    assert len(grid) == len(xs) * len(ys)
    assert (grid["mark"] == "★").sum() == 1


def test_too_big_a_grid_is_refused_with_advice():
    at = open_explore(explore_habits=["posts_per_day", "reply_rate"], explore_count_2=9, replicates=200, days=365)
    # the sidebar's runs and horizon are part of the page's settings; a 10 x 10 grid of a year
    # of 200 runs is too slow here (the batched engine runs 200 runs of 20 days in ~0.1 s)
    assert at.warning and "coach sweep" in at.warning[0].value
    assert not at.get("vega_lite_chart")


def test_charts_export_as_png_and_mark_the_best():
    from coach import plots, sweep_plots
    from coach.sweep import build_sweep
    from coach.sweep_backends import run_sweep

    sweep = build_sweep("newcomer", ["habits.posts_per_day=1,3", "habits.reply_rate=0,1"], replicates=2, days=4)
    results = list(run_sweep(sweep, parallel=False))
    frame = sweep_plots.sweep_frame(results, "minutes_per_day")
    frame = frame.rename(columns={"habits.posts_per_day": "posts", "habits.reply_rate": "reply"})
    assert sweep_plots.best_row(frame, "minutes_per_day")["median"] == frame["median"].min()  # fewer minutes is better
    line = sweep_plots.line_chart(frame[frame["reply"] == 0], "posts", "minutes_per_day", label="Posts", current=1)
    heat = sweep_plots.heatmap(frame, ("posts", "reply"), "minutes_per_day", labels=("Posts", "Reply"), current={"posts": 3, "reply": 1})  # fmt: skip
    for chart in (line, heat):
        assert plots.chart_png(chart).startswith(b"\x89PNG")
