"""X / Twitter archive reader: ``data/tweets.js`` (+ parts, ``community-tweet.js``, ``account.js``,
``manifest.js``, ``note-tweet.js``).

The archive's data files are JavaScript, not JSON: ``window.YTD.tweets.part0 = [...]``. The
posts files are streamed: everything up to the first ``=`` is skipped and the array's
elements are decoded one at a time (:func:`iter_ytd`), so memory holds one 4 MiB window of
text and one small record per tweet, never the whole file as Python objects. Each element is
``{"tweet": {...}}`` with ids and counts as strings. Classification (ANCHORS.md §5.1):

- repost: ``full_text`` starts with ``"RT @"`` (the archive's ``retweeted`` flag is always false);
- reply: ``in_reply_to_status_id_str`` or ``in_reply_to_user_id_str`` is set; it is a reply to
  yourself (a thread) when the parent tweet is in the archive, or when the user replied to is
  the account: its id from ``account.js``, else ``manifest.js``, else inferred from the
  replies whose parent is in the archive (so ``tweets.js`` alone still knows its threads);
- external link: an ``entities.urls[].expanded_url`` (or a note tweet's URL) whose host is
  not X's own (a quote tweet links to ``x.com/…/status/…``; photos are ``entities.media``).
  Tweets from before mid-2011 have no ``entities.urls``: their links are read from the text,
  again skipping X's own hosts (``t.co`` in the text of a later tweet is its photo);
- posts in Communities (``community-tweet.js``) are posts like any other;
- engagement: ``favorite_count`` (likes) and ``retweet_count`` (reposts) as of the export.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from typing import Any, NamedTuple

from coach.importers import xfast
from coach.importers.derive import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_POSTS,
    ORIGINAL,
    REPLY,
    REPOST,
    SELF_REPLY,
    ArchiveError,
    History,
    OutOfRange,
    Post,
    find_urls,
    has_question,
    parse_iso,
    too_many_posts,
    url_host,
)
from coach.importers.stream import ytd_elements

X_HOSTS = frozenset(
    {"twitter.com", "x.com", "mobile.twitter.com", "mobile.x.com", "t.co", "pic.twitter.com", "pic.x.com"}
)
_MONTHS = {
    m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)
}
_PART = re.compile(r"-part(\d+)\.js$")
POSTS_FILE = re.compile(r"^(community-)?tweets?(-part\d+)?\.js$")


class _Pending(NamedTuple):
    """A tweet read, before the whole archive tells whether its reply is to the account."""

    post: Post  # kind is REPLY when it replies to someone; settled once every id is known
    parent: str | None
    user: str | None


def read(files: Any) -> History:
    """Read the tweets of an X archive (``files``: a coach.importers.Files)."""
    tweet_names = sorted(
        (n for n in files.names if POSTS_FILE.match(PurePosixPath(n).name.lower())),
        key=lambda n: (
            "community" in n.lower(),
            n.count("/"),
            int(m.group(1)) if (m := _PART.search(n.lower())) else 0,
            n,
        ),
    )
    history = History("x", files.label)
    account_id = _account_id(files, history)
    notes = _note_tweets(files)

    pending: dict[str, _Pending] = {}
    clock = Clock()

    def from_struct(tweet: Any) -> tuple[str, _Pending | None]:
        tweet_id = tweet.id_str or ("" if tweet.id is None else str(tweet.id))
        entities = tweet.entities
        listed = entities.urls if entities is not None else None
        return tweet_id, _pending(
            tweet_id,
            tweet.created_at,
            tweet.full_text or tweet.text or "",
            _id(tweet.in_reply_to_status_id_str or tweet.in_reply_to_status_id),
            _id(tweet.in_reply_to_user_id_str or tweet.in_reply_to_user_id),
            [u.expanded_url or u.url or "" for u in listed] if listed else [],
            tweet.favorite_count,
            tweet.retweet_count,
            notes,
            clock,
        )

    def from_dict(item: Any) -> tuple[str, _Pending | None] | None:
        raw = _from_dict(item)
        if raw is None:
            return None
        return raw.id, _pending(raw.id, *raw[1:], notes, clock)  # type: ignore[call-arg]

    for name in tweet_names:
        where = files.where(name)
        with files.open(name) as stream:
            try:
                for read_one in xfast.tweets(stream, where, from_dict, from_struct):
                    if read_one is None:
                        history.exclude("unreadable")
                        continue
                    tweet_id, post = read_one
                    tweet_id = tweet_id or f"#{len(pending)}"
                    if post is None:
                        history.exclude("unreadable")
                    elif tweet_id not in pending:  # parts may overlap; an id counts once
                        pending[tweet_id] = post
                        if len(pending) > MAX_POSTS:
                            raise too_many_posts(where)
            except OutOfRange as exc:
                raise ArchiveError(f"{where}: {exc}") from None

    if account_id is None:
        account_id = _inferred_id(pending)
        if account_id is not None:
            history.notes.append("no account.js: the account's id was inferred from replies to its own tweets")
    for item in pending.values():
        post = item.post
        if post.kind == REPLY:
            own = (item.parent is not None and item.parent in pending) or (
                account_id is not None and item.user == account_id
            )
            if own:
                post = post._replace(kind=SELF_REPLY)
        history.posts.append(post)
    return history


def _account_id(files: Any, history: History) -> str | None:
    """The account's id from ``account.js``, else from ``manifest.js`` (``userInfo.accountId``)."""
    name = files.find("account.js")
    if name:
        with files.open(name) as stream:
            account = list(ytd_elements(stream, files.where(name)))
        if account and isinstance(account[0], dict):
            info = account[0].get("account", account[0])
            if isinstance(info, dict) and info.get("accountId"):
                return str(info["accountId"])
    name = files.find("manifest.js")
    if name:
        raw = files.read(name)
        equals = raw.find(b"=")
        try:
            manifest = json.loads(raw[equals + 1 :].strip().rstrip(b";")) if equals >= 0 else None
        except (ValueError, RecursionError):
            manifest = None  # a damaged manifest only costs us this source of the id
        user = manifest.get("userInfo") if isinstance(manifest, dict) else None
        if isinstance(user, dict) and user.get("accountId"):
            return str(user["accountId"])
    history.notes.append("no account.js: replies to yourself are recognised by their parent tweet being in the archive")
    return None


