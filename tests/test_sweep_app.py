"""The Explore tab, driven headless by AppTest: curve, heatmap, marks and the page's seeds.

The strong check: the value at your current setting is the Predictions tab's number, because
the tab runs every value on the page's seed and replicate indices. Runs are kept small (a
newcomer, 20 days, 3 runs, 3 values) so the module takes seconds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from app.explore import COUNTS, DEFAULT_RANGES, URL_PARAMS
from app.state import URL_KEYS
from coach import Scenario

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


# ---- Explore's picks in the link ------------------------------------------------------


def explore_link(**params: str) -> AppTest:
    """The page opened from a link straight onto the Explore tab (SMALL settings plus ``params``)."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in {**SMALL, "tab": "Explore", **params}.items():
        at.query_params[key] = value
    return at.run()


def test_explore_picks_go_into_the_link_and_a_link_restores_them():
    at = explore_link()
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    assert set(URL_PARAMS) <= set(URL_KEYS), "the page writes and knows every Explore parameter"
    assert not set(URL_PARAMS) & set(at.query_params), "defaults stay out of the link"
    at.multiselect(key="explore_habits").set_value(["reply_rate"]).run()
    at.slider(key="explore_range_reply_rate").set_value((0.2, 0.8)).run()
    at.slider(key="explore_count_1").set_value(3).run()
    at.selectbox(key="explore_outcome").set_value("followers_end").run()
    assert not at.exception and not at.error
    link = dict(at.query_params)
    assert link["explore"] == "reply_rate" and link["explore_range"] == "0.2:0.8"
    assert link["explore_values"] == "3" and link["explore_outcome"] == "followers_end"
    shown = at.session_state["explore"]

    opened = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in link.items():
        opened.query_params[key] = value
    opened.run()
    assert not opened.exception and not opened.warning, [w.value for w in opened.warning]
    assert opened.session_state["explore_habits"] == ["reply_rate"]
    assert tuple(opened.session_state["explore_range_reply_rate"]) == (0.2, 0.8)
    assert opened.session_state["explore_count_1"] == 3
    assert opened.session_state["explore_outcome"] == "followers_end"
    assert opened.session_state["explore"] == shown  # the same grid, outcome and best value, on the same seeds
    assert all(0.2 <= v <= 0.8 for v in shown["values"][0])
    assert dict(opened.query_params) == link  # and the reopened page writes the same link


def test_two_habits_round_trip_through_the_link():
    at = explore_link(explore="reply_rate,posts_per_day", explore_range="0:1,1:5", explore_values="2")
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    assert at.session_state["explore_habits"] == ["reply_rate", "posts_per_day"]
    assert tuple(at.session_state["explore_range_posts_per_day"]) == (1.0, 5.0)
    assert at.session_state["explore_count_2"] == 2
    xs, ys = at.session_state["explore"]["values"]
    assert {0.0, 1.0} <= set(xs) and {1.0, 5.0} <= set(ys)
    spec, _ = chart_frame(at)
    assert "rect" in [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in spec["layer"]]  # fmt: skip
    link = dict(at.query_params)
    assert link["explore"] == "reply_rate,posts_per_day" and link["explore_range"] == "0:1,1:5"


BAD_EXPLORE_LINKS = [
    ({"explore": "posts_per_dya"}, "explore="),
    ({"explore": "posts_per_day,reply_rate,link_share"}, "explore="),
    ({"explore": "reply_rate,reply_rate"}, "explore="),
    ({"explore_range": "12:0.5"}, "explore_range="),
    ({"explore_range": "0.5:1000"}, "explore_range="),
    ({"explore_range": "0.3:5"}, "explore_range="),  # off the slider's 0.5 steps
    ({"explore_range": "nan:5"}, "explore_range="),
    ({"explore_range": "1:" + "9" * 5000}, "explore_range="),
    ({"explore_range": "0.5:12,0:1"}, "explore_range="),  # two ranges for one habit
    ({"explore": "reply_rate,follow_back_rate", "explore_range": "0:1"}, "explore_range="),  # one range for two
    ({"explore_values": "1"}, "explore_values="),
    ({"explore_values": "99"}, "explore_values="),
    ({"explore_values": "three"}, "explore_values="),
    ({"explore_outcome": "**loud** [x](https://example.org/x.png)"}, "explore_outcome="),
]


