"""The facilitator's page (``/?room=CODE&host=KEY``), made for a projector at 1280×720.

Above the fold: one line of title and counts, the round's buttons, then the class's curves
over the persona's baseline beside the leaderboard (or, before anyone has submitted, the
join code and QR code in large). Below: habits against outcome, why people left, the
discussion prompts, links and exports. The dashboard is a fragment that re-reads the
database every few seconds; it never simulates a submission (participants' pages do that,
once per scenario), only the persona's baseline and, on request, the coach's answer.
"""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import urlencode, urlsplit

import pandas as pd
import streamlit as st

from app.room import REFRESH_SECONDS, habit_text
from app.state import HABIT_LABELS, engine_ready
from app.text import safe
from coach import REASONS

PROJECTOR_CSS = """
<style>
/* Projector: just clear of Streamlit's toolbar, so the main chart sits above the fold at 1280x720. */
.block-container {padding-top: 3.2rem; padding-bottom: 1rem; max-width: 100%;}
[data-testid="stMetricValue"] {font-size: 2rem;}
</style>
"""


def _origin() -> str:
    """This app's address as the facilitator's browser sees it (the default for join links)."""
    try:
        parts = urlsplit(st.context.url or "")
        if parts.scheme and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
    except Exception:  # older Streamlit without st.context.url
        pass
    return "http://localhost:8501"


def qr_png(text: str, scale: int = 8) -> bytes:
    """A QR code as PNG bytes (segno writes PNG without Pillow)."""
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def facilitator_page(store: Any, code: str, key: str) -> None:
    st.set_page_config(
        page_title=f"Room {code} · facilitator", page_icon="📈", layout="wide", initial_sidebar_state="collapsed"
    )
    st.html(PROJECTOR_CSS)
    engine_ready()
    dashboard(store, code, key)


def _do(action: Any) -> None:
    """Run a host action; show its message instead of a traceback."""
    from coach.workshop.store import RoomError

    try:
        action()
    except RoomError as exc:
        st.session_state["ws_host_problem"] = str(exc)


