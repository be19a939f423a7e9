"""``coach workshop open | list | results | close | delete``: workshop rooms from the command line.

SQLAlchemy is imported inside the handler, so that ``coach run`` does not pay for it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from coach.cli.common import EXIT_INVALID, EXIT_OK, UsageError, examples, write_output
from coach.scenario import ScenarioError

DEFAULT_APP_URL = "http://localhost:8501"


def configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    db_help = (
        "SQLAlchemy URL of the store (default: $COACH_DB, else coach.db in $COACH_DATA_DIR or the user's data folder)"
    )

    o = sub.add_parser("open", help="open a room for an exercise; prints the join and facilitator links")
    o.add_argument("exercise", metavar="EXERCISE", help="a workshop YAML (kind: workshop) or a bundled name (see list)")
    o.add_argument("--db", metavar="URL", help=db_help)
    o.add_argument("--app-url", default=DEFAULT_APP_URL, help=f"where the app runs (default: {DEFAULT_APP_URL})")
    o.add_argument("--format", choices=("table", "json"), default="table")
    o.add_argument("--qr", metavar="PATH", help="also write the join link as a QR code (.svg or .png)")

    li = sub.add_parser("list", help="the bundled exercises")
    li.add_argument("--format", choices=("table", "json"), default="table")

    r = sub.add_parser("results", help="a room's submissions with their simulated outcomes")
    r.add_argument("room", metavar="ROOM", help="the room code")
    r.add_argument("--db", metavar="URL", help=db_help)
    r.add_argument("--format", choices=("table", "json", "csv"), default="table")
    r.add_argument("--out", metavar="PATH", help="write to a file instead of stdout")

    for name, text in (
        ("close", "close a room: no more joins or submissions"),
        ("delete", "delete a room and its data"),
    ):
        c = sub.add_parser(name, help=text)
        c.add_argument("room", metavar="ROOM", help="the room code")
        c.add_argument("--host-key", required=True, metavar="KEY", help="the facilitator key printed by open")
        c.add_argument("--db", metavar="URL", help=db_help)
    examples(
        p,
        """  coach workshop list                                the bundled exercises
  coach workshop open cocktail_party --app-url http://192.168.1.20:8501 --qr join.png
                                                     a room: join code, links, a QR code for the slide
  coach workshop results ROOM --format csv --out class.csv
  coach workshop close ROOM --host-key KEY           no more joins or submissions
""",
    )


def handle(args: argparse.Namespace) -> int:
    from coach.workshop.store import RoomError

    try:
        return {"open": _open, "list": _list, "results": _results, "close": _close, "delete": _close}[args.action](args)
    except RoomError as exc:
        print(f"coach workshop {args.action}: {exc}", file=__import__("sys").stderr)
        return EXIT_INVALID


def _store(args: argparse.Namespace) -> Any:
    from coach.workshop.store import Store

    return Store(args.db)


def room_links(app_url: str, code: str, host_key: str) -> tuple[str, str]:
    from urllib.parse import urlencode

    base = app_url.rstrip("/")
    return f"{base}/?{urlencode({'room': code})}", f"{base}/?{urlencode({'room': code, 'host': host_key})}"


def open_room(store: Any, exercise: str) -> tuple[Any, str]:
    """Open a room for a bundled exercise name or an exercise file (shared with the app)."""
    from coach.workshop.exercise import load_exercise, round_scenario

    name, parsed, text = load_exercise(exercise)
    from pathlib import Path

    base_dir = None if name == exercise else Path(exercise).parent
    scenarios = [round_scenario(r, base_dir).model_dump_json() for r in parsed.rounds]
    return store.open_room(name, text, scenarios)


def _open(args: argparse.Namespace) -> int:
    if not args.app_url.startswith(("http://", "https://")):
        raise UsageError(f"--app-url {args.app_url!r}: expected an http:// or https:// address")
    store = _store(args)
    room, key = open_room(store, args.exercise)
    join_url, host_url = room_links(args.app_url, room.code, key)
    if args.qr:
        import segno

        if not args.qr.endswith((".svg", ".png")):
            raise UsageError(f"--qr {args.qr}: allowed: a file name ending .svg or .png")
        segno.make(join_url, error="m").save(args.qr, scale=10, border=2)
    if args.format == "json":
        print(json.dumps({"room": room.code, "host_key": key, "join_url": join_url, "host_url": host_url}))
    else:
        print(f"room        {room.code}  ({room.exercise_name}, {room.rounds} rounds)")
        print(f"join link   {join_url}")
        print(f"facilitator {host_url}")
        print("Keep the facilitator link to yourself: its key reveals, closes and deletes the room.")
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    from coach.workshop.exercise import bundled_exercises, load_exercise

    items = []
    for name in bundled_exercises():
        try:
            _, exercise, _ = load_exercise(name)
        except ScenarioError as exc:
            for problem in exc.problems:
                print(problem, file=__import__("sys").stderr)
            return EXIT_INVALID
        items.append(
            {"name": name, "title": exercise.title, "rounds": len(exercise.rounds), "minutes": exercise.minutes}
        )
    if args.format == "json":
        print(json.dumps(items))
    else:
        for item in items:
            print(f"{item['name']:<20} {item['title']}  ({item['rounds']} rounds, {item['minutes']:g} minutes)")
    return EXIT_OK


def _results(args: argparse.Namespace) -> int:
    from coach.results import fmt_interval
    from coach.workshop.rooms import export, export_csv

    data = export(_store(args), args.room)
    if args.format == "json":
        text = json.dumps(data, indent=2)
    elif args.format == "csv":
        text = export_csv(data)
    else:
        lines = [f"room {data['room']}: {data['title']} ({len(data['submissions'])} submissions)"]
        current = None
        for s in data["submissions"]:
            if s["round"] != current:
                current = s["round"]
                lines += ["", f"round {current}: {s['round_title']}", "  net change: median (10th to 90th percentile)"]
            net = fmt_interval(s["summary"]["net"], signed=True) if s["summary"] else "not simulated yet"
            lines.append(f"  {s['name']:<{40}} {net}")
        text = "\n".join(lines)
    write_output(text, args.out)
    return EXIT_OK


def _close(args: argparse.Namespace) -> int:
    store = _store(args)
    if args.action == "delete":
        store.delete(args.room, args.host_key)
        print(f"room {args.room.upper()} deleted")
    else:
        room = store.close(args.room, args.host_key)
        print(f"room {room.code} closed; its results stay available (coach workshop results {room.code})")
    return EXIT_OK
