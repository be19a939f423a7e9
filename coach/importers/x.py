"""X / Twitter archive reader: ``data/tweets.js`` (+ parts, ``account.js``, ``note-tweet.js``).

The archive's data files are JavaScript, not JSON: ``window.YTD.tweets.part0 = [...]``. We
strip everything up to the first ``=`` and parse the rest. Each element is
``{"tweet": {...}}`` with ids and counts as strings. Classification (ANCHORS.md §5.1):

- repost: ``full_text`` starts with ``"RT @"`` (the archive's ``retweeted`` flag is always false);
- reply: ``in_reply_to_status_id_str`` or ``in_reply_to_user_id_str`` is set; it is a reply to
  yourself (a thread) when the user id is the account's (``account.js``) or when the parent
  tweet is in the archive (which also works when ``tweets.js`` comes alone);
- external link: an ``entities.urls[].expanded_url`` (or a note tweet's URL) whose host is
  not X's own (a quote tweet links to ``x.com/…/status/…``; photos are ``entities.media``);
- engagement: ``favorite_count + retweet_count`` as of the export, for the best hours.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

from coach.importers.derive import (
    ORIGINAL,
    REPLY,
    REPOST,
    SELF_REPLY,
    ArchiveError,
    History,
    Post,
    has_question,
    parse_iso,
    url_host,
)

X_HOSTS = frozenset(
    {"twitter.com", "x.com", "mobile.twitter.com", "mobile.x.com", "t.co", "pic.twitter.com", "pic.x.com"}
)
_MONTHS = {
    m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)
}
_PART = re.compile(r"-part(\d+)\.js$")


def read(files: Any) -> History:
    """Read the tweets of an X archive (``files``: a coach.importers.Files)."""
    tweet_names = sorted(
        (n for n in files.names if re.match(r"^tweets?(-part\d+)?\.js$", PurePosixPath(n).name.lower())),
        key=lambda n: (n.count("/"), int(m.group(1)) if (m := _PART.search(n.lower())) else 0, n),
    )
    history = History("x", files.label)
    account_id = None
    account_name = files.find("account.js")
    if account_name:
        account = parse_ytd(files.read(account_name), files.where(account_name))
        if account and isinstance(account[0], dict):
            info = account[0].get("account", account[0])
            account_id = str(info.get("accountId") or "") or None
    else:
        history.notes.append(
            "no account.js: replies to yourself are recognised by their parent tweet being in the archive"
        )

    tweets: dict[str, dict[str, Any]] = {}
    for name in tweet_names:
        for item in parse_ytd(files.read(name), files.where(name)):
            tweet = item.get("tweet", item) if isinstance(item, dict) else None
            if not isinstance(tweet, dict):
                history.exclude("unreadable")
                continue
            tweet_id = str(tweet.get("id_str") or tweet.get("id") or "")
            tweets[tweet_id or f"#{len(tweets)}"] = tweet  # parts may overlap; an id counts once

    notes = _note_tweets(files)
    for tweet_id, tweet in tweets.items():
        post = _post(tweet_id, tweet, tweets, account_id, notes)
        if post is None:
            history.exclude("unreadable")
        else:
            history.posts.append(post)
    return history


def parse_ytd(raw: bytes, where: str) -> list[Any]:
    """The list in an archive data file (``window.YTD.<name>.partN = [...]``)."""
    head = raw[:256].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"window.YTD."):
        raise ArchiveError(f"{where}: not an X archive data file (it should start with `window.YTD.tweets.part0 = [`)")
    equals = raw.find(b"=")
    if equals < 0:
        raise ArchiveError(
            f"{where}: the data is cut off or corrupt (no `=` after `window.YTD...`); download the archive again"
        )
    body = raw[equals + 1 :].strip()
    if body.endswith(b";"):
        body = body[:-1]
    try:
        data = json.loads(body)
    except RecursionError:
        raise ArchiveError(f"{where}: nested too deeply to be an X archive file") from None
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8 text"
        raise ArchiveError(f"{where}: the data is cut off or corrupt ({reason}); download the archive again") from None
    if not isinstance(data, list):
        raise ArchiveError(f"{where}: expected a list after `=`, found a {type(data).__name__}")
    return data


def parse_x_time(value: Any) -> datetime | None:
    """``"Sat Feb 18 12:33:11 +0000 2023"`` as an aware datetime (by hand: 5× faster than strptime)."""
    if not isinstance(value, str):
        return None
    parts = value.split()
    if len(parts) != 6:
        return parse_iso(value)  # some re-exports use ISO times
    try:
        _, month, day, clock, offset, year = parts
        hour, minute, second = clock.split(":")
        moment = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=UTC)
        if offset == "+0000":  # what every archive writes; skip the arithmetic
            return moment
        sign = -1 if offset[0] == "-" else 1
        shift = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
    except (KeyError, ValueError, IndexError):
        return None
    return moment - sign * shift


def _post(
    tweet_id: str,
    tweet: dict[str, Any],
    tweets: dict[str, dict[str, Any]],
    account_id: str | None,
    notes: dict[str, tuple[str, list[str]]],
) -> Post | None:
    when = parse_x_time(tweet.get("created_at"))
    if when is None:
        return None
    text = tweet.get("full_text") or tweet.get("text") or ""
    if not isinstance(text, str):
        text = ""
    if text.startswith("RT @"):
        return Post(when, REPOST)
    parent = _id(tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id"))
    user = _id(tweet.get("in_reply_to_user_id_str") or tweet.get("in_reply_to_user_id"))
    if parent or user:
        own = (account_id is not None and user == account_id) or (parent is not None and parent in tweets)
        kind = SELF_REPLY if own else REPLY
    else:
        kind = ORIGINAL
    entities = tweet.get("entities") or {}
    urls = [u.get("expanded_url") or u.get("url") or "" for u in entities.get("urls") or () if isinstance(u, dict)]
    note = (notes.get(tweet_id) or notes.get(when.isoformat())) if notes else None
    if note:
        text = note[0] or text
        urls += note[1]
    has_link = any(url_host(u) not in X_HOSTS for u in urls if u)
    likes, reposts = _count(tweet.get("favorite_count")), _count(tweet.get("retweet_count"))
    engagement = None if likes is None and reposts is None else (likes or 0) + (reposts or 0)
    return Post(when, kind, has_link, has_question(text), engagement, likes, reposts)


def _id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _count(value: Any) -> int | None:
    """A count as the archive writes it (a string of digits, sometimes a number); None if absent or not a count."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isdigit() and len(value) <= 12:  # no 5,000-digit "counts"
        return int(value)
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
    for item in parse_ytd(files.read(name), files.where(name)):
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
        created = parse_iso(note.get("createdAt"))
        if created is not None:
            out[created.replace(microsecond=0).isoformat()] = (text, urls)
    return out