@st.fragment(run_every=REFRESH_SECONDS)
def dashboard(store: Any, code: str, key: str) -> None:
    from app.guard import workshop_coach_run, workshop_run
    from coach.engine import RunCancelled
    from coach.workqueue import Busy
    from coach.workshop import rooms
    from coach.workshop.exercise import METRICS
    from coach.workshop.store import RoomError

    try:
        room = store.room(code)
    except RoomError as exc:
        st.error(safe(exc))
        return
    header = st.container()  # filled after the buttons, so it shows the state they leave
    round_, _ = rooms.round_of(room)
    _controls(store, room, key, round_.reveal == "predict_then_reveal" and not room.revealed)
    if st.session_state.get("ws_host_problem"):
        st.error(safe(st.session_state.pop("ws_host_problem")))
    try:
        room = store.room(code)
    except RoomError as exc:
        st.error(safe(exc))
        return
    exercise = rooms.room_exercise(room.exercise_yaml)
    round_, _ = rooms.round_of(room)
    joined, submitted = store.counts(room.code, room.round_index)
    subs = store.latest_submissions(room.code, room.round_index)
    results = store.get_results([s.result_key for s in subs])
    try:  # in the server's queue, under its budget (app/guard.py); stored once computed
        baseline = rooms.baseline(store, room, workshop_run)
    except (RunCancelled, Busy) as exc:
        st.warning(str(exc))
        return
    rows = rooms.leaderboard_rows(round_, subs, results)
    hidden = round_.reveal == "predict_then_reveal" and not room.revealed
    if not room.round_open and not room.coach_revealed:
        rooms.prepare_coach_answer(store, room, workshop_coach_run)  # the class discusses while the coach searches
    coach = None
    if room.coach_revealed:
        try:
            coach = rooms.coach_answer(store, room, workshop_coach_run)
        except (RunCancelled, Busy) as exc:
            st.warning(str(exc))
    coach_result = store.get_result(coach["result_key"]) if coach else None

    state = "closed room" if room.closed else ("open" if room.round_open else "closed")
    with header:
        head, counts = st.columns([5, 3], vertical_alignment="center")
        head.markdown(f"#### Round {room.round_index + 1} of {room.rounds}: {safe(round_.title)}")
        head.caption(f"Room {room.code} · {safe(exercise.title)} · round {state} · goal: {METRICS[round_.metric]}")
        c1, c2, c3 = counts.columns(3)
        c1.metric("Joined", joined)
        c2.metric("Submitted", submitted)
        c3.metric("Simulated", len(rows))

    join_url = f"{st.session_state.get('ws_app_url') or _origin()}/?{urlencode({'room': room.code})}"
    if not subs or st.session_state.get("ws_show_join"):  # before anyone submits: the join code, large
        _join_panel(room.code, join_url, large=True)
    left, right = st.columns([9, 11])
    with left:
        if subs and not st.session_state.get("ws_show_join"):
            entries = [] if hidden else [(r["name"], results[r["result_key"]]["curve"]) for r in rows]
            chart = _curves(baseline, entries, coach_result)
            st.altair_chart(chart, width="stretch", key="ws_curves")
            if hidden:
                st.caption(f"{len(subs)} submissions are hidden until you press “Reveal results”.")
    with right:
        _leaderboard(round_, rows, subs, hidden)
        if coach:
            st.text("Coach's answer: " + (" ".join(coach["text"]) or coach["message"]))
            habits = ", ".join(f"{HABIT_LABELS.get(h, h)} {habit_text(h, v)}" for h, v in coach["habits"].items())
            st.caption(habits)

    if rows and not hidden:
        lower_left, lower_right = st.columns(2)
        with lower_left:
            habit = st.selectbox(
                "Habit on the x axis",
                round_.habits,
                format_func=lambda h: HABIT_LABELS.get(h, h),
                key=f"ws_x_{room.round_index}",
            )
            st.altair_chart(_scatter(rows, habit, METRICS[round_.metric]), width="stretch", key="ws_scatter")
        with lower_right:
            st.altair_chart(_reasons(rows, baseline), width="stretch", key="ws_reasons")
    if round_.prompts:
        with st.container(border=True):
            st.markdown("**Ask the room**")
            for prompt in round_.prompts:
                st.text("• " + prompt)
    with st.expander("Join link, QR code and exports"):
        st.text_input(
            "Address participants use",
            value=_origin(),
            key="ws_app_url",
            help="Phones cannot open localhost: start the app with --server.address 0.0.0.0 and give this "
            "machine's network address, e.g. http://192.168.1.20:8501",
        )
        st.checkbox("Show the join code instead of the chart", key="ws_show_join")
        _join_panel(room.code, join_url, large=False)
        _exports(store, room.code, round_, baseline, rows, results, coach_result, hidden)
        _room_controls(store, room, key)


def _controls(store: Any, room: Any, key: str, hidden: bool) -> None:
    """The round's buttons. Callbacks change the room before the fragment redraws, so the
    page shows the new state at once; the store checks the host key again for each."""
    code = room.code
    b1, b2, b3, b4 = st.columns(4)
    if room.round_open:
        b1.button(
            "Close round", key="ws_close_round", width="stretch",
            on_click=_do, args=(lambda: store.host_update(code, key, round_open=False),),
        )  # fmt: skip
    else:
        b1.button(
            "Reopen round", key="ws_open_round", width="stretch", disabled=room.closed,
            on_click=_do, args=(lambda: store.host_update(code, key, round_open=True),),
        )  # fmt: skip
    b2.button(
        "Reveal results", key="ws_reveal", width="stretch", disabled=not hidden,
        on_click=_do, args=(lambda: store.host_update(code, key, revealed=True),),
    )  # fmt: skip
    if b3.button("Reveal the coach's answer", key="ws_coach", width="stretch", disabled=room.coach_revealed):
        from app.guard import workshop_coach_run
        from coach.engine import RunCancelled
        from coach.workqueue import Busy
        from coach.workshop.rooms import coach_answer

        try:
            with st.spinner("The coach is searching within the round's budget (this can take a minute)…"):
                coach_answer(store, room, workshop_coach_run)
        except (RunCancelled, Busy) as exc:  # not revealed: the button stays, with the reason
            st.session_state["ws_host_problem"] = str(exc)
        else:
            _do(lambda: store.host_update(code, key, coach_revealed=True, revealed=True))
    last = room.round_index + 1 >= room.rounds
    b4.button(
        "Next round", key="ws_next", width="stretch", disabled=last or room.closed,
        on_click=_do, args=(lambda: store.next_round(code, key),),
    )  # fmt: skip


