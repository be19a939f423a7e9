"""Workshop rooms without a browser: the exercise format, the store on a temporary SQLite
file (limits, host key, expiry, persistence across processes, concurrent writers), results
cached by scenario, the leaderboard and the ``coach workshop`` command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from coach.cli import main
from coach.scenario import ScenarioError
from coach.workshop import NotHost, RoomError, Store, bundled_exercises, load_exercise, parse_exercise, rooms
from coach.workshop import store as store_module
from coach.workshop.exercise import round_scenario
from tests.workshop_fixtures import FAST_EXERCISE, write_exercise

ROOT = Path(__file__).resolve().parent.parent


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def tmp_data(tmp_path, monkeypatch):
    """Never the user's data folder: COACH_DATA_DIR and COACH_DB point into tmp_path."""
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COACH_DB", f"sqlite:///{tmp_path / 'data' / 'coach.db'}")
    return tmp_path


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def store(tmp_path, clock):
    return Store(f"sqlite:///{tmp_path / 'rooms.db'}", clock=clock)


@pytest.fixture
def room(store, tmp_path):
    name, exercise, yaml_text = load_exercise(write_exercise(tmp_path))
    scenarios = [round_scenario(r).model_dump_json() for r in exercise.rounds]
    return store.open_room(name, yaml_text, scenarios)


# --------------------------------------------------------------------------------------
# Exercises
# --------------------------------------------------------------------------------------


def test_bundled_kit_is_a_45_minute_workshop_on_the_essays_personas():
    assert "cocktail_party" in bundled_exercises()
    _name, exercise, _ = load_exercise("cocktail_party")
    assert exercise.minutes == 45
    assert sum(r.minutes for r in exercise.rounds) <= exercise.minutes
    personas = [r.persona for r in exercise.rounds]
    assert {"billboard", "over_poster", "scheduled_bot", "news_curator"} <= set(personas)
    for r in exercise.rounds:
        assert r.prompts and r.goal and r.habits
        round_scenario(r)  # every persona loads
    assert {r.reveal for r in exercise.rounds} == {"live", "predict_then_reveal"}


def test_kit_ships_inside_the_package():
    import coach.workshop

    package = Path(coach.workshop.__file__).parent
    assert all(p.is_relative_to(package) for p in bundled_exercises().values())


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("reveal: live", "reveal: sometimes"),
            "rounds[0].reveal: 'sometimes' is not allowed; allowed: 'live' or 'predict_then_reveal'",
        ),
        (("habits: [posts_per_day, reply_rate]", "habits: [posts_per_day, reply_rat]"), "'reply_rat' is not a habit"),
        (("posts_per_day: [1, 8]", "posts_per_day: [8, 1]"), "low < high"),
        (
            ("persona: conversationalist\n    minutes: 5", "persona: nobody\n    minutes: 5"),
            "neither a bundled persona",
        ),
        (("    goal: Grow the account.", "    gaol: Grow the account."), "goal"),
        (("kind: workshop", "kind: sweep"), "kind: workshop"),
    ],
)
def test_bad_exercise_names_the_field_and_what_is_allowed(change, expected):
    old, new = change
    assert old in FAST_EXERCISE
    with pytest.raises(ScenarioError) as info:
        parse_exercise(FAST_EXERCISE.replace(old, new), source="bad.yaml")
    message = "\n".join(info.value.problems)
    assert "bad.yaml" in message and expected in message


# --------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------


def test_sqlite_store_uses_wal_and_records_its_schema_version(store):
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.execute(text("SELECT version FROM schema_version")).scalars().all() == [store_module.SCHEMA_VERSION]


def test_a_newer_schema_is_refused_with_a_clear_message(tmp_path):
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    first = Store(url)
    with first.engine.begin() as conn:
        conn.execute(text("UPDATE schema_version SET version = :v"), {"v": store_module.SCHEMA_VERSION + 1})
    first.engine.dispose()
    store_module._engines.pop(url)
    with pytest.raises(RoomError, match="newer Cadence Coach"):
        Store(url)


