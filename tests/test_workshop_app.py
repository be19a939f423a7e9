"""The workshop pages, driven headless by ``streamlit.testing.v1.AppTest``: a participant
joins, sets the round's habits and submits; the facilitator (right key) sees counts, the
leaderboard and the charts and reveals; a wrong key sees no facilitator control."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app.text import JOINER
from coach.cli.workshop import open_room
from coach.workshop import Store
from tests.workshop_fixtures import write_exercise

APP = Path(__file__).resolve().parent.parent / "streamlit_app.py"
TIMEOUT = 240  # seconds per script run: generous for a loaded CI machine, never a speed assertion
HOST_BUTTONS = {"Close round", "Reopen round", "Reveal results", "Reveal the coach's answer", "Next round",
                "Close the room", "Delete the room"}  # fmt: skip
NAME = "<b>Ana</b> **bold** [x](http://e.co)"  # 36 characters: within the limit


@pytest.fixture(autouse=True)
def tmp_store(tmp_path, monkeypatch):
    """Every test on its own SQLite file, never the user's data folder."""
    st.cache_data.clear()
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COACH_DB", f"sqlite:///{tmp_path / 'app.db'}")
    return Store()


@pytest.fixture
def room(tmp_store, tmp_path):
    return open_room(tmp_store, str(write_exercise(tmp_path)))


def page(**query: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def shown_text(at: AppTest) -> str:
    """Everything rendered through Markdown (where markup would be interpreted)."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [h.value for h in at.header]
    parts += [t.value for t in at.title] + [s.value for s in at.subheader]
    return "\n".join(parts)


def test_participant_joins_sets_the_rounds_habits_and_sees_a_live_prediction(room, tmp_store):
    opened, _ = room
    at = page(room=opened.code)
    clean(at)
    assert [t.label for t in at.text_input] == ["Your name"]
    assert [s.label for s in at.slider] == ["Posts per day", "Reply rate"]  # only the round's habits
    posts = at.slider(key="ws_0_posts_per_day")
    assert (posts.min, posts.max) == (1.0, 8.0)  # the round's range, not the habit's 0..100
    assert not [b for b in at.button if b.label in HOST_BUTTONS]

    at.text_input(key="ws_name").input(NAME).run()
    at.slider(key="ws_0_reply_rate").set_value(0.9).run()
    at.button(key="ws_submit").click().run()
    clean(at)
    assert not at.error, [e.value for e in at.error]
    (sub,) = tmp_store.latest_submissions(opened.code)
    assert sub.name == NAME  # verbatim
    assert sub.habits["reply_rate"] == 0.9 and set(sub.habits) == {"posts_per_day", "reply_rate"}
    assert at.query_params["me"]  # the link keeps this participant after a reload
    assert any("Net change" in m.label for m in at.metric)  # reveal: live
    assert NAME not in shown_text(at)


def unescaped(markdown: str) -> str:
    """The characters an escaped Markdown body shows (app/text.py escapes with backslashes and
    puts an invisible joiner into bare links)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace(JOINER, "")


def test_a_name_typed_is_shown_to_its_owner_and_in_errors_as_text(room, tmp_store):
    opened, _ = room
    first = page(room=opened.code)
    first.text_input(key="ws_name").input(NAME).run()  # joined, nothing submitted yet
    clean(first)
    (joined,) = [c.value for c in first.caption if "Joined as" in c.value]
    assert NAME not in joined and unescaped(joined) == f"Joined as {NAME}. Nothing submitted in this round yet."
    second = page(room=opened.code)
    second.text_input(key="ws_name").input(NAME).run()  # the same name, from another browser
    clean(second)
    (taken,) = [e.value for e in second.error]
    assert NAME not in taken and f"already called “{NAME}”" in unescaped(taken)


def test_submit_without_a_name_explains_what_is_missing(room, tmp_store):
    at = page(room=room[0].code)
    at.button(key="ws_submit").click().run()
    clean(at)
    assert any("Enter your name" in e.value for e in at.error)
    assert tmp_store.latest_submissions(room[0].code) == []
    at.text_input(key="ws_name").input("x" * 41).run()
    assert any("at most 40" in e.value for e in at.error)


def test_unknown_room_is_explained():
    at = page(room="NOPE42")
    clean(at)
    assert any("no room NOPE42" in e.value for e in at.error)
    assert not at.button


def test_wrong_key_sees_no_facilitator_control(room):
    opened, key = room
    at = page(room=opened.code, host=key + "x")
    clean(at)
    assert not [b.label for b in at.button if b.label in HOST_BUTTONS]
    assert any("not the one" in w.value for w in at.warning)
    assert [b.label for b in at.button] == ["Submit"]
    assert key not in json.dumps([t.value for t in at.text])


def test_facilitator_sees_the_class_reveals_and_the_participant_is_told(room, tmp_store):
    opened, key = room
    participant = page(room=opened.code)
    participant.text_input(key="ws_name").input(NAME).run()
    participant.button(key="ws_submit").click().run()

    host = page(room=opened.code, host=key)
    clean(host)
    assert HOST_BUTTONS - {"Reopen round"} <= {b.label for b in host.button}
    metrics = {m.label: m.value for m in host.metric}
    assert (metrics["Joined"], metrics["Submitted"], metrics["Simulated"]) == ("1", "1", "1")
    board = host.dataframe[0].value
    assert list(board["name"]) == [NAME]  # a table cell: text, not markup
    assert NAME not in shown_text(host)
    charts = [json.loads(c.proto.spec) for c in host.get("vega_lite_chart")]
    assert len(charts) == 3  # curves over the baseline, habits against outcome, why people left
    assert key not in json.dumps([t.value for t in host.text] + [m.value for m in host.markdown])

    # round 2 is "predict, then reveal": hidden on both screens until the facilitator reveals
    host.button(key="ws_next").click().run()
    clean(host)
    participant = page(room=opened.code, me=participant.query_params["me"])
    assert [s.label for s in participant.slider] == ["Reply rate"]
    participant.button(key="ws_submit").click().run()
    assert any("hidden until the facilitator reveals" in i.value for i in participant.info)
    assert not participant.metric
    host.run()
    assert list(host.dataframe[0].value.columns) == ["name"]  # no outcomes on the projector yet
    host.button(key="ws_reveal").click().run()
    clean(host)
    assert "unfollows (80% of runs)" in host.dataframe[0].value.columns  # the round's metric
    participant.run()
    assert any("Unfollows" in m.label for m in participant.metric)
    assert any("The persona as it is" in c.value for c in participant.caption)  # the reference, read not re-run


def test_a_closed_round_disables_submit(room, tmp_store):
    opened, key = room
    tmp_store.host_update(opened.code, key, round_open=False)
    at = page(room=opened.code)
    clean(at)
    assert at.button(key="ws_submit").disabled
    assert any("round is closed" in i.value for i in at.info)


def test_a_room_can_be_opened_from_the_ordinary_page(tmp_store):
    at = page()
    clean(at)
    at.button(key="ws_open").click().run()
    clean(at)
    code, key = at.session_state["ws_opened"]
    assert tmp_store.room(code).exercise_name == "cocktail_party"
    assert tmp_store.is_host(code, key)
    assert any(f"?room={code}" in t.value for t in at.sidebar.text)