def _room_controls(store: Any, room: Any, key: str) -> None:
    """Closing and deleting the room, out of the way of the round's buttons."""
    c1, c2 = st.columns(2)
    c1.button(
        "Close the room", key="ws_close_room", disabled=room.closed, help="No more joins or submissions; results stay.",
        on_click=_do, args=(lambda: store.close(room.code, key),),
    )  # fmt: skip
    sure = c2.checkbox("Yes, delete this room and every submission", key="ws_delete_sure")
    if c2.button("Delete the room", key="ws_delete", disabled=not sure):
        _do(lambda: store.delete(room.code, key))
        st.rerun(scope="app")  # the room is gone: the page says so


def _join_panel(code: str, join_url: str, large: bool) -> None:
    text_col, qr_col = st.columns([3, 2] if large else [3, 1], vertical_alignment="center")
    with text_col:
        if large:
            st.markdown(f"# Join room {code}")
        else:
            st.markdown(f"**Join room {code}**")
        st.text(join_url)
        st.caption("Open the link (or scan the code), type your name, set the habits, press Submit.")
    qr_col.image(qr_png(join_url), width=320 if large else 140)


def _curves(baseline: dict[str, Any], entries: list[tuple[str, dict[str, Any]]], coach: dict[str, Any] | None) -> Any:
    from coach.workshop.charts import curves_chart

    return curves_chart(baseline["curve"], entries, coach["curve"] if coach else None)


def _scatter(rows: list[dict[str, Any]], habit: str, metric_label: str) -> Any:
    from coach.workshop.charts import scatter_chart

    return scatter_chart(rows, habit, HABIT_LABELS.get(habit, habit), metric_label)


def _reasons(rows: list[dict[str, Any]], baseline: dict[str, Any]) -> Any:
    from coach.workshop.charts import reasons_chart

    return reasons_chart(rows, baseline)


SHORT_REASONS = {
    "fatigue": "too many posts",
    "content": "content",
    "ignored": "unanswered",
    "neglect": "quiet",
    "churn": "churn",
}
METRIC_COLUMNS = {"net": "net change", "net_percent": "net %", "followers_end": "followers", "unfollows": "unfollows"}


