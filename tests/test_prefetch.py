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
    assert prefetch.look_ahead(scenario)
    assert not prefetch.look_ahead(scenario)  # already on its way: not started twice
    taken = prefetch.take(scenario.model_dump_json())
    computed = run_many(scenario, scenario.replicates, scenario.seed, parallel=False)
    assert taken is not None
    assert taken.values("followers_end").tolist() == computed.values("followers_end").tolist()
    assert taken.values("unfollows").tolist() == computed.values("unfollows").tolist()
    assert prefetch.take(scenario.model_dump_json()) is None  # taken once


def test_nudging_posts_per_day_simulates_the_next_step_and_the_page_takes_it():
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=240)
    at.query_params["replicates"] = "4"
    at.query_params["days"] = "20"
    at.run()
    start = at.session_state["posts_per_day"]
    at.select_slider(key="posts_per_day").set_value(start + 0.5).run()
    assert not at.exception
    assert not at.warning  # the short horizon and few runs were taken from the link
    pending = list(prefetch._pending)
    nudged = Scenario.model_validate_json(at.session_state["results"]["scenario"])
    assert [Scenario.model_validate_json(p).habits.posts_per_day for p in pending] == [start + 1.0]
    at.select_slider(key="posts_per_day").set_value(start + 1.0).run()
    assert not at.exception
    shown = Scenario.model_validate_json(at.session_state["results"]["scenario"])
    assert shown.habits.posts_per_day == start + 1.0 and nudged.habits.posts_per_day == start + 0.5
    # the look-ahead was taken, and the page shows what a fresh computation gives
    assert pending[0] not in prefetch._pending
    fresh = run_many(shown, shown.replicates, shown.seed, parallel=False).summary()
    assert at.session_state["results"]["summary"]["followers_end"] == fresh["followers_end"]
    st.cache_data.clear()
