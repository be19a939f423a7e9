"""Rooms, participants and submissions: every read and write the pages and the command line make.

The tables and the engine are in :mod:`coach.workshop.db`. Only the ORM and bound parameters
touch the database (no SQL is built from text). The host key is stored as its SHA-256
digest and compared in constant time. Names are stored verbatim; it is the pages' job to
show them as text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from coach.workshop.db import (
    MAX_NAME_CHARS,
    SCHEMA_VERSION,
    ParticipantRow,
    ResultRow,
    RoomError,
    RoomRow,
    SubmissionRow,
    _engines,
    data_dir,
    database_url,
    get_engine,
)

MAX_PARTICIPANTS = 200  # per room: a big lecture hall
SUBMISSIONS_PER_MINUTE = 6  # per participant: enough to explore, too few to hammer the server
ROOM_DAYS = 7  # a room expires this many days after it was opened
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed on phones
CODE_LENGTH = 6  # 32^6 ≈ 10^9 codes
SECONDS_PER_DAY = 86_400


class NotHost(RoomError):
    """The action needs the facilitator's key."""


# --------------------------------------------------------------------------------------
# Views handed to pages and the command line (plain data, detached from sessions)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Room:
    code: str
    exercise_name: str
    exercise_yaml: str
    scenarios: tuple[str, ...]  # scenario JSON, one per round
    round_index: int
    round_open: bool
    revealed: bool
    coach_revealed: bool
    closed: bool
    created_at: float
    expires_at: float

    @property
    def rounds(self) -> int:
        return len(self.scenarios)


@dataclass(frozen=True)
class Participant:
    id: int
    name: str
    token: str
    joined_at: float


@dataclass(frozen=True)
class Submission:
    name: str
    participant_id: int
    round_index: int
    habits: dict[str, Any]
    guess: float | None
    result_key: str
    submitted_at: float