def leaderboard_frame(round_: Any, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The leaderboard as a table: names are cells (text); the round's metric with its 80% interval.

    Few, short columns, so that the table fits half a 1280-pixel projector without cut labels.
    """
    percent = round_.metric == "net_percent"
    fmt = (lambda v: f"{v:+.1f}%") if percent else (lambda v: f"{v:,.0f}" if round_.metric != "net" else f"{v:+,.0f}")
    guesses = any(r["guess"] is not None for r in rows)
    records = []
    for r in rows:
        top = max(REASONS, key=lambda k: r["reasons"][k])
        record = {
            "#": r["rank"],
            "name": r["name"],
            f"{METRIC_COLUMNS[round_.metric]} (80% of runs)": f"{fmt(r['score'])} ({fmt(r['score_p10'])} to {fmt(r['score_p90'])})",
            "left mostly for": SHORT_REASONS[top],
            "min/day": f"{r['minutes_per_day']:.0f}" + ("" if r["within_budget"] else " over"),
        }
        if guesses:
            record["guess"] = "" if r["guess"] is None else fmt(r["guess"])
        records.append(record)
    return pd.DataFrame(records)


def _leaderboard(round_: Any, rows: list[dict[str, Any]], subs: list[Any], hidden: bool) -> None:
    if hidden:
        st.markdown("**Submitted so far**")
        st.dataframe(pd.DataFrame({"name": [s.name for s in subs]}), hide_index=True, width="stretch", height=300)
        return
    st.markdown("**Leaderboard** · median (80% of runs)")
    if not rows:
        st.caption("No results yet: they appear here as participants submit.")
        return
    st.dataframe(
        leaderboard_frame(round_, rows),
        hide_index=True,
        width="stretch",
        height=310,
        column_config={
            "#": st.column_config.NumberColumn(width=36),
            "name": st.column_config.TextColumn(width="medium"),
        },
    )


def _exports(
    store: Any,
    code: str,
    round_: Any,
    baseline: dict[str, Any],
    rows: list[dict[str, Any]],
    results: dict[str, Any],
    coach: dict[str, Any] | None,
    hidden: bool,
) -> None:
    from coach.plots import chart_png
    from coach.workshop.rooms import export, export_csv

    c1, c2, c3, c4 = st.columns(4)
    c1.download_button(
        "Results (CSV)", data=lambda: export_csv(export(store, code)), file_name=f"room-{code}.csv",
        mime="text/csv", key="ws_csv", on_click="ignore",
    )  # fmt: skip
    c2.download_button(
        "Results (JSON)", data=lambda: json.dumps(export(store, code), indent=2), file_name=f"room-{code}.json",
        mime="application/json", key="ws_json", on_click="ignore",
    )  # fmt: skip
    if rows and not hidden:
        entries = [(r["name"], results[r["result_key"]]["curve"]) for r in rows]
        c3.download_button(
            "Curves (PNG)", data=lambda: chart_png(_curves(baseline, entries, coach)),
            file_name=f"room-{code}-curves.png", mime="image/png", key="ws_png_curves", on_click="ignore",
        )  # fmt: skip
        c4.download_button(
            "Why people left (PNG)", data=lambda: chart_png(_reasons(rows, baseline)),
            file_name=f"room-{code}-reasons.png", mime="image/png", key="ws_png_reasons", on_click="ignore",
        )  # fmt: skip


# --------------------------------------------------------------------------------------
# Opening a room from the ordinary page
# --------------------------------------------------------------------------------------


def _on_open_room() -> None:
    from app.room import get_store
    from coach.cli.workshop import open_room
    from coach.scenario import ScenarioError
    from coach.workshop.store import RoomError

    ss = st.session_state
    try:
        room, key = open_room(get_store(), ss["ws_exercise"])
    except (RoomError, ScenarioError) as exc:
        ss["ws_open_problem"] = str(exc)
        return
    ss["ws_opened"] = (room.code, key)
    ss.pop("ws_open_problem", None)


def workshop_opener() -> None:
    """A sidebar expander: open a room for a bundled exercise and get its two links."""
    from coach.workshop.exercise import bundled_exercises

    ss = st.session_state
    with st.expander("Run a workshop"):
        names = list(bundled_exercises())
        if not names:
            st.caption("No bundled workshop exercises were found.")
            return
        st.selectbox("Exercise", names, key="ws_exercise", help="A bundled workshop (`coach workshop list`).")
        st.button("Open a room", key="ws_open", on_click=_on_open_room, width="stretch")
        if ss.get("ws_open_problem"):
            st.error(ss["ws_open_problem"])
        if ss.get("ws_opened"):
            code, key = ss["ws_opened"]
            origin = _origin()
            st.markdown(f"**Room {code}**")
            st.link_button("Open the facilitator page", f"{origin}/?{urlencode({'room': code, 'host': key})}")
            st.caption("Keep the facilitator link to yourself: its key reveals, closes and deletes the room.")
            st.text(f"Join link: {origin}/?{urlencode({'room': code})}")