def test_default_database_is_coach_db_in_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("COACH_DB")
    assert store_module.database_url() == f"sqlite:///{tmp_path / 'data' / 'coach.db'}"
    monkeypatch.delenv("COACH_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    if sys.platform.startswith("linux"):
        assert store_module.database_url() == f"sqlite:///{tmp_path / 'xdg' / 'cadence-coach' / 'coach.db'}"


def test_a_bad_database_url_is_explained():
    with pytest.raises(RoomError, match="not an SQLAlchemy URL"):
        Store("no such thing")


def test_room_codes_are_short_and_typed_in_any_case(store, room):
    opened, _key = room
    assert len(opened.code) == store_module.CODE_LENGTH
    assert set(opened.code) <= set(store_module.CODE_ALPHABET)
    assert store.room(opened.code.lower()).code == opened.code
    assert store.room(f" {opened.code[:3]}-{opened.code[3:]} ").code == opened.code
    with pytest.raises(RoomError, match="no room"):
        store.room("ZZZZZZ" if opened.code != "ZZZZZZ" else "YYYYYY")


def test_names_are_stored_verbatim(store, room):
    opened, _ = room
    name = "<b>Ana</b> **x** [a](javascript:1) 😀"
    person = store.join(opened.code, name)
    assert store.participant(opened.code, person.token).name == name
    assert [p.name for p in store.participants(opened.code)] == [name]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("", "Enter your name"), ("   ", "Enter your name"), ("x" * 41, "at most 40"), ("a\nb", "line break")],
)
def test_bad_names_get_a_message(store, room, name, expected):
    with pytest.raises(RoomError, match=expected):
        store.join(room[0].code, name)


def test_a_taken_name_and_a_full_room_are_refused(store, room, monkeypatch):
    code = room[0].code
    store.join(code, "Ana")
    with pytest.raises(RoomError, match="already called"):
        store.join(code, "Ana")
    monkeypatch.setattr(store_module, "MAX_PARTICIPANTS", 2)
    store.join(code, "Ben")
    with pytest.raises(RoomError, match="full"):
        store.join(code, "Cy")


def test_a_join_repeated_with_the_browsers_token_returns_the_same_participant(store, room):
    code = room[0].code
    first = store.join(code, "Ana", token="browser-1")
    again = store.join(code, "Ana", token="browser-1")  # a rerun asks twice: the same person, not "taken"
    assert (again.id, again.token) == (first.id, "browser-1")
    with pytest.raises(RoomError, match="already called"):
        store.join(code, "Ana", token="browser-2")  # someone else's browser
    assert [p.name for p in store.participants(code)] == ["Ana"]


def test_resubmitting_keeps_the_last_submission_and_is_rate_limited(store, room, clock):
    code = room[0].code
    person = store.join(code, "Ana")
    for i in range(store_module.SUBMISSIONS_PER_MINUTE):
        store.submit(code, person.token, {"reply_rate": i / 10}, result_key=f"k{i}")
        clock.now += 1
    with pytest.raises(RoomError, match="in the last minute"):
        store.submit(code, person.token, {"reply_rate": 0.9}, result_key="late")
    latest = store.latest_submissions(code)
    assert [s.habits for s in latest] == [{"reply_rate": (store_module.SUBMISSIONS_PER_MINUTE - 1) / 10}]
    clock.now += 61
    store.submit(code, person.token, {"reply_rate": 0.9}, result_key="later")
    assert store.latest_submissions(code)[0].result_key == "later"
    assert store.counts(code, 0) == (1, 1)