def _inferred_id(pending: dict[str, _Pending]) -> str | None:
    """The account's id as the user most often replied to where the parent is one of its own tweets."""
    seen = Counter(p.user for p in pending.values() if p.user and p.parent is not None and p.parent in pending)
    return seen.most_common(1)[0][0] if seen else None


class Clock:
    """Reads X's times, remembering each day and each time of day it has seen.

    An archive's 200,000 times fall on a few thousand days: the day's midnight and the
    clock's offset are looked up instead of building a datetime from six integers each
    time (2x faster). One Clock per import, so the memory goes with it.
    """

    def __init__(self) -> None:
        self._days: dict[str, datetime | None] = {}
        self._clocks: dict[str, timedelta | None] = {}

    def __call__(self, value: Any) -> datetime | None:
        if type(value) is not str or len(value) != 30 or value[19:26] != " +0000 ":
            return parse_x_time(value)
        day = self._days.get(key := value[4:10] + value[26:30], False)
        if day is False:
            moment = parse_x_time(value)  # may raise OutOfRange, naming the value
            day = self._days[key] = None if moment is None else moment.replace(hour=0, minute=0, second=0)
        clock = self._clocks.get(value[11:19], False)
        if clock is False:
            midnight = parse_x_time("Thu Jan 01 " + value[11:19] + " +0000 1970")
            clock = self._clocks[value[11:19]] = None if midnight is None else midnight - _EPOCH
        if day is None or clock is None:
            return None
        return day + clock


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_x_time(value: Any) -> datetime | None:
    """``"Sat Feb 18 12:33:11 +0000 2023"`` as an aware datetime (by hand: 5× faster than strptime).

    None when unreadable; OutOfRange for a readable date outside the years a post can have.
    """
    if not isinstance(value, str):
        return None
    if len(value) == 30 and value[19] == " " and value[25] == " ":  # the archive's fixed layout: slice
        parts = [value[0:3], value[4:7], value[8:10], value[11:19], value[20:25], value[26:30]]
    else:
        parts = value.split()
    if len(parts) != 6:
        return parse_iso(value)  # some re-exports use ISO times
    try:
        _, month, day, clock, offset, year = parts
        hour, minute, second = clock.split(":")
        if not FIRST_YEAR <= int(year) <= LAST_YEAR:
            raise OutOfRange(f"date {value[:40]!r} is out of range (allowed: years {FIRST_YEAR} to {LAST_YEAR})")
        moment = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=UTC)
        if offset == "+0000":  # what every archive writes; skip the arithmetic
            return moment
        sign = -1 if offset[0] == "-" else 1
        shift = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
    except OutOfRange:
        raise
    except (KeyError, ValueError, IndexError):
        return None
    return moment - sign * shift


