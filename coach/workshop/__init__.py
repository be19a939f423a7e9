"""Workshop rooms: a class plays the personas together, the facilitator runs it from a projector.

- :mod:`coach.workshop.exercise` — the exercise YAML (``kind: workshop``) and the bundled kit;
- :mod:`coach.workshop.db` — the tables, the engine for a URL (SQLite WAL by default), the schema version;
- :mod:`coach.workshop.store` — rooms, participants, submissions and cached results;
- :mod:`coach.workshop.rooms` — submissions to scenarios to results, the leaderboard, the coach's answer;
- :mod:`coach.workshop.charts` — the facilitator's charts (Altair; no streamlit).

Import this package only where it is needed: it pulls in SQLAlchemy.
"""

from coach.workshop.exercise import Exercise, Round, bundled_exercises, load_exercise, parse_exercise
from coach.workshop.store import NotHost, Room, RoomError, Store

__all__ = [
    "Exercise",
    "NotHost",
    "Room",
    "RoomError",
    "Round",
    "Store",
    "bundled_exercises",
    "load_exercise",
    "parse_exercise",
]
