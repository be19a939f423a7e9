"""The workshop database: tables, the engine for a URL, and the schema version.

Any SQLAlchemy URL (``COACH_DB`` or ``--db``); by default a SQLite file ``coach.db`` in
``COACH_DATA_DIR`` (default: the user's data directory), created on first use. SQLite runs in
WAL mode (readers never wait for the writer) with a busy timeout, and every transaction
starts ``BEGIN IMMEDIATE``, so that two server processes writing at once queue for the lock
instead of failing with "database is locked" halfway through.

The schema carries a version (table ``schema_version``) so that a later release can migrate
an old file, and so that an older release refuses a newer file with a clear message.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint, create_engine, event, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA_VERSION = 1
MAX_NAME_CHARS = 40  # fits a leaderboard row on a projector


class RoomError(ValueError):
    """Something a participant or facilitator should read: what is wrong and what to do."""


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------


class Base(DeclarativeBase):
    pass


class SchemaVersion(Base):
    __tablename__ = "schema_version"
    version: Mapped[int] = mapped_column(Integer, primary_key=True)


class RoomRow(Base):
    __tablename__ = "rooms"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    host_key_sha256: Mapped[str] = mapped_column(String(64))
    exercise_name: Mapped[str] = mapped_column(String(200))
    exercise_yaml: Mapped[str] = mapped_column(Text)
    scenarios_json: Mapped[str] = mapped_column(Text)  # one scenario per round, as played
    round_index: Mapped[int] = mapped_column(Integer, default=0)
    round_open: Mapped[bool] = mapped_column(Boolean, default=True)
    revealed: Mapped[bool] = mapped_column(Boolean, default=False)
    coach_revealed: Mapped[bool] = mapped_column(Boolean, default=False)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)  # seconds since the epoch, UTC
    expires_at: Mapped[float] = mapped_column(Float)


class ParticipantRow(Base):
    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("room_code", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_code: Mapped[str] = mapped_column(ForeignKey("rooms.code", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME_CHARS * 4))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    joined_at: Mapped[float] = mapped_column(Float)


class SubmissionRow(Base):
    __tablename__ = "submissions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    room_code: Mapped[str] = mapped_column(ForeignKey("rooms.code", ondelete="CASCADE"), index=True)
    round_index: Mapped[int] = mapped_column(Integer)
    habits_json: Mapped[str] = mapped_column(Text)
    guess: Mapped[float | None] = mapped_column(Float, nullable=True)
    result_key: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[float] = mapped_column(Float)


class ResultRow(Base):
    """A simulated ensemble's summary and followers curve, by scenario hash (computed once)."""

    __tablename__ = "results"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    data_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)


# --------------------------------------------------------------------------------------
# Engine
# --------------------------------------------------------------------------------------


def data_dir() -> Path:
    """``COACH_DATA_DIR``, else the user's data directory (XDG on Linux)."""
    if os.environ.get("COACH_DATA_DIR"):
        return Path(os.environ["COACH_DATA_DIR"]).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local")) / "cadence-coach"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "cadence-coach"
    return Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "cadence-coach"


def database_url(url: str | None = None) -> str:
    """The URL given, else ``COACH_DB``, else ``sqlite:///<data dir>/coach.db``."""
    url = url or os.environ.get("COACH_DB")
    if url:
        return url
    return f"sqlite:///{data_dir() / 'coach.db'}"


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL in this process (thread-safe), with the schema created and checked."""
    url = database_url(url)
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = _create(url)
        return engine


def _create(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise RoomError(
            f"database URL {url!r} is not an SQLAlchemy URL; allowed e.g. sqlite:///path/coach.db "
            "or postgresql://user@host/dbname"
        ) from None
    sqlite = parsed.get_backend_name() == "sqlite"
    options: dict[str, Any] = {}
    if sqlite:
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            try:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RoomError(f"cannot create the folder for the database {database}: {exc.strerror}") from None
        # Streamlit serves every session from its own thread; the pool hands connections out.
        options["connect_args"] = {"check_same_thread": False, "timeout": 30}
    try:
        engine = create_engine(url, **options)
    except Exception as exc:  # e.g. a driver that is not installed (psycopg for postgresql://)
        raise RoomError(f"cannot use the database {url!r}: {exc}") from None
    if sqlite:
        _sqlite_pragmas(engine)
    try:
        with engine.begin() as conn:
            Base.metadata.create_all(conn)
            versions = conn.execute(select(SchemaVersion.version)).scalars().all()
            if not versions:
                conn.execute(SchemaVersion.__table__.insert().values(version=SCHEMA_VERSION))
            elif max(versions) > SCHEMA_VERSION:
                raise RoomError(
                    f"the database {url} was written by a newer Cadence Coach (schema {max(versions)}); "
                    f"this version understands schema {SCHEMA_VERSION}: upgrade Cadence Coach or use another --db"
                )
            # Older schemas would be migrated here, one step at a time (none exist yet).
    except OperationalError as exc:
        raise RoomError(f"cannot open the database {url}: {exc.orig}") from None
    return engine


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer, nor it them
        cursor.execute("PRAGMA busy_timeout=30000")  # milliseconds to wait for another writer
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a crash loses at most the last commit
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: a transaction that reads and then writes can
        # then never fail because another process wrote in between (SQLITE_BUSY_SNAPSHOT).
        conn.exec_driver_sql("BEGIN IMMEDIATE")
