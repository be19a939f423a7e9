"""Plain CSV reader, for any platform or a hand-made history.

Columns (first line, any order, case-insensitive): ``timestamp`` (required), ``is_reply``,
``has_link``, ``text``; an optional ``is_repost``. Timestamps are ISO 8601
(``2024-05-01T09:30:00+02:00``, ``2024-05-01 09:30``) or Unix seconds; times without an
offset are read in the import's time zone (``--tz``), since a hand-made file is usually in
local time. ``is_reply`` means a reply to another account: write thread continuations as
``false``. Booleans are true/false, yes/no, 1/0 (empty = false). Without a ``has_link``
column, a URL in the text counts as a link. Bad rows are reported by line, never skipped.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from coach.importers.derive import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_POSTS,
    ORIGINAL,
    REPLY,
    REPOST,
    ArchiveError,
    History,
    OutOfRange,
    Post,
    checked,
    find_urls,
    has_question,
    too_many_posts,
)

COLUMNS = "timestamp, is_reply, has_link, text"
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0", ""})
_SHOWN_PROBLEMS = 3  # bad rows named in the message; the count says how many more


def read(files: Any, tz: str) -> History:
    """Read a CSV history (``files``: a coach.importers.Files; ``tz`` for times without offset)."""
    name = files.names[0] if files.single else next(n for n in files.names if n.lower().endswith(".csv"))
    where = files.where(name)
    try:
        text = files.read(name).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArchiveError(
            f"{where}: not UTF-8 text (bad byte at position {exc.start}); save the CSV as UTF-8"
        ) from None
    zone = ZoneInfo(tz)
    rows = csv.reader(io.StringIO(text, newline=""))
    history = History("csv", files.label)
    problems: list[str] = []
    try:
        header = [h.strip().lower() for h in next(rows, [])]
        if "timestamp" not in header:
            found = ", ".join(h for h in header if h)[:80] or "nothing"
            raise ArchiveError(f"{where}: the first line must name the columns {COLUMNS} (found: {found})")
        col = {h: i for i, h in enumerate(header)}
        for row in rows:
            line = rows.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header) and header[-1] == "text":  # an unquoted comma in the text
                row = [*row[: len(header) - 1], ",".join(row[len(header) - 1 :])]
            try:
                history.posts.append(_post(row, col, zone))
            except ValueError as exc:
                problems.append(f"line {line}: {exc}")
            if len(history.posts) + len(problems) > MAX_POSTS:
                raise too_many_posts(where)
    except csv.Error as exc:
        raise ArchiveError(f"{where}: not a readable CSV file (line {rows.line_num}: {exc})") from None
    if problems:
        more = f" (and {len(problems) - _SHOWN_PROBLEMS} more)" if len(problems) > _SHOWN_PROBLEMS else ""
        raise ArchiveError(f"{where}: {len(problems)} bad rows{more}: " + "; ".join(problems[:_SHOWN_PROBLEMS]))
    return history


def _cell(row: list[str], col: dict[str, int], name: str) -> str | None:
    i = col.get(name)
    if i is None:
        return None
    return row[i].strip() if i < len(row) else ""


def _flag(row: list[str], col: dict[str, int], name: str) -> bool | None:
    value = _cell(row, col, name)
    if value is None:
        return None
    low = value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"{name} {value!r} is not allowed; allowed: true/false, yes/no, 1/0")


def parse_timestamp(value: str, zone: ZoneInfo) -> datetime:
    """ISO 8601 or Unix seconds; a time without offset is local time in ``zone``."""
    if not value:
        raise ValueError("timestamp is empty")
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        try:
            return checked(datetime.fromtimestamp(seconds, tz=UTC), value)
        except (OverflowError, OSError, ValueError):
            raise ValueError(
                f"timestamp {value[:40]!r} is out of range (allowed: years {FIRST_YEAR} to {LAST_YEAR})"
            ) from None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"timestamp {value!r} is not a date and time; allowed: ISO 8601 such as 2024-05-01T09:30:00+02:00"
        ) from None
    try:
        checked(moment, value)  # before any time-zone arithmetic, which overflows near year 1 and 9999
    except OutOfRange:
        raise ValueError(
            f"timestamp {value[:40]!r} is out of range (allowed: years {FIRST_YEAR} to {LAST_YEAR})"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _post(row: list[str], col: dict[str, int], zone: ZoneInfo) -> Post:
    when = parse_timestamp(_cell(row, col, "timestamp") or "", zone)
    text = _cell(row, col, "text") or ""
    link = _flag(row, col, "has_link")
    if link is None:
        link = bool(find_urls(text))
    if _flag(row, col, "is_repost"):
        return Post(when, REPOST)
    kind = REPLY if _flag(row, col, "is_reply") else ORIGINAL
    return Post(when, kind, link, has_question(text))
