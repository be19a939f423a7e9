"""From a list of classified posts to Habits: the shared half of every importer.

Each reader (x, mastodon, bluesky, csvfile) only answers "when, what kind, with an external
link, with a question?" for every post in an export and returns a :class:`History`. All the
definitions of the derived habits live here, once, so that the four formats cannot drift
apart and the tests can check one set of rules:

- originals = own posts that are neither reposts nor replies to another account (replies to
  yourself continue a thread, so they count as originals);
- ``posts_per_day`` = originals ÷ days covered (calendar days, first to last post, inclusive,
  in the chosen time zone; with ``since`` the window starts on ``since`` if the archive
  already had posts before it);
- ``link_share`` / ``question_share`` = originals with an external link / a question ÷ originals;
- ``posts_per_session`` = mean originals per sitting, a sitting being a run of originals each
  within 30 minutes of the previous one (the mean, ≥ 1, to 2 decimals: the engine takes a mean);
- ``outreach_per_day`` = replies to other accounts ÷ days covered;
- ``active_hours`` = the shortest run of local hours holding 90% of originals and replies.

Only aggregates leave this module: counts, shares, a 24-bin histogram. No text, no ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import PurePosixPath
from typing import Any, NamedTuple
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from coach.platforms import PRESETS
from coach.scenario import Habits, Scenario, scenario_from_data

# Kinds of post. A self-reply is kept apart from an original only for the evidence.
ORIGINAL, SELF_REPLY, REPLY, REPOST = "original", "self_reply", "reply", "repost"

SITTING_GAP = timedelta(minutes=30)  # originals closer than this belong to one sitting
ACTIVE_COVER = 0.9  # share of posts the active-hours window must hold
BEST_HOURS = 3  # how many best hours to report
BEST_HOUR_MIN_POSTS = 3  # an hour needs this many originals before its mean engagement counts

SHARE_DECIMALS = 3  # shares are rounded to 0.001 in the habits (exact values in evidence)
RATE_DECIMALS = 3  # posts/day and replies/day likewise
SESSION_DECIMALS = 2  # posts per sitting (a mean): 2.37, not 2.3684

_PROMO_WARNING = "link_share + question_share = "  # starts the warning about the default promo_share


class ArchiveError(ValueError):
    """An export that cannot be imported; ``message`` is one sentence naming the file and what is expected."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class Post(NamedTuple):
    """One own post, reduced to what the habits need (a NamedTuple: 100,000 of them are cheap)."""

    time: datetime  # timezone-aware
    kind: str  # ORIGINAL | SELF_REPLY | REPLY | REPOST
    has_link: bool = False  # at least one link to outside the platform
    has_question: bool = False
    engagement: int | None = None  # likes + reposts at export time (X only), else None
    likes: int | None = None  # likes ("favorite_count") at export time; None where the export has none
    reposts: int | None = None  # reposts ("retweet_count") at export time; None where the export has none


@dataclass
class History:
    """What a reader found in one export, before any derivation."""

    platform: str  # "x" | "mastodon" | "bluesky" | "csv"
    source: str  # the file or folder name, for messages and the description
    files: list[str] = field(default_factory=list)  # the members actually read
    posts: list[Post] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)  # e.g. direct_messages, unreadable
    notes: list[str] = field(default_factory=list)  # facts worth reporting (e.g. "no account.js")

    def exclude(self, reason: str, count: int = 1) -> None:
        self.excluded[reason] = self.excluded.get(reason, 0) + count


PLATFORM_LABELS = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky", "csv": "CSV"}
EXPECTED = (
    "an X archive (.zip, its unpacked folder, or data/tweets.js), a Mastodon archive (.zip, .tar.gz or outbox.json), "
    "a Bluesky repository export (.car) or a CSV file with columns timestamp, is_reply, has_link, text"
)


# --------------------------------------------------------------------------------------
# Text helpers shared by the readers
# --------------------------------------------------------------------------------------

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
QUESTION_MARKS = ("?", "？", "¿", "؟")  # ASCII, full-width, Spanish opening, Arabic
_QUESTION = re.compile("[" + "".join(QUESTION_MARKS) + "]")


