"""Workshop rooms in the app: ``/?room=CODE`` is a participant's page, ``/?room=CODE&host=KEY``
the facilitator's (see ``app/facilitator.py``).

A participant enters a name, reads the round's story, goal and constraints, sets the habits
the round allows and submits; they may resubmit until the round closes (the last submission
counts). Their own prediction shows at once (``reveal: live``) or once the facilitator
reveals it (``reveal: predict_then_reveal``). The page refreshes its status by itself every
few seconds, reading the database only: a result is simulated once, when it is submitted.

Everything typed by someone else (names; the exercise's texts) is shown as text, never as
Markdown or HTML: ``st.text``, escaped Markdown (:func:`app.text.safe`), tables and chart labels.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from app.state import HABIT_LABELS, INT_HABITS, MAIN_HABITS, MORE_HABITS, engine_ready, help_text
from app.text import safe
from coach import REASON_WORDS, REASONS, Habits

REFRESH_SECONDS = 3  # how often the room pages look for news in the database
STEPS = {key: step for key, _, step in MAIN_HABITS + MORE_HABITS}


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Any:
    from coach.workshop.store import Store

    return Store(url)


def get_store() -> Any:
    """The store for ``COACH_DB`` / ``COACH_DATA_DIR`` (one engine per server process)."""
    from coach.workshop.store import database_url

    return _store(database_url())


def clock(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).astimezone().strftime("%H:%M:%S")


def habit_text(name: str, value: float) -> str:
    if name.endswith(("_share", "_rate")):
        return f"{value:.0%}"
    return f"{value:g}"


def room_page() -> None:
    """The page for ``?room=…``: facilitator with the right key, else participant."""
    from coach.workshop.store import RoomError

    code = str(st.query_params.get("room", ""))
    host = st.query_params.get("host")
    try:
        store = get_store()
        room = store.room(code)
    except RoomError as exc:
        st.set_page_config(page_title="Cadence Coach workshop", page_icon="📈", layout="centered")
        st.title("Cadence Coach workshop")
        st.error(safe(exc))
        return
    if host is not None and store.is_host(room.code, host):
        from app.facilitator import facilitator_page

        facilitator_page(store, room.code, host)
        return
    st.set_page_config(
        page_title=f"Room {room.code}", page_icon="📈", layout="centered", initial_sidebar_state="collapsed"
    )
    engine_ready()
    if host is not None:
        st.warning(
            f"This facilitator key is not the one for room {room.code}, so this is the participant page. "
            "Check the facilitator link printed when the room was opened."
        )
    participant_page(store, room.code)


# --------------------------------------------------------------------------------------
# The participant's page
# --------------------------------------------------------------------------------------


def _token_key(code: str) -> str:
    return f"ws_token_{code}"


def _browser_token(code: str) -> str:
    """The token this session joins with, made before it first asks, so a join that a rerun
    repeats (or whose answer the session lost) finds the participant it already made."""
    return st.session_state.setdefault(f"ws_browser_{code}", secrets.token_urlsafe(16))


def _me(store: Any, code: str) -> Any:
    """This browser's participant: from the session, or from ``&me=`` in the URL (survives a reload)."""
    ss = st.session_state
    for token in (ss.get(_token_key(code)), st.query_params.get("me"), _browser_token(code)):
        person = store.participant(code, token) if token else None
        if person is not None:
            ss[_token_key(code)] = person.token
            return person
    return None


def _join(store: Any, code: str, name: str) -> Any:
    from coach.workshop.store import RoomError

    try:
        person = store.join(code, name, token=_browser_token(code))
    except RoomError as exc:
        st.session_state["ws_problem"] = str(exc)
        return None
    st.session_state[_token_key(code)] = person.token
    st.query_params["me"] = person.token
    st.session_state.pop("ws_problem", None)
    return person


def _on_name(store: Any, code: str) -> None:
    name = st.session_state.get("ws_name", "")
    if name.strip() and _me(store, code) is None:
        _join(store, code, name)