def test_only_the_host_key_changes_the_room(store, room):
    opened, key = room
    code = opened.code
    assert store.is_host(code, key)
    for wrong in (None, "", "x", key[:-1], key + "x"):
        assert not store.is_host(code, wrong)
        with pytest.raises(NotHost):
            store.host_update(code, wrong, revealed=True)
        with pytest.raises(NotHost):
            store.next_round(code, wrong)
        with pytest.raises(NotHost):
            store.close(code, wrong)
        with pytest.raises(NotHost):
            store.delete(code, wrong)
    assert store.room(code) == opened  # nothing changed
    assert store.host_update(code, key, revealed=True).revealed


def test_closed_rounds_and_rooms_take_no_submissions(store, room):
    opened, key = room
    person = store.join(opened.code, "Ana")
    store.host_update(opened.code, key, round_open=False)
    with pytest.raises(RoomError, match="round is closed"):
        store.submit(opened.code, person.token, {"reply_rate": 0.5}, result_key="k")
    moved = store.next_round(opened.code, key)
    assert (moved.round_index, moved.round_open, moved.revealed) == (1, True, False)
    with pytest.raises(RoomError, match="last of 2"):
        store.next_round(opened.code, key)
    store.close(opened.code, key)
    with pytest.raises(RoomError, match="closed"):
        store.submit(opened.code, person.token, {"reply_rate": 0.5}, result_key="k")
    with pytest.raises(RoomError, match="closed"):
        store.join(opened.code, "Ben")


def test_rooms_expire_and_are_purged(store, room, clock):
    code = room[0].code
    store.join(code, "Ana")
    clock.now += store_module.ROOM_DAYS * store_module.SECONDS_PER_DAY + 1
    with pytest.raises(RoomError, match="expired"):
        store.room(code)
    assert store.purge_expired() == 1
    with pytest.raises(RoomError, match="no room"):
        store.room(code)


def test_delete_removes_participants_and_submissions(store, room):
    opened, key = room
    person = store.join(opened.code, "Ana")
    store.submit(opened.code, person.token, {"reply_rate": 0.5}, result_key="k")
    store.delete(opened.code, key)
    assert store.participants(opened.code) == []
    assert store.latest_submissions(opened.code, 0) == []


def test_threads_submitting_at_once_are_all_recorded(store, room):
    code = room[0].code
    people = [store.join(code, f"p{i}") for i in range(12)]
    errors = []

    def go(person):
        try:
            store.submit(code, person.token, {"reply_rate": 0.5}, result_key=person.name)
        except Exception as exc:  # collected, then asserted empty
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(s.name for s in store.latest_submissions(code)) == sorted(p.name for p in people)


JOINER = """
import sys
from coach.workshop import Store
store = Store(sys.argv[1])
for i in range(15):
    store.join(sys.argv[2], f"{sys.argv[3]}{i}")
"""


def test_two_processes_writing_at_once_both_succeed(store, room):
    code = room[0].code
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", JOINER, store.url, code, prefix], env=env, stderr=subprocess.PIPE)
        for prefix in ("a", "b")
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    assert len(store.participants(code)) == 30


