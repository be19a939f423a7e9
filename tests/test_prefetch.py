"""The look-ahead (app/prefetch.py): the next slider step, simulated before it is asked for."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app import prefetch
from app.sidebar import POSTS_GRID
from coach import Scenario, run_many

APP = Path(__file__).resolve().parent.parent / "streamlit_app.py"


@pytest.fixture(autouse=True)
def no_look_aheads_left(monkeypatch):
    """Look-ahead on (tests/conftest.py turns it off elsewhere); none left over before or after."""
    monkeypatch.setenv("COACH_LOOK_AHEAD", "1")
    prefetch.drop_all()
    yield
    prefetch.drop_all()


def small() -> Scenario:
    return Scenario(days=20, replicates=4, seed=3)


def test_the_next_value_follows_the_direction_and_stops_at_the_ends():
    assert prefetch.next_value("posts_per_day", 2.0, 2.5, POSTS_GRID) == 3.0
    assert prefetch.next_value("posts_per_day", 20.0, 22.0, POSTS_GRID) == 25.0  # the coarse part of the track
    assert prefetch.next_value("posts_per_day", 0.5, 0.0, POSTS_GRID) is None  # nothing below 0
    assert prefetch.next_value("reply_rate", 0.5, 0.45) == pytest.approx(0.4)
    assert prefetch.next_value("reply_rate", 0.95, 1.0) is None  # the share cannot pass 1
    assert prefetch.next_value("reply_rate", 0.5, 0.5) is None  # nothing moved


def test_only_a_single_habit_moved_is_followed():
    before = small()
    after = before.with_habits(reply_rate=before.habits.reply_rate + 0.05)
    step = prefetch.following(before, after)
    assert step is not None and step.habits.reply_rate == pytest.approx(before.habits.reply_rate + 0.1)
    assert step.model_copy(update={"habits": before.habits}) == before  # nothing else differs
    two = before.with_habits(reply_rate=0.9, link_share=0.3)
    assert prefetch.following(before, two) is None
    bigger = after.model_copy(update={"audience": after.audience.model_copy(update={"followers": 5000})})
    assert prefetch.following(before, bigger) is None  # the audience changed too
    assert prefetch.following(None, after) is None


def test_a_look_ahead_gives_exactly_the_ensemble_the_page_would_compute():
    scenario = small().with_habits(posts_per_day=4.5)
    text = scenario.model_dump_json()
    assert prefetch.look_ahead(scenario) == [text]
    first = prefetch._pending[text]
    assert prefetch.look_ahead(scenario, replacing=[text]) == [text]
    assert prefetch._pending[text] is first  # already on its way: not started twice
    taken = prefetch.take(scenario.model_dump_json())
    computed = run_many(scenario, scenario.replicates, scenario.seed, parallel=False)
    assert taken is not None
    assert taken.values("followers_end").tolist() == computed.values("followers_end").tolist()
    assert taken.values("unfollows").tolist() == computed.values("unfollows").tolist()
    assert prefetch.take(scenario.model_dump_json()) is None  # taken once


def test_a_page_that_opens_looks_ahead_at_posts_per_day_both_ways():
    opened = Scenario(days=20, replicates=4, seed=3).with_habits(posts_per_day=2.0)
    steps = prefetch.ahead_of(None, opened, POSTS_GRID)
    assert [s.habits.posts_per_day for s in steps] == [2.5, 1.5]
    assert prefetch.ahead_of(opened, opened, POSTS_GRID) == []  # nothing changed: nothing new to guess
    preset = opened.with_habits(reply_rate=0.9, link_share=0.0)
    assert prefetch.ahead_of(opened, preset, POSTS_GRID) == []  # several habits at once: no direction


def test_nudging_posts_per_day_takes_the_look_ahead_and_simulates_the_next_step():
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=240)
    at.query_params["replicates"] = "4"
    at.query_params["days"] = "20"
    at.run()
    assert not at.exception and not at.warning  # the short horizon and few runs were taken from the link
    opened = Scenario.model_validate_json(at.session_state["results"]["scenario"])
    start = opened.habits.posts_per_day
    up = opened.with_habits(posts_per_day=start + 0.5).model_dump_json()
    assert up in prefetch._pending  # the page looked ahead as soon as it opened
    at.select_slider(key="posts_per_day").set_value(start + 0.5).run()
    assert not at.exception
    nudged = Scenario.model_validate_json(at.session_state["results"]["scenario"])
    assert nudged.model_dump_json() == up and up not in prefetch._pending  # taken
    # the page shows what a fresh computation gives
    fresh = run_many(nudged, nudged.replicates, nudged.seed, parallel=False).summary()
    assert at.session_state["results"]["summary"]["followers_end"] == fresh["followers_end"]
    # and it now looks one more step along the way the slider moved
    assert opened.with_habits(posts_per_day=start + 1.0).model_dump_json() in prefetch._pending
    st.cache_data.clear()


def test_moving_the_other_way_drops_the_look_aheads_nobody_wants():
    base = small()
    up, down, further = (base.with_habits(posts_per_day=v) for v in (2.5, 1.5, 3.0))
    wanted = prefetch.look_ahead(up, down)
    assert len(wanted) == 2
    wanted = prefetch.look_ahead(further, replacing=wanted)
    assert wanted == [further.model_dump_json()]
    assert up.model_dump_json() not in prefetch._pending and down.model_dump_json() not in prefetch._pending
    taken = prefetch.take(further.model_dump_json())
    assert taken is not None and taken.scenario.habits.posts_per_day == 3.0