def _slider(round_index: int, round_: Any, name: str, default: float) -> float:
    from coach.workshop.exercise import habit_range

    lo, hi = habit_range(round_, name)
    value = min(max(default, lo), hi)  # the persona's value, shown inside the round's range
    key = f"ws_{round_index}_{name}"
    label = HABIT_LABELS.get(name, name.replace("_", " ").capitalize())
    if name in INT_HABITS:
        return st.slider(label, int(lo), int(hi), int(value), step=1, key=key, help=help_text(Habits, name))
    return st.slider(
        label,
        float(lo),
        float(hi),
        float(value),
        step=float(STEPS.get(name, 0.05)),
        key=key,
        help=help_text(Habits, name),
    )


def participant_page(store: Any, code: str) -> None:
    from coach.workshop.exercise import METRICS
    from coach.workshop.rooms import room_exercise, round_of

    room = store.room(code)
    exercise = room_exercise(room.exercise_yaml)
    round_, base = round_of(room)
    ss = st.session_state
    ss["ws_round_seen"] = (room.round_index, room.round_open)

    st.markdown(f"### {safe(exercise.title)}")
    st.caption(f"Room {room.code} · round {room.round_index + 1} of {room.rounds}")

    _browser_token(room.code)  # made in a whole run, so a callback's lost write cannot lose it
    me = _me(store, room.code)
    if me is None:
        st.text_input(
            "Your name",
            key="ws_name",
            placeholder="as the facilitator should see it",
            on_change=_on_name,
            args=(store, room.code),
            help="Shown on the projector beside your results. 1 to 40 characters.",
        )
    else:
        st.text_input("Your name", value=me.name, key="ws_name_joined", disabled=True)
    shown_problem = ss.get("ws_problem")
    if shown_problem:
        st.error(safe(shown_problem))  # may quote the name typed

    with st.container(border=True):
        st.markdown(f"#### {safe(round_.title)}")
        st.caption(
            f"{safe(base.name)} · {base.audience.followers:,} followers · {base.platform.name} · {base.days} days"
        )
        st.text(round_.story or base.description)
        st.markdown(f"**Goal:** {safe(round_.goal)}")
        budget = round_.constraints.budget_minutes_per_day
        rules = [f"Judged by: {METRICS[round_.metric]}."]
        if budget is not None:
            rules.append(f"Time budget: at most {budget:g} minutes a day (submissions over it rank last).")
        if round_.reveal == "predict_then_reveal":
            rules.append("Predict, then reveal: your result stays hidden until the facilitator reveals it.")
        st.caption(" ".join(rules))

    closed = room.closed or not room.round_open
    st.markdown("**Your habits**")
    habits_now = base.habits.model_dump()
    habits = {name: _slider(room.round_index, round_, name, habits_now[name]) for name in round_.habits}
    fixed = [n for n in ("posts_per_day", "reply_rate", "link_share") if n not in round_.habits]
    if fixed:
        st.caption(
            "Fixed in this round: "
            + ", ".join(f"{HABIT_LABELS[n].lower()} {habit_text(n, habits_now[n])}" for n in fixed)
            + "."
        )
    guess = st.number_input(
        f"Your guess: {METRICS[round_.metric]} (optional)",
        value=None,
        step=10.0,
        key=f"ws_{room.round_index}_guess",
        help="Write down what you expect before you see it; the facilitator's table shows guesses beside results.",
    )
    if st.button("Submit", key="ws_submit", type="primary", disabled=closed, width="stretch"):
        _submit(store, room.code, habits, guess, shown_problem)
    if closed:
        st.info("This round is closed; your last submission counts." if not room.closed else "This room is closed.")
    _status(store, room.code)


