"""What a fit is fitted to: a follower history, the habits by period, engagement per post by kind.

Everything here is plain data and checks; the optimiser lives in :mod:`coach.fit.core`.
A :class:`FitInput` is built either from an export (:func:`from_archive`, through the
importer's readers) or directly, e.g. from a synthetic account the engine generated
(the trust checks do both).

Bad input raises :class:`FitError`, one plain sentence per problem naming what is wrong and
what is allowed. Problems the fit can live with become warnings in the report instead.
"""

from __future__ import annotations

import csv
import itertools
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from coach.scenario import Habits

# Post kinds as the engine names them (coach.engine.POST_KINDS). An export cannot tell
# promotion from a plain post, so "promo" is never measured.
KINDS = ("plain", "link", "promo", "question")
MEASURED_KINDS = ("plain", "link", "question")

MIN_ORIGINALS = 10  # fewer original posts than this: the habits themselves are unknown
FEW_ORIGINALS = 30  # fewer than this: the fit runs, with a warning
MIN_KIND_POSTS = 5  # posts of a kind with engagement counts before its mean counts
JUMP_FACTOR = 10.0  # consecutive counts this many times apart: an order of magnitude, a typo
STEEP_FACTOR = 3.0  # ... this many times apart within STEEP_DAYS: a warning (a viral post?)
STEEP_DAYS = 7
MAX_HISTORY_ROWS = 20_000
MAX_HISTORY_BYTES = 2_000_000
BLOCK_DAYS = 30  # habits are measured per block of this many days for the timeline
MAX_BLOCKS = 48  # a scenario timeline holds at most 50 steps
MAX_FOLLOWERS = 10_000_000  # Audience.followers' upper bound


