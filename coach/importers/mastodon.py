"""Mastodon archive reader: ``outbox.json`` (ActivityStreams), from the zip or alone.

``outbox.json`` is an ``OrderedCollection`` whose ``orderedItems`` are activities
(ANCHORS.md §5.2):

- ``Create`` wraps an own post (``object`` is a Note, or a Question for a poll);
- ``Announce`` is a boost (a repost); its ``object`` is only a URI;
- ``object.inReplyTo`` marks a reply; it is a reply to yourself when it points under your own
  actor URI or to a post in the same outbox;
- visibility is in ``to``/``cc``: the Public collection (public, unlisted) or your followers
  collection (followers-only) make a post; anything else is a direct message, excluded;
- links are ``<a href>`` in the HTML ``content``, except mentions and hashtags (anchor class
  ``mention``/``hashtag``, or an href listed in ``tag[]``), the ``RE:`` line of a quote, and
  links to posts on the fediverse (``/@user/123``, ``/users/u/statuses/123``) or to your own
  instance.

Some real exports carry the ``"orderedItems"`` key twice (first ``[]``, then the list).
Python's json keeps the last one; we also look at the earlier ones and keep the longest.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from html import unescape
from typing import Any
from urllib.parse import urlsplit

from coach.importers.derive import (
    ORIGINAL,
    QUESTION_MARKS,
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

PUBLIC = frozenset({"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"})
_ANCHOR = re.compile(r"<a\b([^>]*)>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_QUOTE_LINE = re.compile(
    r"<(p|span)\b[^>]*class=[\"'][^\"']*quote-inline[^\"']*[\"'][^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL
)
_TAG = re.compile(r"<[^>]+>")
_FEDI_POST = re.compile(r"^/(@[^/]+/\d+|users/[^/]+/statuses/\w+|notice/\w+|notes/\w+|objects/[\w-]+)/?$")


_ATTRIBUTE = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _attributes(text: str) -> dict[str, str]:
    """The quoted attributes of one start tag (Mastodon always quotes them)."""
    return {name.lower(): unescape(double or single) for name, double, single in _ATTRIBUTE.findall(text)}


def read(files: Any) -> History:
    """Read the posts of a Mastodon archive (``files``: a coach.importers.Files)."""
    name = files.find("outbox.json")
    if name is None:
        raise ArchiveError(f"{files.label}: no outbox.json found; expected a Mastodon archive")
    where = files.where(name)
    outbox = load_outbox(files.read(name), where)
    items = outbox["orderedItems"]
    history = History("mastodon", files.label)
    actor = _actor(files, items)
    own_ids = {
        item["object"]["id"]
        for item in items
        if isinstance(item, dict) and isinstance(item.get("object"), dict) and isinstance(item["object"].get("id"), str)
    }
    own_host = url_host(actor) if actor else ""
    for item in items:
        post = _post(item, actor, own_ids, own_host, history)
        if post is not None:
            history.posts.append(post)
    return history


def load_outbox(raw: bytes, where: str) -> dict[str, Any]:
    """The outbox as a dict whose ``orderedItems`` is the longest of any duplicate keys."""
    try:
        text = raw.decode("utf-8-sig")
        data = json.loads(text)
    except UnicodeDecodeError:
        raise ArchiveError(f"{where}: not UTF-8 text; expected a Mastodon outbox.json") from None
    except RecursionError:
        raise ArchiveError(f"{where}: nested too deeply to be a Mastodon outbox") from None
    except json.JSONDecodeError as exc:
        raise ArchiveError(
            f"{where}: not valid JSON ({exc.msg} at line {exc.lineno}); the file may be cut off, download the archive again"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("orderedItems"), list):
        raise ArchiveError(
            f"{where}: JSON, but not a Mastodon outbox (expected an ActivityStreams OrderedCollection with orderedItems); "
            "give outbox.json from the Mastodon archive"
        )
    keys = list(re.finditer(r'"orderedItems"\s*:\s*', text))
    if len(keys) > 1:
        decoder = json.JSONDecoder()
        for match in keys[:-1]:  # the last one is what json.loads kept
            try:
                value, _ = decoder.raw_decode(text, match.end())
            except ValueError:
                continue
            if isinstance(value, list) and len(value) > len(data["orderedItems"]):
                data["orderedItems"] = value
    return data


def _actor(files: Any, items: list[Any]) -> str | None:
    """The account's actor URI: actor.json's id, or the most common ``actor`` of the activities."""
    name = files.find("actor.json")
    if name is not None:
        try:
            actor = json.loads(files.read(name))
            if isinstance(actor, dict) and isinstance(actor.get("id"), str):
                return actor["id"]
        except (ValueError, RecursionError):
            pass  # a damaged actor.json only costs us the fallback below
    seen = Counter(item.get("actor") for item in items if isinstance(item, dict) and isinstance(item.get("actor"), str))
    return seen.most_common(1)[0][0] if seen else None


def _audience(*sources: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for source in sources:
        for key in ("to", "cc"):
            value = source.get(key)
            if isinstance(value, str):
                out.append(value)
            elif isinstance(value, list):
                out += [v for v in value if isinstance(v, str)]
    return out


def _post(item: Any, actor: str | None, own_ids: set[str], own_host: str, history: History) -> Post | None:
    if not isinstance(item, dict):
        history.exclude("unreadable")
        return None
    kind = item.get("type")
    if kind == "Announce":
        when = parse_iso(item.get("published"))
        if when is None:
            history.exclude("unreadable")
            return None
        return Post(when, REPOST)
    if kind != "Create":
        history.exclude("other_activities")
        return None
    obj = item.get("object")
    if not isinstance(obj, dict):
        history.exclude("unreadable")
        return None
    when = parse_iso(obj.get("published")) or parse_iso(item.get("published"))
    if when is None:
        history.exclude("unreadable")
        return None
    audience = _audience(obj) or _audience(item)
    if audience and not any(a in PUBLIC or a.endswith("/followers") for a in audience):
        history.exclude("direct_messages")  # addressed only to people: a DM, not a post
        return None
    parent = obj.get("inReplyTo")
    if isinstance(parent, dict):
        parent = parent.get("id")
    if isinstance(parent, str) and parent:
        own = parent in own_ids or (actor is not None and parent.startswith(actor.rstrip("/") + "/"))
        post_kind = SELF_REPLY if own else REPLY
    else:
        post_kind = ORIGINAL
    has_link, text = _links_and_text(obj, own_host)
    question = obj.get("type") == "Question" or has_question(text)  # a poll asks by definition
    return Post(when, post_kind, has_link, question)


def _links_and_text(obj: dict[str, Any], own_host: str) -> tuple[bool, str]:
    """(has an external link, the text outside links) of a post's HTML content."""
    content = obj.get("content")
    if not isinstance(content, str):
        content = ""
    html = _QUOTE_LINE.sub(" ", content) if "quote-inline" in content else content
    has_link = False
    anchors = _ANCHOR.finditer(html) if "<a" in html or "<A" in html else ()
    skip = (
        {
            tag.get("href")
            for tag in obj.get("tag") or ()
            if isinstance(tag, dict) and tag.get("type") in ("Mention", "Hashtag")
        }
        if anchors
        else set()
    )
    for match in anchors:
        attrs = _attributes(match.group(1))
        href = attrs.get("href", "")
        if (
            href in skip
            or {"mention", "hashtag"} & set(attrs.get("class", "").split())
            or "tag" in attrs.get("rel", "").split()
        ):
            continue
        if _external(href, own_host):
            has_link = True
            break
    # The text outside links, only when it might hold a question (saves time on 100,000 posts).
    maybe_question = "&#" in html or any(mark in html for mark in QUESTION_MARKS)
    text = unescape(_TAG.sub(" ", _ANCHOR.sub(" ", html))) if maybe_question else ""
    return has_link, text


def _external(href: str, own_host: str) -> bool:
    """A link leaving the fediverse: not your instance, not a post on another instance."""
    host = url_host(href)
    if not host or host == own_host:
        return False
    try:
        path = urlsplit(href).path
    except ValueError:
        return False
    return not _FEDI_POST.match(path)