def has_question(text: str) -> bool:
    """True when the text asks something: a question mark outside any URL.

    URLs are removed first because query strings (``?utm_source=``) are not questions.
    """
    if not text or _QUESTION.search(text) is None:
        return False
    return _QUESTION.search(_URL.sub(" ", text)) is not None


_HOST = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([A-Za-z0-9.-]+)(?=[/?#:]|$)")


def url_host(url: str) -> str:
    """The lower-case host of a URL without ``www.``; '' when there is none."""
    match = _HOST.match(url)  # the common case, 5x faster than urlsplit
    if match is not None:
        return match.group(1).lower().removeprefix("www.")
    url = url.strip()
    if url[:4].lower() == "www.":  # a bare link in text
        url = "http://" + url
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def find_urls(text: str) -> list[str]:
    """Bare URLs in plain text (used when an export gives no link list)."""
    return _URL.findall(text or "")


MAX_POSTS = 2_000_000  # posts in one export: the most active real accounts have a few hundred thousand


def too_many_posts(where: str) -> ArchiveError:
    """The message for an export past MAX_POSTS (each post costs memory until the habits are derived)."""
    return ArchiveError(
        f"{where}: more than {MAX_POSTS:,} posts; no real account has that many, so this is refused "
        "rather than filling memory. Use --since to import the recent ones, or split the file"
    )


FIRST_YEAR, LAST_YEAR = 1970, 2100  # years a post's date may have; outside them it is corrupt


class OutOfRange(ValueError):
    """A date no real post can have (year outside FIRST_YEAR..LAST_YEAR); ``str()`` says which."""


def checked(moment: datetime, raw: Any) -> datetime:
    """The moment, or OutOfRange when its year is outside FIRST_YEAR..LAST_YEAR.

    Checked before any time-zone arithmetic: year 9999 in UTC-5, or year 1 in UTC+1, is an
    OverflowError once converted.
    """
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise OutOfRange(f"date {str(raw)[:40]!r} is out of range (allowed: years {FIRST_YEAR} to {LAST_YEAR})")
    return moment


def parse_iso(value: Any) -> datetime | None:
    """An ISO-8601 time as an aware datetime; naive times are taken as UTC; None if unreadable.

    Raises OutOfRange for a readable date outside the years a post can have.
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return checked(dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC), value)


# --------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """Habits derived from one export, the numbers behind them and what had to be assumed."""

    platform: str  # "x" | "mastodon" | "bluesky" | "csv"
    habits: dict[str, Any]  # Habits field -> derived value (only the derived ones)
    evidence: dict[str, Any]  # counts, dates and exact values behind the habits
    assumed: list[str]  # Habits fields an export cannot reveal, kept at their defaults
    best_hours: list[int] | None  # local hours with the most engagement per original (X only)
    warnings: list[str] = field(default_factory=list)  # every value that was capped or adjusted

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``coach import --format json``."""
        return {
            "habits": dict(self.habits),
            "evidence": dict(self.evidence),
            "assumed": list(self.assumed),
            "best_hours": self.best_hours,
            "warnings": list(self.warnings),
        }

    def to_scenario(self, base: Scenario | None = None) -> Scenario:
        """A validated scenario with these habits.

        With ``base``, everything but the habits, name, description and timeline is kept (its
        audience, platform, days, seed, model); the habits the export cannot show keep the
        base's values. The timeline is dropped: its steps were changes from the old habits.
        Without ``base``, defaults are used and the platform is the archive's (a CSV keeps the
        default platform, since a CSV does not say where it came from).
        """
        if base is None:
            data: dict[str, Any] = Scenario().model_dump()
            if self.platform in PRESETS:
                data["platform"] = PRESETS[self.platform].model_dump()
            origin = "defaults"
        else:
            data = base.model_dump()
            origin = f"kept from {base.name!r}"
        habits = {**data["habits"], **self.habits}
        notes = []
        shares = habits["link_share"] + habits["question_share"] + habits["promo_share"]
        if shares > 1 + 1e-9:
            # The model gives each post one kind, so the three shares must fit in 1. The
            # derived shares are measurements; the assumed promo_share gives way.
            lowered = round(max(0.0, 1 - habits["link_share"] - habits["question_share"]), SHARE_DECIMALS)
            if base is not None:  # without a base, derive() already warned about the default
                notes.append(
                    f"promo_share lowered from {habits['promo_share']:g} to {lowered:g} so that the shares fit in 1"
                )
            habits["promo_share"] = lowered
        data.update(
            habits=habits,
            timeline=[],
            name=f"My habits ({self.platform} archive)",
            description=self._description(origin, notes),
        )
        return scenario_from_data(data, source=f"import of {self.evidence.get('source', 'an archive')}")

    def _description(self, origin: str, notes: list[str]) -> str:
        """One paragraph saying where every number came from (≤ 2000 characters)."""
        ev, h = self.evidence, self.habits
        label = PLATFORM_LABELS.get(self.platform, self.platform)
        parts = [
            f"Derived from {label} export {ev['source']}: {ev['posts']:,} posts from {ev['first'][:10]} "
            f"to {ev['last'][:10]} ({ev['days']:,} days, times in {ev['tz']})."
        ]
        if "posts_per_day" in h:
            parts.append(
                f"posts_per_day {h['posts_per_day']:g} = {ev['originals']:,} originals (posts and thread "
                f"continuations, not replies to others or reposts) ÷ {ev['days']:,} days."
            )
        if "posts_per_session" in h:
            parts.append(
                f"posts_per_session {h['posts_per_session']:g} = {ev['originals']:,} originals ÷ "
                f"{ev['sittings']:,} sittings (posts at most 30 min apart), the mean sitting size."
            )
        if "link_share" in h:
            parts.append(
                f"link_share {h['link_share']:g} = {ev['link_posts']:,} originals with an external link ÷ {ev['originals']:,}."
            )
        if "question_share" in h:
            parts.append(
                f"question_share {h['question_share']:g} = {ev['question_posts']:,} originals asking a question ÷ {ev['originals']:,}."
            )
        if "outreach_per_day" in h:
            parts.append(
                f"outreach_per_day {h['outreach_per_day']:g} = {ev['replies']:,} replies to other accounts ÷ {ev['days']:,} days."
            )
        if "active_hours" in h:
            start, end = h["active_hours"]
            parts.append(f"active_hours [{start}, {end}) hold {ev['active_hours_share']:.0%} of posts and replies.")
        if self.assumed:
            parts.append(f"Assumed, as an export cannot show them ({origin}): {', '.join(self.assumed)}.")
        if self.platform not in PRESETS and origin == "defaults":
            parts.append("The platform is the default one: a CSV does not say where the posts were published.")
        warnings = [w for w in self.warnings if origin == "defaults" or not w.startswith(_PROMO_WARNING)]
        parts += [w.rstrip(".") + "." for w in [*warnings, *notes]]
        text = " ".join(parts)
        return text if len(text) <= 2000 else text[:1997] + "..."


# --------------------------------------------------------------------------------------
# Derivation
# --------------------------------------------------------------------------------------


def zone_for(tz: str) -> ZoneInfo:
    """The ZoneInfo for a name such as ``Europe/Berlin``; a ValueError that says so otherwise."""
    try:
        return ZoneInfo(tz)
    except Exception:  # ZoneInfoNotFoundError, ValueError for paths, TypeError ...
        raise ValueError(
            f"unknown time zone {tz!r}; use a zoneinfo name such as UTC, Europe/Berlin or America/New_York"
        ) from None


def derive(history: History, tz: str = "UTC", since: date | None = None) -> ImportResult:
    """Habits, evidence and assumptions from one reader's History (rules in the module docstring)."""
    zone = zone_for(tz)
    source = history.source
    if not history.posts:
        left_out = ", ".join(f"{count:,} {reason.replace('_', ' ')}" for reason, count in history.excluded.items())
        raise ArchiveError(
            f"{source}: no posts found in this {PLATFORM_LABELS[history.platform]} export: it is readable, but holds "
            f"no posts of the account" + (f" (left out: {left_out})" if left_out else "")
        )

    local = sorted(((p.time.astimezone(zone), p) for p in history.posts), key=lambda pair: pair[0])
    archive_start = local[0][0].date()
    excluded = dict(history.excluded)
    if since is not None:
        kept = [pair for pair in local if pair[0].date() >= since]
        if len(kept) < len(local):
            excluded["before_since"] = len(local) - len(kept)
        if not kept:
            raise ArchiveError(
                f"{source}: no posts on or after {since.isoformat()}; the export's posts run from "
                f"{archive_start.isoformat()} to {local[-1][0].date().isoformat()}"
            )
        local = kept
    first, last = local[0][0], local[-1][0]
    start = max(since, archive_start) if since is not None else first.date()
    days = (last.date() - start).days + 1  # calendar days covered, inclusive

    originals = [(t, p) for t, p in local if p.kind in (ORIGINAL, SELF_REPLY)]
    replies = sum(1 for _, p in local if p.kind == REPLY)
    reposts = sum(1 for _, p in local if p.kind == REPOST)
    self_replies = sum(1 for _, p in originals if p.kind == SELF_REPLY)
    n = len(originals)
    link_posts = sum(1 for _, p in originals if p.has_link)
    question_posts = sum(1 for _, p in originals if p.has_question)

    habits: dict[str, Any] = {}
    warnings: list[str] = []
    evidence: dict[str, Any] = {
        "platform": history.platform,
        "source": PurePosixPath(source.replace("\\", "/")).name or source,  # no folders: they may name the user
        "files": list(history.files),
        "posts": len(local),
        "originals": n,
        "self_replies": self_replies,
        "replies": replies,
        "reposts": reposts,
        "first": first.isoformat(),
        "last": last.isoformat(),
        "days": days,
        "tz": tz,
        "since": since.isoformat() if since else None,
        "excluded": excluded,
        "link_posts": link_posts,
        "question_posts": question_posts,
    }

    ppd = n / days
    evidence["posts_per_day"] = ppd
    habits["posts_per_day"] = _capped("posts_per_day", ppd, warnings)
    outreach = replies / days
    evidence["outreach_per_day"] = outreach
    habits["outreach_per_day"] = _capped("outreach_per_day", outreach, warnings)

    if n:
        sittings = _sittings([t for t, _ in originals])
        mean = n / sittings
        evidence.update(sittings=sittings, posts_per_session_mean=mean)
        # The engine takes the mean sitting size (any number >= 1; sittings vary around it), so
        # the habit keeps it: 2.4 posts per sitting is not 2. Two decimals are plenty to read.
        habits["posts_per_session"] = _capped("posts_per_session", max(1.0, round(mean, SESSION_DECIMALS)), warnings)
        link_share, question_share = link_posts / n, question_posts / n
        evidence.update(link_share=link_share, question_share=question_share)
        habits["link_share"] = round(link_share, SHARE_DECIMALS)
        habits["question_share"] = round(question_share, SHARE_DECIMALS)
        if habits["link_share"] + habits["question_share"] > 1:
            # Posts with both a link and a question: the model gives each post one kind.
            fitted = round(1 - habits["link_share"], SHARE_DECIMALS)
            warnings.append(
                f"question_share lowered from {habits['question_share']:g} to {fitted:g}: posts with both a link "
                "and a question count as link posts, because the model gives each post one kind"
            )
            habits["question_share"] = fitted
        default_promo = Habits.model_fields["promo_share"].default
        if habits["link_share"] + habits["question_share"] + default_promo > 1 + 1e-9:
            warnings.append(
                f"{_PROMO_WARNING}{habits['link_share'] + habits['question_share']:g} leaves less than the "
                f"default promo_share ({default_promo:g}); the scenario lowers promo_share to fit"
            )
    else:
        history.notes.append("no originals, so posts_per_session, link_share and question_share are assumed")

    authored = [t for t, p in local if p.kind != REPOST] or [t for t, _ in local]
    histogram = [0] * 24
    for t in authored:
        histogram[t.hour] += 1
    start_hour, end_hour, held = active_window(histogram)
    habits["active_hours"] = [start_hour, end_hour]
    evidence.update(hour_histogram=histogram, active_hours_share=held / len(authored))

    best, by_hour = best_hours([(t, p) for t, p in originals if p.engagement is not None])
    evidence["engagement_by_hour"] = by_hour
    evidence["best_hours"] = best
    evidence["notes"] = list(history.notes)

    assumed = [name for name in Habits.model_fields if name not in habits]
    promo = min(
        Habits.model_fields["promo_share"].default, 1 - habits.get("link_share", 0) - habits.get("question_share", 0)
    )
    # Caps and fits above keep the derived habits valid; should one slip through, say so in
    # words (field, value, what is allowed) rather than let pydantic's text reach a person.
    scenario_from_data({"version": 1, "habits": {"promo_share": max(0.0, promo), **habits}}, source=history.source)
    return ImportResult(history.platform, habits, evidence, assumed, best, warnings)


def _sittings(times: list[datetime]) -> int:
    """Number of sittings: a new one starts when an original comes more than 30 min after the last."""
    count = 1
    for previous, current in pairwise(times):
        if current - previous > SITTING_GAP:
            count += 1
    return count


def _capped(name: str, value: float, warnings: list[str]) -> Any:
    """The value rounded for the habits, or the Habits maximum with a warning (never silently)."""
    info = Habits.model_fields[name]
    upper = next(m.le for m in info.metadata if hasattr(m, "le"))
    if value > upper:
        warnings.append(
            f"{name} is {value:.4g} in the export, above the model's maximum {upper:g}; capped at {upper:g}"
        )
        return upper
    return value if isinstance(value, int) else round(value, RATE_DECIMALS)


def active_window(histogram: list[int], cover: float = ACTIVE_COVER) -> tuple[int, int, int]:
    """The shortest run of hours [start, end) (wrapping midnight) holding ``cover`` of the posts.

    Among runs of that length the fullest wins, then the earliest start. Returns (start, end,
    posts inside); end is 1..24, and a full day is (0, 24) because Habits forbids start == end.
    """
    total = sum(histogram)
    need = cover * total - 1e-9
    for length in range(1, 25):
        best_start, best_sum = -1, -1
        for start in range(24):
            inside = sum(histogram[(start + k) % 24] for k in range(length))
            if inside >= need and inside > best_sum:
                best_start, best_sum = start, inside
        if best_start >= 0:
            if length == 24:
                return 0, 24, total
            end = (best_start + length) % 24 or 24
            return best_start, end, best_sum
    return 0, 24, total  # unreachable: length 24 always holds everything


def best_hours(rated: Iterable[tuple[datetime, Post]]) -> tuple[list[int] | None, list[float | None] | None]:
    """Hours with the highest mean engagement per original, and the mean for every hour.

    Engagement counts (likes + reposts at export time) exist only in X archives. An hour needs
    at least three originals before its mean counts, so one lucky post does not make a "best
    hour". None when there are no counts or none is above zero.
    """
    sums, counts = [0] * 24, [0] * 24
    for t, p in rated:
        sums[t.hour] += p.engagement or 0
        counts[t.hour] += 1
    if not any(counts):
        return None, None
    means = [sums[h] / counts[h] if counts[h] else None for h in range(24)]
    eligible = [h for h in range(24) if counts[h] >= BEST_HOUR_MIN_POSTS and (means[h] or 0) > 0]
    if not eligible:
        return None, means
    ranked = sorted(eligible, key=lambda h: (-(means[h] or 0), h))
    return ranked[:BEST_HOURS], means