class Fields(NamedTuple):
    """What the reader needs of one tweet decoded as a dict (the general path; the fast one reads msgspec's struct)."""

    id: str
    created_at: Any
    text: str
    parent: str | None
    user: str | None
    urls: list[str]
    likes: Any
    reposts: Any


def _from_dict(item: Any) -> Fields | None:
    tweet = item.get("tweet", item) if isinstance(item, dict) else None
    if not isinstance(tweet, dict):
        return None
    text = tweet.get("full_text") or tweet.get("text") or ""
    entities = tweet.get("entities")
    listed = entities.get("urls") if isinstance(entities, dict) else None
    return Fields(
        str(tweet.get("id_str") or tweet.get("id") or ""),
        tweet.get("created_at"),
        text if isinstance(text, str) else "",
        _id(tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id")),
        _id(tweet.get("in_reply_to_user_id_str") or tweet.get("in_reply_to_user_id")),
        [u.get("expanded_url") or u.get("url") or "" for u in listed or () if isinstance(u, dict)],
        tweet.get("favorite_count"),
        tweet.get("retweet_count"),
    )


def _pending(
    tweet_id: str,
    created_at: Any,
    text: str,
    parent: str | None,
    user: str | None,
    urls: list[str],
    likes_raw: Any,
    reposts_raw: Any,
    notes: dict[str, tuple[str, list[str]]],
    clock: Clock,
) -> _Pending | None:
    """The tweet's post (kind still REPLY for any reply), or None when its time is unreadable."""
    try:
        when = clock(created_at)
    except OutOfRange as exc:
        raise OutOfRange(f"tweet {tweet_id[:30]}: {exc}") from None
    if when is None:
        return None
    if text.startswith("RT @"):
        return _Pending(Post(when, REPOST), None, None)
    kind = REPLY if parent or user else ORIGINAL
    note = (notes.get(tweet_id) or notes.get(when.isoformat())) if notes else None
    if note:
        text = note[0] or text
        urls = urls + note[1]
    if not urls and ("://" in text or "www." in text):
        urls = find_urls(text)  # before mid-2011 links were only in the text
    has_link = bool(urls) and any((host := url_host(u)) and host not in X_HOSTS for u in urls if u)
    likes, reposts = _count(likes_raw), _count(reposts_raw)
    engagement = None if likes is None and reposts is None else (likes or 0) + (reposts or 0)
    return _Pending(Post(when, kind, has_link, has_question(text), engagement, likes, reposts), parent, user)


def _id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _count(value: Any) -> int | None:
    """A count as the archive writes it (a string of digits, sometimes a number); None if absent or not a count."""
    if type(value) is str:
        return int(value) if value.isdigit() and len(value) <= 12 else None  # no 5,000-digit "counts"
    if type(value) is int:
        return value if value >= 0 else None
    return None


def _note_tweets(files: Any) -> dict[str, tuple[str, list[str]]]:
    """Long posts' full text and URLs, keyed by tweet id when given, else by creation time.

    Archives differ: some give ``noteTweet.tweetId`` with ``noteTweetResults``, others only
    ``noteTweetId``, ``createdAt`` and ``core`` (matched to the tweet posted at the same second).
    """
    name = files.find("note-tweet.js")
    if not name:
        return {}
    out: dict[str, tuple[str, list[str]]] = {}
    with files.open(name) as stream:
        for item in ytd_elements(stream, files.where(name)):
            note = item.get("noteTweet") if isinstance(item, dict) else None
            if not isinstance(note, dict):
                continue
            body = note.get("core") or note.get("noteTweetResults") or {}
            if not isinstance(body, dict):
                continue
            text = body.get("text") if isinstance(body.get("text"), str) else ""
            raw_urls = body.get("urls") or (body.get("entitySet") or {}).get("urls") or []
            urls = [
                u.get("expandedUrl") or u.get("expanded_url") or u.get("url") or "" if isinstance(u, dict) else str(u)
                for u in raw_urls
            ]
            if note.get("tweetId"):
                out[str(note["tweetId"])] = (text, urls)
            try:
                created = parse_iso(note.get("createdAt"))
            except OutOfRange:
                created = None  # only a key for matching; the tweet's own date is checked
            if created is not None:
                out[created.replace(microsecond=0).isoformat()] = (text, urls)
    return out