def _submit(store: Any, code: str, habits: dict[str, Any], guess: float | None, shown_problem: str | None) -> None:
    from app.guard import workshop_run
    from coach.engine import RunCancelled
    from coach.workqueue import Busy
    from coach.workshop import rooms
    from coach.workshop.store import RoomError

    me = _me(store, code)
    if me is None:
        name = st.session_state.get("ws_name", "")
        me = _join(store, code, name)
        if me is None:
            if not str(name).strip():
                st.session_state["ws_problem"] = "Enter your name first (1 to 40 characters), then press Submit."
            if st.session_state["ws_problem"] != shown_problem:  # not already shown under the name
                st.error(safe(st.session_state["ws_problem"]))
            return
    try:
        with st.spinner("Simulating your habits…"):  # in the server's queue, under its budget
            rooms.submit(store, code, me.token, habits, guess, run=workshop_run)
    except RoomError as exc:
        st.error(safe(exc))
        return
    except (RunCancelled, Busy) as exc:  # recorded, not simulated: the status says why, not "being simulated"
        st.session_state["ws_not_simulated"] = str(exc)
        return
    st.session_state.pop("ws_problem", None)
    st.session_state.pop("ws_not_simulated", None)


@st.fragment(run_every=REFRESH_SECONDS)
def _status(store: Any, code: str) -> None:
    """Your last submission and, when allowed, its result; reruns the page when the round moves on."""
    from coach.workshop.exercise import METRICS, metric_value
    from coach.workshop.rooms import coach_answer, round_of, scenario_key
    from coach.workshop.store import RoomError

    try:
        room = store.room(code)
    except RoomError as exc:
        st.error(safe(exc))
        return
    if st.session_state.get("ws_round_seen") != (room.round_index, room.round_open):
        st.rerun(scope="app")  # the facilitator opened, closed or moved the round: redraw the sliders
    me = _me(store, code)
    if me is None:
        st.caption("Enter your name, set the habits and press Submit.")
        return
    mine = [s for s in store.latest_submissions(code, room.round_index) if s.participant_id == me.id]
    if not mine:
        st.caption(f"Joined as {safe(me.name)}. Nothing submitted in this round yet.")
        return
    last = mine[0]
    round_, base = round_of(room)
    st.success(
        f"Submitted at {clock(last.submitted_at)}. You may resubmit until the round closes; the last one counts."
    )
    if round_.reveal == "predict_then_reveal" and not room.revealed:
        st.info("Your prediction is hidden until the facilitator reveals the results.")
        return
    data = store.get_result(last.result_key)
    if data is None:
        problem = st.session_state.get("ws_not_simulated")
        if problem:
            st.warning(problem + " Press Submit to try again; the last submission counts.")
        else:
            st.caption("Your prediction is being simulated…")
        return
    summary = data["summary"]
    value = metric_value(summary, round_.metric)
    lo, hi = metric_value(summary, round_.metric, "p10"), metric_value(summary, round_.metric, "p90")
    unit = " %" if round_.metric == "net_percent" else ""
    st.metric(METRICS[round_.metric].capitalize(), f"{value:+,.1f}{unit}" if unit else f"{value:+,.0f}")
    st.caption(
        f"80% of runs between {lo:+,.1f}{unit} and {hi:+,.1f}{unit}; {summary['minutes_per_day']:g} minutes a day."
    )
    reference = store.get_result(scenario_key(base))  # the persona as it is, once the facilitator's page ran it
    if reference is not None:
        st.caption(
            f"The persona as it is: {metric_value(reference['summary'], round_.metric):+,.1f}{unit} (same seeds)."
        )
    top = sorted(REASONS, key=lambda r: -summary["unfollows_by_reason"][r]["median"])[:2]
    st.caption(
        "Most people who left: "
        + "; ".join(f"{REASON_WORDS[r]} ({summary['unfollows_by_reason'][r]['median']:,.0f})" for r in top)
    )
    if room.coach_revealed:
        from app.guard import workshop_coach_run
        from coach.engine import RunCancelled
        from coach.workqueue import Busy

        try:  # stored by the facilitator's page by now; computed here only on another server
            answer = coach_answer(store, room, workshop_coach_run)
        except (RunCancelled, Busy) as exc:
            st.warning(str(exc))
            return
        st.text("The coach's answer: " + (" ".join(answer["text"]) or answer["message"]))