def test_submissions_survive_a_restart(store, room, tmp_path):
    """Written here, read by a fresh process (a restarted server) through the command line."""
    code = room[0].code
    person = store.join(code, "Ana <i>")
    _submission, data = rooms.submit(store, code, person.token, {"posts_per_day": 2.0, "reply_rate": 0.9})
    out = subprocess.run(
        [sys.executable, "-m", "coach", "workshop", "results", code, "--db", store.url, "--format", "json"],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    exported = json.loads(out.stdout)
    assert exported["room"] == code
    (only,) = exported["submissions"]
    assert only["name"] == "Ana <i>"
    assert only["habits"] == {"posts_per_day": 2.0, "reply_rate": 0.9}
    assert only["summary"] == data["summary"]


# --------------------------------------------------------------------------------------
# Results: simulated once per scenario, paired across participants
# --------------------------------------------------------------------------------------


def test_identical_habits_are_simulated_once(store, room, monkeypatch):
    code = room[0].code
    calls = []
    real = rooms.run_many

    def counting(scenario, *args, **kwargs):
        calls.append(scenario.habits)
        return real(scenario, *args, **kwargs)

    monkeypatch.setattr(rooms, "run_many", counting)
    a, b = store.join(code, "A"), store.join(code, "B")
    first = rooms.submit(store, code, a.token, {"posts_per_day": 3.0, "reply_rate": 0.6})
    second = rooms.submit(store, code, b.token, {"reply_rate": 0.6, "posts_per_day": 3.0})
    assert len(calls) == 1
    assert first[0].result_key == second[0].result_key and first[1] == second[1]
    rooms.baseline(store, store.room(code))
    rooms.baseline(store, store.room(code))
    assert len(calls) == 2


def test_submissions_are_checked_against_the_round(store, room):
    code = room[0].code
    person = store.join(code, "A")
    with pytest.raises(RoomError, match="not link_share"):
        rooms.submit(store, code, person.token, {"link_share": 0.5})
    with pytest.raises(RoomError, match="allowed: 1 to 8"):
        rooms.submit(store, code, person.token, {"posts_per_day": 9.0})
    with pytest.raises(RoomError, match="allowed: 0 to 1"):
        rooms.submit(store, code, person.token, {"reply_rate": "lots"})
    assert store.latest_submissions(code) == []


def test_answering_more_beats_answering_nobody_on_the_same_seeds(store, room):
    """The leaderboard ranks by the round's metric; paired seeds make the direction stable."""
    code = room[0].code
    silent, chatty = store.join(code, "silent"), store.join(code, "chatty")
    rooms.submit(store, code, silent.token, {"posts_per_day": 3.0, "reply_rate": 0.0})
    rooms.submit(store, code, chatty.token, {"posts_per_day": 3.0, "reply_rate": 1.0})
    room_now = store.room(code)
    round_, _ = rooms.round_of(room_now)
    subs = store.latest_submissions(code)
    rows = rooms.leaderboard_rows(round_, subs, store.get_results([s.result_key for s in subs]))
    assert [r["name"] for r in rows] == ["chatty", "silent"]
    assert [r["rank"] for r in rows] == [1, 2]
    assert rows[1]["reasons"]["ignored"] > rows[0]["reasons"]["ignored"]


def test_leaderboard_puts_over_budget_last_and_fewer_unfollows_first():
    from coach.workshop.exercise import parse_exercise
    from coach.workshop.store import Submission

    exercise = parse_exercise(FAST_EXERCISE)
    reasons = {r: {"median": 0, "p10": 0, "p90": 0} for r in ("fatigue", "content", "ignored", "neglect", "churn")}

    def result(net, unfollows, minutes):
        q = lambda v: {"median": v, "p10": v - 1, "p90": v + 1}  # noqa: E731
        summary = {"followers_start": 500, "net": q(net), "unfollows": q(unfollows), "followers_end": q(500 + net),
                   "unfollows_by_reason": reasons, "minutes_per_day": minutes}  # fmt: skip
        return {"summary": summary}

    results = {"a": result(10, 50, 30), "b": result(50, 40, 90), "c": result(30, 30, 20)}
    subs = [Submission(k, i, 0, {}, None, k, float(i)) for i, k in enumerate(results)]
    by_net = rooms.leaderboard_rows(exercise.rounds[0], subs, results)  # budget 60 minutes a day
    assert [r["name"] for r in by_net] == ["c", "a", "b"]
    assert [r["within_budget"] for r in by_net] == [True, True, False]
    by_unfollows = rooms.leaderboard_rows(exercise.rounds[1], subs, results)  # no budget
    assert [r["name"] for r in by_unfollows] == ["c", "b", "a"]


def test_the_coach_answer_stays_within_the_rounds_habits_and_ranges(store, room):
    opened, _ = room
    answer = rooms.coach_answer(store, store.room(opened.code))
    assert set(answer["habits"]) == {"posts_per_day", "reply_rate"}
    assert 1 <= answer["habits"]["posts_per_day"] <= 8
    assert store.get_result(answer["result_key"]) is not None
    assert rooms.coach_answer(store, store.room(opened.code)) == answer  # cached in the database


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def test_cli_open_list_results_close(tmp_path, capsys):
    exercise = write_exercise(tmp_path)
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["workshop", "list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {"name": "cocktail_party"}.items() <= listed[0].items() and listed[0]["rounds"] == 5

    qr = tmp_path / "join.svg"
    assert main(["workshop", "open", str(exercise), "--db", db, "--app-url", "http://10.0.0.5:8501", "--format", "json", "--qr", str(qr)]) == 0  # fmt: skip
    opened = json.loads(capsys.readouterr().out)
    assert set(opened) == {"room", "host_key", "join_url", "host_url"}
    assert opened["join_url"] == f"http://10.0.0.5:8501/?room={opened['room']}"
    assert opened["host_url"] == f"http://10.0.0.5:8501/?room={opened['room']}&host={opened['host_key']}"
    assert qr.read_text().startswith("<?xml")

    assert main(["workshop", "results", opened["room"], "--db", db, "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("room,round,name,submitted_at")
    assert main(["workshop", "close", opened["room"], "--db", db, "--host-key", "wrong"]) == 1
    assert "facilitator's key" in capsys.readouterr().err
    assert main(["workshop", "close", opened["room"], "--db", db, "--host-key", opened["host_key"]]) == 0
    assert Store(db).room(opened["room"]).closed


def test_cli_explains_an_unknown_exercise(capsys):
    assert main(["workshop", "open", "no_such_workshop"]) == 1
    err = capsys.readouterr().err
    assert "no_such_workshop" in err and "cocktail_party" in err and "Traceback" not in err


def test_the_cli_starts_without_sqlalchemy():
    out = subprocess.run(
        [sys.executable, "-c", "import sys, coach.cli; print('sqlalchemy' in sys.modules)"],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "False"


def test_the_facilitator_charts_export_as_png(store, room):
    """The follow-up email's pictures: rendered offline from stored results (no simulation)."""
    from coach.plots import chart_png
    from coach.workshop.charts import curves_chart, reasons_chart, scatter_chart

    code = room[0].code
    for name, rate in (("<b>A</b>", 0.1), ("B", 0.9)):
        person = store.join(code, name)
        rooms.submit(store, code, person.token, {"posts_per_day": 3.0, "reply_rate": rate})
    current = store.room(code)
    round_, _ = rooms.round_of(current)
    subs = store.latest_submissions(code)
    results = store.get_results([s.result_key for s in subs])
    rows = rooms.leaderboard_rows(round_, subs, results)
    baseline = rooms.baseline(store, current)
    charts = [
        curves_chart(baseline["curve"], [(r["name"], results[r["result_key"]]["curve"]) for r in rows]),
        scatter_chart(rows, "reply_rate", "Reply rate", "net change"),
        reasons_chart(rows, baseline),
    ]
    for chart in charts:
        png = chart_png(chart)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    curve_names = {d["who"] for d in charts[0].to_dict()["datasets"].popitem()[1]}
    assert {"<b>A</b>", "B"} <= curve_names  # names travel as data, drawn as text


def test_closing_a_round_lets_the_coach_search_in_the_background(store, room, monkeypatch):
    opened, key = room
    searches = []
    real = rooms.coach_answer
    monkeypatch.setattr(rooms, "coach_answer", lambda s, r, run=None: searches.append(r.code) or real(s, r, run))
    store.host_update(opened.code, key, round_open=False)
    closed = store.room(opened.code)
    assert rooms.prepare_coach_answer(store, closed)
    assert not rooms.prepare_coach_answer(store, closed)  # once per round
    (thread,) = [t for t in threading.enumerate() if t.name == f"coach-{opened.code}"]
    thread.join(timeout=600)
    assert searches == [opened.code]
    answer = real(store, closed)  # now a database read
    assert set(answer["habits"]) == {"posts_per_day", "reply_rate"}
