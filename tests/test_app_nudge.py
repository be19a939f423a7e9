"""A slider nudge: the new cards first, the new charts in a follow-up run (app/predictions.py).

Driven headless by ``streamlit.testing.v1.AppTest``, which follows ``st.rerun()`` inside one
``run()``. What each script run draws is recorded by wrapping the tab's ``metric`` and
``draw`` (the script reads them from ``app.predictions`` on every run). No simulated number
is written down: runs are compared with each other and with a page opened fresh on the
same settings (same seed and runs, so the same ensemble).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import app.predictions

APP = Path(__file__).resolve().parent.parent / "streamlit_app.py"
TIMEOUT = 240  # seconds per script run: generous for a loaded CI machine, never a speed assertion


@pytest.fixture(autouse=True)
def fresh_cache():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def runs(monkeypatch):
    """One entry per script run that drew the Predictions tab: its cards and its charts."""
    seen: list[dict[str, list]] = []
    tab, metric, draw = app.predictions.predictions_tab, app.predictions.metric, app.predictions.draw

    def recording_tab(*args, **kwargs):
        seen.append({"cards": [], "charts": []})
        return tab(*args, **kwargs)

    def recording_metric(col, label, q, delta, **kwargs):
        seen[-1]["cards"].append((label, q["median"], delta))
        return metric(col, label, q, delta, **kwargs)

    def recording_draw(where, spec):
        seen[-1]["charts"].append(spec)
        return draw(where, spec)

    monkeypatch.setattr(app.predictions, "predictions_tab", recording_tab)
    monkeypatch.setattr(app.predictions, "metric", recording_metric)
    monkeypatch.setattr(app.predictions, "draw", recording_draw)
    return seen


def same_charts(a: list[dict], b: list[dict]) -> bool:
    """The same specs with equal data, chart by chart."""

    def parts(spec):
        return {k: v for k, v in spec.items() if k != "datasets"}, spec.get("datasets", {})

    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        (sx, dx), (sy, dy) = parts(x), parts(y)
        if sx != sy or dx.keys() != dy.keys() or not all(dx[k].equals(dy[k]) for k in dx):
            return False
    return True


def test_a_nudge_brings_the_new_cards_first_and_the_new_charts_one_run_later(runs):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert len(runs) == 1  # a page that opens draws its charts at once
    opened = runs[-1]
    assert len(opened["charts"]) == 4

    value = float(at.session_state["posts_per_day"]) + 0.5
    runs.clear()
    at.select_slider(key="posts_per_day").set_value(value).run()
    assert not at.exception
    first, follow_up = runs  # the run the nudge started, and the one it asked for
    # The first run already shows the new numbers (minutes a day follow posts per day exactly) ...
    assert first["cards"] != opened["cards"]
    assert first["cards"] == follow_up["cards"]
    # ... beside the charts already on screen, unchanged (the browser keeps identical elements).
    assert same_charts(first["charts"], opened["charts"])
    # The follow-up run draws the new setting's charts: those of a page opened on it.
    assert not same_charts(follow_up["charts"], opened["charts"])
    fresh = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    fresh.query_params["posts_per_day"] = f"{value:g}"
    runs.clear()
    fresh.run()
    assert float(fresh.session_state["posts_per_day"]) == value
    assert len(runs) == 1
    assert same_charts(runs[0]["charts"], follow_up["charts"])
    assert runs[0]["cards"][0][:2] == follow_up["cards"][0][:2]  # same median (its delta is against another reference)


def test_a_run_that_changes_nothing_asks_for_no_follow_up(runs):
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    value = float(at.session_state["posts_per_day"]) + 0.5
    at.select_slider(key="posts_per_day").set_value(value).run()
    runs.clear()
    at.run()  # the same settings again (another widget, a tab switch): one run, the charts as they are
    assert len(runs) == 1
    (again,) = runs
    runs.clear()
    at.select_slider(key="posts_per_day").set_value(value + 0.5).run()
    assert len(runs) == 2
    assert same_charts(runs[0]["charts"], again["charts"])


def test_presenter_mode_moves_the_charts_and_draws_them_at_once(runs):
    """Where the charts stand changes with presenter mode: nothing to keep, no follow-up run."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    runs.clear()
    at.toggle(key="present").set_value(True).run()
    assert not at.exception
    assert len(runs) == 1 and len(runs[0]["charts"]) == 4
    assert at.session_state["present"] is True


def test_the_cards_are_sent_before_the_sidebar(monkeypatch):
    """A nudge's new numbers leave the server before the sidebar's unchanged controls."""
    import app.sidebar

    order: list[str] = []
    metric, sidebar = app.predictions.metric, app.sidebar.sidebar

    def recording_metric(*args, **kwargs):
        order.append("card")
        return metric(*args, **kwargs)

    def recording_sidebar(*args, **kwargs):
        order.append("sidebar")
        return sidebar(*args, **kwargs)

    monkeypatch.setattr(app.predictions, "metric", recording_metric)
    monkeypatch.setattr(app.sidebar, "sidebar", recording_sidebar)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert order == ["card"] * 5 + ["sidebar"]


def test_a_view_that_fails_still_leaves_the_controls(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a fault in a view")

    monkeypatch.setattr(app.predictions, "predictions_tab", broken)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert at.exception  # Streamlit shows the fault ...
    assert at.select_slider(key="posts_per_day").value is not None  # ... and the sidebar is there to change things
    assert at.sidebar.selectbox  # the persona picker


def test_back_on_predictions_after_a_change_elsewhere_the_charts_come_at_once(runs):
    """No charts are on screen while another tab is open: nothing to keep, so no follow-up."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.session_state["tab"] = "About the model"
    at.run()
    at.select_slider(key="posts_per_day").set_value(float(at.session_state["posts_per_day"]) + 0.5).run()
    runs.clear()
    at.session_state["tab"] = "Predictions"
    at.run()
    assert not at.exception
    assert len(runs) == 1 and len(runs[0]["charts"]) == 4