class FitError(ValueError):
    """Input a fit cannot use; ``problems`` holds one readable sentence each."""

    def __init__(self, problems: str | Iterable[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Counted:
    """One count (likes, reposts or replies) summed over the posts of one kind."""

    total: float  # over the posts of the kind
    dispersion: float  # variance / mean between posts, at least 1 (Poisson or more scattered)

    def log_var(self) -> float:
        """Variance of log(total) for an over-dispersed count (half a count added, so 0 is finite)."""
        return self.dispersion / (self.total + 0.5)

    @classmethod
    def of(cls, counts: Sequence[int]) -> Counted:
        n = len(counts)
        mean = sum(counts) / n
        var = sum((c - mean) ** 2 for c in counts) / (n - 1) if n > 1 else mean
        return cls(float(sum(counts)), max(1.0, var / mean) if mean > 0 else 1.0)


@dataclass(frozen=True)
class KindEngagement:
    """Observed engagement (likes + reposts at export time) of one kind of post.

    ``likes`` and ``reposts`` are their separate totals where the export counts both for
    every post of the kind (X archives do); ``replies`` where it counts replies (no export
    read by ``coach import`` does today).
    """

    posts: int  # posts of this kind with a count
    mean: float  # engagement per post
    sd: float  # standard deviation between posts
    likes: Counted | None = None
    reposts: Counted | None = None
    replies: Counted | None = None

    def log_se(self) -> float:
        """Standard error of log(mean) (delta method), for the likelihood."""
        if self.posts <= 1 or self.mean <= 0:
            return 1.0
        return self.sd / self.mean / math.sqrt(self.posts)


@dataclass
class FitInput:
    """Everything the optimiser needs, independent of where it came from.

    ``history`` holds (date, followers) pairs sorted by date; the first is the simulation's
    starting point and the last is "today". ``blocks`` are (first day, habits) for the
    timeline: day 1 is the day after the first history date. ``habits`` are today's habits,
    kept for the forecast and the fitted scenario.
    """

    history: list[tuple[date, int]]
    habits: Habits
    platform: str = "mastodon"
    blocks: list[tuple[int, Habits]] = field(default_factory=list)
    engagement: dict[str, KindEngagement] = field(default_factory=dict)
    source: str = "synthetic account"
    originals: int = 0
    warnings: list[str] = field(default_factory=list)
    assumed_habits: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def span_days(self) -> int:
        """Days from the first to the last history date (0 with one point)."""
        return (self.history[-1][0] - self.history[0][0]).days


# --------------------------------------------------------------------------------------
# Follower histories
# --------------------------------------------------------------------------------------

HISTORY_FORMAT = "a CSV with the header `date,followers` and one row per date, e.g. `2024-05-01,1234`"


def read_history_csv(source: str | os.PathLike[str] | bytes, label: str | None = None) -> list[tuple[date, int]]:
    """The (date, followers) rows of a history CSV, in file order (checked by :func:`check_history`)."""
    if isinstance(source, bytes | bytearray):
        raw, label = bytes(source), label or "the history file"
    else:
        label = label or str(source)
        try:
            with open(source, "rb") as handle:
                raw = handle.read(MAX_HISTORY_BYTES + 1)
        except FileNotFoundError:
            raise FitError(f"{label}: no such file; expected {HISTORY_FORMAT}") from None
        except IsADirectoryError:
            raise FitError(f"{label}: is a folder; expected {HISTORY_FORMAT}") from None
        except OSError as exc:
            raise FitError(f"{label}: cannot be read ({exc.strerror})") from None
    if len(raw) > MAX_HISTORY_BYTES:
        raise FitError(f"{label}: larger than {MAX_HISTORY_BYTES:,} bytes; expected {HISTORY_FORMAT}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FitError(
            f"{label}: not UTF-8 text (bad byte at position {exc.start}); expected {HISTORY_FORMAT}"
        ) from None
    lines = [
        (i, line)
        for i, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise FitError(f"{label}: the file is empty; expected {HISTORY_FORMAT}")
    header_no, header_line = lines[0]
    header = [h.strip().lower() for h in next(csv.reader([header_line]))]
    if "date" not in header or "followers" not in header:
        raise FitError(f"{label} (line {header_no}): the header is {header_line.strip()!r}; expected {HISTORY_FORMAT}")
    di, fi = header.index("date"), header.index("followers")
    rows: list[tuple[date, int]] = []
    problems: list[str] = []
    for number, line in lines[1:]:
        cells = [c.strip() for c in next(csv.reader([line]))]
        if len(cells) <= max(di, fi):
            problems.append(
                f"{label} (line {number}): {line.strip()!r} has {len(cells)} values; expected date,followers"
            )
            continue
        try:
            rows.append(parse_point(cells[di], cells[fi]))
        except ValueError as exc:
            problems.append(f"{label} (line {number}): {exc}")
        if len(rows) > MAX_HISTORY_ROWS:
            raise FitError(f"{label}: more than {MAX_HISTORY_ROWS:,} rows; allowed: one row per date")
    if problems:
        extra = len(problems) - 3
        raise FitError(problems[:3] + ([f"{label}: and {extra} more bad lines"] if extra > 0 else []))
    if not rows:
        raise FitError(f"{label}: a header but no rows; expected {HISTORY_FORMAT}")
    return rows


def parse_point(day: Any, followers: Any) -> tuple[date, int]:
    """One (date, followers) pair from text or values typed in; ValueError says what is wrong."""
    if isinstance(day, datetime):
        when = day.date()
    elif isinstance(day, date):
        when = day
    else:
        text = str(day or "").strip()
        try:
            when = date.fromisoformat(text[:10]) if len(text) >= 10 else date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a date; allowed: an ISO date such as 2024-05-01") from None
    if isinstance(followers, bool):
        raise ValueError(f"{followers!r} is not a follower count; allowed: a whole number 0..{MAX_FOLLOWERS:,}")
    if isinstance(followers, int | float) and not isinstance(followers, bool):
        value = float(followers)
    else:
        text = str(followers or "").strip().replace("_", "")
        try:
            value = float(text)
        except ValueError:
            raise ValueError(
                f"{text!r} is not a follower count; allowed: a whole number 0..{MAX_FOLLOWERS:,} (no thousands separators)"
            ) from None
    if not math.isfinite(value) or value != int(value) or not 0 <= value <= MAX_FOLLOWERS:
        raise ValueError(f"{followers!r} is not a follower count; allowed: a whole number 0..{MAX_FOLLOWERS:,}")
    return when, int(value)


def check_history(
    rows: Sequence[tuple[date, int]],
    today: tuple[date, int] | None,
    label: str = "the history",
    today_label: str = "today's count",
) -> tuple[list[tuple[date, int]], list[str]]:
    """The history sorted by date with today's count as its last point, and the warnings.

    Raises FitError for what cannot be fitted: the same date twice with different counts, a
    count that jumps by an order of magnitude between two rows (almost always a typo), dates
    after today's. Dates out of order are sorted, with a warning saying so. A jump into
    today's count names ``today_label`` (where that count was typed: ``--followers``, the
    app's box), not the history, which does not hold that row.
    """
    warnings: list[str] = []
    points = list(rows)
    for i in range(1, len(points)):
        if points[i][0] < points[i - 1][0]:
            warnings.append(
                f"{label}: dates are not in order ({points[i][0]} comes after {points[i - 1][0]}); they were sorted by date"
            )
            break
    by_date: dict[date, int] = {}
    for when, count in points:
        if when in by_date and by_date[when] != count:
            raise FitError(
                f"{label}: {when} appears twice, with {by_date[when]:,} and {count:,} followers; allowed: one count per date"
            )
        by_date[when] = count
    if today is not None:
        when, count = today
        later = [d for d in by_date if d > when]
        if later:
            raise FitError(
                f"{label}: {max(later)} is after {when}, the date of today's follower count; "
                "allowed: history dates up to today"
            )
        if when in by_date and by_date[when] != count:
            warnings.append(
                f"{label}: {when} has {by_date[when]:,} followers but today's count is {count:,}; today's count is used"
            )
        by_date[when] = count
    history = sorted(by_date.items())
    for (d0, n0), (d1, n1) in itertools.pairwise(history):
        low, high = sorted((n0, n1))
        typed = today is not None and d1 == today[0]  # the later count is today's, not a row of the history
        pair = (
            f"{today_label} {n1:,} (today, {d1}) against {n0:,} on {d0} in {label}"
            if typed
            else f"{label}: {n0:,} followers on {d0} and {n1:,} on {d1}"
        )
        if high >= 100 and high >= JUMP_FACTOR * max(low, 1):
            raise FitError(
                f"{pair}: {high / max(low, 1):,.0f} times apart; "
                "a count that changes by an order of magnitude is almost always a typo (a digit too many or too few). "
                + (
                    f"Check the count you typed ({today_label}), or that row of {label}"
                    if typed
                    else "Correct it or leave that row out"
                )
            )
        if high >= 100 and high >= STEEP_FACTOR * max(low, 1) and (d1 - d0).days <= STEEP_DAYS:
            warnings.append(
                f"{pair}: a jump the model's gradual growth cannot "
                "follow (a viral post? bought followers?); the fit around it will be poor"
            )
    if len(history) < 2:
        warnings.append(
            "the follower history has one date only, so it cannot show how fast you gain or lose followers: "
            "prospects_per_day and churn_per_month stay assumed. Give two or more dated counts (--history, or typed-in counts in the app) to fit them"
        )
    return history, warnings


# --------------------------------------------------------------------------------------
# From an export
# --------------------------------------------------------------------------------------


def from_archive(
    source: str | os.PathLike[str] | bytes,
    followers: int,
    history: Sequence[tuple[date, int]] = (),
    *,
    filename: str | None = None,
    tz: str = "UTC",
    since: date | None = None,
    history_label: str = "the history",
    today_label: str = "--followers",
) -> FitInput:
    """Read an export with the importer's readers and assemble a FitInput.

    ``followers`` is today's count, dated on the archive's last post (or the history's last
    date, if later); ``today_label`` names where it was given, for messages. ``since``
    drops posts and history rows before that date. Raises FitError (and the importer's
    ArchiveError / ValueError for the export itself and the time zone).
    """
    if isinstance(followers, bool) or not isinstance(followers, int) or not 0 <= followers <= MAX_FOLLOWERS:
        raise FitError(f"--followers {followers!r}: allowed: a whole number 0..{MAX_FOLLOWERS:,}")
    result, posts = import_posts(source, filename=filename, tz=tz, since=since)
    zone = _zone(tz)
    originals = [p for p in posts if p.kind in ("original", "self_reply") and (since is None or _day(p, zone) >= since)]
    replies = [p for p in posts if p.kind == "reply" and (since is None or _day(p, zone) >= since)]
    ev = result.evidence
    if len(originals) < MIN_ORIGINALS:
        raise FitError(
            f"{ev.get('source', 'the archive')}: only {len(originals)} original posts"
            f"{' since ' + since.isoformat() if since else ''}; a fit needs at least {MIN_ORIGINALS} to know your habits "
            "(give a longer export or an earlier --since)"
        )
    dropped = 0
    if since is not None:  # --since shortens the fitted span too, not only the posts
        kept = [(d, n) for d, n in history if d >= since]
        dropped, history = len(history) - len(kept), kept
    last = date.fromisoformat(str(ev["last"])[:10])
    today_date = max([last, *(d for d, _ in history)])
    points, warnings = check_history(history, (today_date, followers), history_label, today_label)
    warnings = list(result.warnings) + warnings
    if dropped:
        warnings.insert(
            len(result.warnings),
            f"{history_label}: {dropped} row{'s' if dropped != 1 else ''} before {since} (--since) left out",
        )
    if len(originals) < FEW_ORIGINALS:
        warnings.append(
            f"only {len(originals)} original posts: your habits and engagement per post are measured roughly; "
            "treat the fitted numbers as a first look"
        )
    scenario = result.to_scenario()
    start = points[0][0]
    habits = recent_habits(originals, replies, scenario.habits, zone)
    # Engagement per post from the posts of the fitted window, where the followers were the
    # simulated ones; from the whole archive when the window holds too few. With one date the
    # window is today alone, so the whole archive's posts are compared with today's count.
    window = [p for p in originals if start <= _day(p, zone) <= points[-1][0]]
    engagement = engagement_by_kind(window)
    if len(points) < 2 or len(engagement) < len(engagement_by_kind(originals)):
        engagement = engagement_by_kind(originals)
        if engagement and len(points) >= 2:
            warnings.append(
                "few posts with likes and reposts fall inside the follower history's dates, so engagement per post is "
                "taken from the whole archive (when you may have had more or fewer followers)"
            )
        elif engagement:
            counted = [p for p in originals if p.engagement is not None]
            first_day, last_day = min(_day(p, zone) for p in counted), max(_day(p, zone) for p in counted)
            warnings.append(
                f"with one follower date, engagement per post is taken from all {len(counted)} posts with likes and "
                f"reposts in the archive ({first_day} to {last_day}), as if each was seen by today's {followers:,} "
                "followers; if you had fewer then, attention comes out too low"
            )
    first_post = date.fromisoformat(str(ev["first"])[:10])
    if start < first_post - timedelta(days=BLOCK_DAYS):
        warnings.append(
            f"the follower history starts on {start}, {(first_post - start).days} days before the archive's first post "
            f"({first_post}); for those days your habits are taken to be the archive's average"
        )
    data = FitInput(
        history=points,
        habits=habits,
        platform=result.platform if result.platform in ("x", "mastodon", "bluesky") else "mastodon",
        blocks=habit_blocks(originals, replies, habits, start, points[-1][0], zone),
        engagement=engagement,
        source=str(ev.get("source", "your archive")),
        originals=len(originals),
        warnings=warnings,
        assumed_habits=[f"habits.{name}" for name in result.assumed],
        evidence={
            "archive": {
                k: ev[k] for k in ("source", "posts", "originals", "replies", "first", "last", "days", "tz") if k in ev
            },
            # posts compared with the simulated engagement, and how many in the archive carry counts
            "engagement_posts": {
                "used": sum(e.posts for e in engagement.values()),
                "with_counts": sum(1 for p in originals if p.engagement is not None),
            },
        },
    )
    if result.platform == "csv":
        data.warnings.append("a CSV does not say which platform it came from; the fit assumes Mastodon's feed")
    return data


def import_posts(
    source: str | os.PathLike[str] | bytes, *, filename: str | None, tz: str, since: date | None
) -> tuple[Any, list[Any]]:
    """The importer's result and the classified posts it was derived from, from one read.

    ``coach.importers.import_history`` keeps only aggregates; the fit also needs each post's
    day, kind and engagement count, so it runs the same steps (open, read, derive) itself.
    """
    from coach import importers
    from coach.importers.derive import derive, zone_for

    reader = getattr(importers, "read_history", None)  # the importer's public reader, where it exists
    if reader is not None:
        history = reader(source, filename=filename, tz=tz)
        return derive(history, tz=tz, since=since), list(history.posts)
    zone_for(tz)
    with importers._collector_paused():  # older importers: the same steps by their private names
        files, platform = importers._open(source, filename)
        try:
            history = importers._read(files, platform, tz)
        finally:
            files.close()
        posts = list(history.posts)
        return derive(history, tz=tz, since=since), posts


def _zone(tz: str) -> Any:
    from coach.importers.derive import zone_for

    return zone_for(tz)


def _day(post: Any, zone: Any) -> date:
    return post.time.astimezone(zone).date()


def kind_of(post: Any) -> str:
    """The engine's kind for an exported post: a link wins over a question (one kind per post)."""
    return "link" if post.has_link else "question" if post.has_question else "plain"


def engagement_by_kind(originals: Iterable[Any]) -> dict[str, KindEngagement]:
    """Mean likes + reposts per original, by kind, where the export counts them (X).

    Likes and reposts are also kept apart when every counted post of the kind has both
    (their ratio reads the audience's taste for links); replies when every one has them.
    """
    posts: dict[str, list[Any]] = {k: [] for k in MEASURED_KINDS}
    for post in originals:
        if post.engagement is not None:
            posts[kind_of(post)].append(post)
    out = {}
    for kind, mine in posts.items():
        if len(mine) < MIN_KIND_POSTS:
            continue
        counts = [int(p.engagement) for p in mine]
        mean = sum(counts) / len(counts)
        var = sum((c - mean) ** 2 for c in counts) / (len(counts) - 1)
        parts = {}
        for name in ("likes", "reposts", "replies"):
            values = [getattr(p, name, None) for p in mine]
            if all(v is not None for v in values):
                parts[name] = Counted.of([int(v) for v in values])
        out[kind] = KindEngagement(len(counts), mean, math.sqrt(var), **parts)
    return out


RECENT_DAYS = 90  # "today's habits": the archive's last 90 days, when they hold enough posts


def recent_habits(originals: Sequence[Any], replies: Sequence[Any], habits: Habits, zone: Any) -> Habits:
    """Today's habits for the forecast: the rates and shares of the archive's last 90 days.

    The other habits (sittings, hours) are the whole archive's. With fewer than
    MIN_ORIGINALS posts in those days, the whole archive's habits are today's.
    """
    last = max(_day(p, zone) for p in originals)
    first = max(last - timedelta(days=RECENT_DAYS - 1), min(_day(p, zone) for p in originals))
    blocks = habit_blocks(originals, replies, habits, first - timedelta(days=1), last, zone, length=RECENT_DAYS)
    mine = [p for p in originals if _day(p, zone) >= first]
    return blocks[0][1] if blocks and len(mine) >= MIN_ORIGINALS else habits


def habit_blocks(
    originals: Sequence[Any],
    replies: Sequence[Any],
    habits: Habits,
    start: date,
    end: date,
    zone: Any,
    length: int | None = None,
) -> list[tuple[int, Habits]]:
    """The habits the archive shows, block by block, over the simulated history.

    Day 1 is the day after ``start``. A block's posts per day, outreach per day and shares
    come from its own posts; a block with no archive coverage (before the first post) keeps
    today's habits. Rates come from the posts, so a quiet month is simulated as quiet.
    """
    span = (end - start).days
    if span <= 0:
        return []
    length = length or max(BLOCK_DAYS, math.ceil(span / MAX_BLOCKS))
    first_post = min(_day(p, zone) for p in originals)
    last_post = max(_day(p, zone) for p in originals)
    blocks = []
    for first in range(1, span + 1, length):
        lo, hi = start + timedelta(days=first), start + timedelta(days=min(first + length - 1, span))
        if hi < first_post or lo > last_post:
            blocks.append((first, habits))
            continue
        days = (min(hi, last_post) - max(lo, first_post)).days + 1
        mine = [p for p in originals if lo <= _day(p, zone) <= hi]
        outreach = sum(1 for p in replies if lo <= _day(p, zone) <= hi)
        changes: dict[str, Any] = {
            "posts_per_day": min(100.0, round(len(mine) / days, 3)),
            "outreach_per_day": min(200.0, round(outreach / days, 3)),
        }
        if len(mine) >= MIN_KIND_POSTS:
            link = sum(1 for p in mine if p.has_link) / len(mine)
            question = sum(1 for p in mine if not p.has_link and p.has_question) / len(mine)
            promo = min(habits.promo_share, max(0.0, 1 - link - question))
            changes.update(link_share=round(link, 3), question_share=round(question, 3), promo_share=round(promo, 3))
            if changes["link_share"] + changes["question_share"] + changes["promo_share"] > 1:
                changes["promo_share"] = 0.0
                changes["question_share"] = round(1 - changes["link_share"], 3)
        blocks.append((first, Habits(**{**habits.model_dump(), **changes})))
    return blocks