def _room(row: RoomRow) -> Room:
    return Room(
        code=row.code,
        exercise_name=row.exercise_name,
        exercise_yaml=row.exercise_yaml,
        scenarios=tuple(json.loads(row.scenarios_json)),
        round_index=row.round_index,
        round_open=row.round_open,
        revealed=row.revealed,
        coach_revealed=row.coach_revealed,
        closed=row.closed,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def normalise_code(code: str) -> str:
    """Room codes are typed on phones: any case, spaces and dashes ignored."""
    return "".join(ch for ch in str(code).upper() if ch.isalnum())


def check_name(name: str) -> str:
    """The name as stored (verbatim but for outer spaces), or a RoomError saying what is allowed."""
    name = str(name).strip()
    if not name:
        raise RoomError("Enter your name (1 to 40 characters) so the facilitator can tell the submissions apart.")
    if len(name) > MAX_NAME_CHARS:
        raise RoomError(f"Your name has {len(name)} characters; allowed: at most {MAX_NAME_CHARS}. Try a shorter one.")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        raise RoomError(
            "Your name contains a line break or an invisible control character; allowed: visible text only."
        )
    return name


# --------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------


class Store:
    """Every read and write of rooms, participants, submissions and cached results."""

    def __init__(self, url: str | None = None, *, clock: Any = time.time) -> None:
        self.url = database_url(url)
        self.engine = get_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.clock = clock  # seconds since the epoch; tests pass a fake clock for expiry and rate limits

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    # ---- rooms --------------------------------------------------------------------

    def open_room(self, exercise_name: str, exercise_yaml: str, scenarios: list[str]) -> tuple[Room, str]:
        """A new room on round 1 (open), and its host key (shown once, stored only as a digest)."""
        if not scenarios:
            raise ValueError("a room needs at least one round")
        self.purge_expired()  # expired rooms are deleted when a new one opens, not by a daemon
        now = self.clock()
        host_key = secrets.token_urlsafe(16)
        for _ in range(20):  # a clash among 10^9 codes is rare; try again rather than fail
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            row = RoomRow(
                code=code,
                host_key_sha256=_digest(host_key),
                exercise_name=exercise_name,
                exercise_yaml=exercise_yaml,
                scenarios_json=json.dumps(scenarios),
                round_index=0,
                round_open=True,
                revealed=False,
                coach_revealed=False,
                closed=False,
                created_at=now,
                expires_at=now + ROOM_DAYS * SECONDS_PER_DAY,
            )
            try:
                with self._session() as session:
                    session.add(row)
                return _room(row), host_key
            except IntegrityError:
                continue
        raise RoomError("could not find a free room code; try again")

    def room(self, code: str) -> Room:
        """The room, or a RoomError a participant can act on."""
        code = normalise_code(code)
        with self._session() as session:
            row = session.get(RoomRow, code)
            if row is None:
                raise RoomError(f"There is no room {code or '(empty)'}. Check the code on the projector.")
            room = _room(row)
        if room.expires_at <= self.clock():
            raise RoomError(
                f"Room {code} has expired (rooms last {ROOM_DAYS} days). Ask the facilitator for a new one."
            )
        return room

    def is_host(self, code: str, key: str | None) -> bool:
        """Whether ``key`` is the room's host key (constant-time comparison of digests)."""
        if not key:
            return False
        with self._session() as session:
            row = session.get(RoomRow, normalise_code(code))
            stored = row.host_key_sha256 if row is not None else _digest(secrets.token_urlsafe(16))
        return hmac.compare_digest(stored, _digest(key))

    def _host_row(self, session: Session, code: str, key: str | None) -> RoomRow:
        code = normalise_code(code)
        row = session.get(RoomRow, code)
        if row is None:
            raise RoomError(f"There is no room {code}.")
        if not key or not hmac.compare_digest(row.host_key_sha256, _digest(key)):
            raise NotHost(f"Only the facilitator's key can do that in room {code}; this key is not it.")
        return row

    def host_update(self, code: str, key: str | None, **changes: Any) -> Room:
        """Change the room's state (round_open, revealed, coach_revealed, closed) with the host key."""
        allowed = {"round_open", "revealed", "coach_revealed", "closed"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"cannot change {sorted(unknown)}; allowed: {sorted(allowed)}")
        with self._session() as session:
            row = self._host_row(session, code, key)
            for name, value in changes.items():
                setattr(row, name, bool(value))
            return _room(row)

    def close(self, code: str, key: str | None) -> Room:
        """Close the room: no more joins or submissions; results stay readable."""
        return self.host_update(code, key, closed=True, round_open=False)

    def next_round(self, code: str, key: str | None) -> Room:
        """Move to the next round (open, nothing revealed)."""
        with self._session() as session:
            row = self._host_row(session, code, key)
            rounds = len(json.loads(row.scenarios_json))
            if row.round_index + 1 >= rounds:
                raise RoomError(f"Round {row.round_index + 1} is the last of {rounds}.")
            row.round_index += 1
            row.round_open, row.revealed, row.coach_revealed = True, False, False
            return _room(row)

    def delete(self, code: str, key: str | None) -> None:
        """Delete the room with its participants and submissions."""
        with self._session() as session:
            row = self._host_row(session, code, key)
            self._delete_rows(session, [row.code])

    @staticmethod
    def _delete_rows(session: Session, codes: list[str]) -> None:
        # Explicit deletes: SQLite enforces ON DELETE CASCADE only with foreign_keys on,
        # and other databases may have been created without it.
        ids = select(ParticipantRow.id).where(ParticipantRow.room_code.in_(codes))
        session.execute(delete(SubmissionRow).where(SubmissionRow.participant_id.in_(ids)))
        session.execute(delete(ParticipantRow).where(ParticipantRow.room_code.in_(codes)))
        session.execute(delete(RoomRow).where(RoomRow.code.in_(codes)))

    def purge_expired(self) -> int:
        """Delete expired rooms; returns how many."""
        with self._session() as session:
            codes = list(session.execute(select(RoomRow.code).where(RoomRow.expires_at <= self.clock())).scalars())
            if codes:
                self._delete_rows(session, codes)
        return len(codes)

    # ---- participants ---------------------------------------------------------------

    def join(self, code: str, name: str, token: str | None = None) -> Participant:
        """Join a room under a name; a taken name, a full or closed room is refused with a message.

        ``token`` is the browser's own (made before it first asks): joining again with it returns
        the participant it already made, so a join repeated by a rerun or a lost reply is not
        refused as a taken name.
        """
        name = check_name(name)
        room = self.room(code)
        if room.closed:
            raise RoomError(f"Room {room.code} is closed; it takes no new participants.")
        with self._session() as session:
            if token:
                mine = session.scalar(
                    select(ParticipantRow).where(ParticipantRow.room_code == room.code, ParticipantRow.token == token)
                )
                if mine is not None:
                    return Participant(mine.id, mine.name, mine.token, mine.joined_at)
            count = session.scalar(select(func.count()).where(ParticipantRow.room_code == room.code)) or 0
            if count >= MAX_PARTICIPANTS:
                raise RoomError(f"Room {room.code} is full ({MAX_PARTICIPANTS} participants). Ask the facilitator.")
            taken = session.scalar(
                select(ParticipantRow.id).where(ParticipantRow.room_code == room.code, ParticipantRow.name == name)
            )
            if taken is not None:
                raise RoomError(f"Someone in this room is already called “{name}”. Add an initial or a nickname.")
            row = ParticipantRow(
                room_code=room.code, name=name, token=token or secrets.token_urlsafe(16), joined_at=self.clock()
            )
            session.add(row)
            session.flush()
            return Participant(row.id, row.name, row.token, row.joined_at)

    def participant(self, code: str, token: str | None) -> Participant | None:
        if not token:
            return None
        with self._session() as session:
            row = session.scalar(
                select(ParticipantRow).where(
                    ParticipantRow.room_code == normalise_code(code), ParticipantRow.token == token
                )
            )
            return Participant(row.id, row.name, row.token, row.joined_at) if row else None

    def participants(self, code: str) -> list[Participant]:
        with self._session() as session:
            rows = session.scalars(
                select(ParticipantRow)
                .where(ParticipantRow.room_code == normalise_code(code))
                .order_by(ParticipantRow.id)
            )
            return [Participant(r.id, r.name, r.token, r.joined_at) for r in rows]

    # ---- submissions ----------------------------------------------------------------

    def submit(
        self, code: str, token: str, habits: dict[str, Any], result_key: str, guess: float | None = None
    ) -> Submission:
        """Record a submission for the current round (the last one counts)."""
        room = self.room(code)
        if room.closed:
            raise RoomError(f"Room {room.code} is closed; submissions are no longer taken.")
        if not room.round_open:
            raise RoomError("This round is closed: your last submission counts. Wait for the next round.")
        now = self.clock()
        with self._session() as session:
            person = session.scalar(
                select(ParticipantRow).where(ParticipantRow.room_code == room.code, ParticipantRow.token == token)
            )
            if person is None:
                raise RoomError("You have not joined this room yet: enter your name first.")
            recent = (
                session.scalar(
                    select(func.count()).where(
                        SubmissionRow.participant_id == person.id, SubmissionRow.submitted_at > now - 60
                    )
                )
                or 0
            )
            if recent >= SUBMISSIONS_PER_MINUTE:
                raise RoomError(
                    f"That is {SUBMISSIONS_PER_MINUTE} submissions in the last minute, the most allowed. "
                    "Your last one counts; wait a few seconds and submit again."
                )
            row = SubmissionRow(
                participant_id=person.id,
                room_code=room.code,
                round_index=room.round_index,
                habits_json=json.dumps(habits, sort_keys=True),
                guess=guess,
                result_key=result_key,
                submitted_at=now,
            )
            session.add(row)
            return Submission(person.name, person.id, row.round_index, habits, guess, result_key, now)

    def latest_submissions(self, code: str, round_index: int | None = None) -> list[Submission]:
        """Each participant's last submission in a round (default: the current one), in joining order."""
        code = normalise_code(code)
        with self._session() as session:
            if round_index is None:
                round_index = session.scalar(select(RoomRow.round_index).where(RoomRow.code == code)) or 0
            last = (
                select(SubmissionRow.participant_id, func.max(SubmissionRow.id).label("last_id"))
                .where(SubmissionRow.room_code == code, SubmissionRow.round_index == round_index)
                .group_by(SubmissionRow.participant_id)
                .subquery()
            )
            rows = session.execute(
                select(SubmissionRow, ParticipantRow.name)
                .join(last, SubmissionRow.id == last.c.last_id)
                .join(ParticipantRow, ParticipantRow.id == SubmissionRow.participant_id)
                .order_by(ParticipantRow.id)
            ).all()
            return [
                Submission(
                    name,
                    s.participant_id,
                    s.round_index,
                    json.loads(s.habits_json),
                    s.guess,
                    s.result_key,
                    s.submitted_at,
                )
                for s, name in rows
            ]

    def counts(self, code: str, round_index: int) -> tuple[int, int]:
        """(joined, submitted in this round)."""
        code = normalise_code(code)
        with self._session() as session:
            joined = session.scalar(select(func.count()).where(ParticipantRow.room_code == code)) or 0
            submitted = (
                session.scalar(
                    select(func.count(func.distinct(SubmissionRow.participant_id))).where(
                        SubmissionRow.room_code == code, SubmissionRow.round_index == round_index
                    )
                )
                or 0
            )
            return joined, submitted

    # ---- cached results ---------------------------------------------------------------

    def get_result(self, key: str) -> dict[str, Any] | None:
        with self._session() as session:
            row = session.get(ResultRow, key)
            return json.loads(row.data_json) if row else None

    def get_results(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        if not keys:
            return {}
        with self._session() as session:
            rows = session.scalars(select(ResultRow).where(ResultRow.key.in_(set(keys))))
            return {r.key: json.loads(r.data_json) for r in rows}

    def put_result(self, key: str, data: dict[str, Any]) -> None:
        """Store a result once; a second writer of the same key (same scenario) is a no-op."""
        try:
            with self._session() as session:
                if session.get(ResultRow, key) is None:
                    session.add(ResultRow(key=key, data_json=json.dumps(data), created_at=self.clock()))
        except IntegrityError:
            pass  # another process stored the same scenario's result first: identical data


__all__ = [
    "MAX_NAME_CHARS",
    "SCHEMA_VERSION",
    "NotHost",
    "Participant",
    "Room",
    "RoomError",
    "Store",
    "Submission",
    "_engines",
    "data_dir",
    "database_url",
    "get_engine",
]