@pytest.mark.parametrize(("params", "named"), BAD_EXPLORE_LINKS, ids=[str(p) for p, _ in BAD_EXPLORE_LINKS])
def test_bad_explore_links_get_a_message_and_the_defaults(params, named):
    at = explore_link(**params)
    assert not at.exception, [e.value for e in at.exception]
    warnings = [w.value for w in at.warning]
    unescaped = [re.sub(r"\\(.)", r"\1", w) for w in warnings]
    assert any(f"URL parameter {named}" in w and "allowed:" in w for w in unescaped), unescaped
    assert all("](" not in w and "**" not in w for w in warnings), "link text is shown as text, not Markdown"
    assert len(at.get("vega_lite_chart")) == 1, "Explore still answers, with its defaults"
    explore = at.session_state["explore"]
    if named == "explore=":
        assert explore["habits"] == ["posts_per_day"]
    if named == "explore_range=":
        low, high = at.session_state[f"explore_range_{explore['habits'][0]}"]
        assert (low, high) == DEFAULT_RANGES[explore["habits"][0]]
    if named == "explore_values=":
        assert at.session_state["explore_count_1"] == COUNTS[1]
    if named == "explore_outcome=":
        assert explore["outcome"] == "net"


def test_a_range_with_invalid_values_is_explained_not_simulated():
    at = explore_link(explore="link_share", explore_range="0:1", explore_values="3")
    assert not at.exception, [e.value for e in at.exception]
    text = "\n".join(re.sub(r"\\(.)", r"\1", w.value) for w in at.warning)
    assert "not valid with your other settings" in text and "link_share + promo_share + question_share" in text
    assert not at.get("vega_lite_chart")


# ---- Explore in the server's queue and budget ----------------------------------------


def test_explore_over_its_budget_stops_with_a_message_and_caches_nothing(monkeypatch):
    st.cache_data.clear()
    monkeypatch.setattr("app.guard.RUN_SECONDS", 0.0)  # every job's budget is spent before it starts
    at = explore_link(explore_values="2")
    assert not at.exception, [e.value for e in at.exception]
    warnings = "\n".join(re.sub(r"\\(.)", r"\1", w.value) for w in at.warning)
    assert "The simulation was stopped" in warnings and "budget" in warnings and "coach sweep" in warnings
    assert not at.get("vega_lite_chart")
    monkeypatch.undo()
    again = explore_link(explore_values="2")  # nothing half-done was cached: the same grid now runs
    assert not again.warning and len(again.get("vega_lite_chart")) == 1


def test_explore_waits_in_the_servers_queue_and_a_full_queue_is_a_message(monkeypatch):
    from coach import workqueue

    st.cache_data.clear()
    monkeypatch.setattr(workqueue, "MAX_WAITING", 0)  # the queue refuses every new job
    at = explore_link(explore_values="2")
    assert not at.exception, [e.value for e in at.exception]
    warnings = "\n".join(re.sub(r"\\(.)", r"\1", w.value) for w in at.warning)
    assert "The server is busy" in warnings
    assert not at.get("vega_lite_chart")


def test_a_grid_is_refused_on_the_crowd_of_its_heaviest_value(monkeypatch):
    import dataclasses

    from app import explore, guard
    from coach import budget

    at = explore_link(explore_values="2")
    values = at.session_state["explore"]["values"][0]
    scenario: Scenario = at.session_state["last_valid"]  # the settings Explore varied
    need = {v: budget.project(scenario.with_habits(posts_per_day=v)).bytes_per_run for v in values}
    assert need[max(values)] > need[min(values)], "more posts a day can reach a larger crowd"
    limit = (need[min(values)] + need[max(values)]) / 2
    monkeypatch.setattr(explore, "APP_LIMITS", dataclasses.replace(guard.APP_LIMITS, max_bytes_per_run=limit))
    st.cache_data.clear()
    refused = explore_link(explore_values="2")
    assert not refused.exception
    first_over = next(v for v in values if need[v] > limit)
    text = re.sub(r"\\(.)", r"\1", refused.warning[0].value)
    assert (
        f"One run of these settings with posts per day {first_over:g} can need" in text
        and "memory" in text
        and "coach sweep" in text
    )
    assert not refused.get("vega_lite_chart")
