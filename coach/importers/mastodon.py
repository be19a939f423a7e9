"""Mastodon archive reader: ``outbox.json`` (ActivityStreams), from the zip or alone.

``outbox.json`` is an ``OrderedCollection`` whose ``orderedItems`` are activities
(ANCHORS.md §5.2):

- ``Create`` wraps an own post (``object`` is a Note, or a Question for a poll);
- ``Announce`` is a boost (a repost); its ``object`` is only a URI;
- ``object.inReplyTo`` marks a reply; it is a reply to yourself when it points under your own
  actor URI or to a post in the same outbox;
- visibility is in ``to``/``cc``: the Public collection (public, unlisted) or your followers
  collection (followers-only) make a post; anything else is a direct message, excluded, and
  so is a post whose ``to`` and ``cc`` are both empty (a direct post without recipients).
  A post with no ``to``/``cc`` keys at all (some servers' exports) counts;
- links are ``<a href>`` in the HTML ``content``, except mentions and hashtags (anchor class
  ``mention``/``hashtag``, or an href listed in ``tag[]``), the ``RE:`` line of a quote, and
  links to posts on the fediverse (``/@user/123``, ``/users/u/statuses/123``) or to your own
  instance.

The outbox is streamed one activity at a time (coach.importers.stream). Some real exports
carry the ``"orderedItems"`` key twice (first ``[]``, then the list): the activities of every
occurrence are read, each activity id once.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from html import unescape
from typing import Any
from urllib.parse import urlsplit

from coach.importers.derive import (
    MAX_POSTS,
    ORIGINAL,
    QUESTION_MARKS,
    REPLY,
    REPOST,
    SELF_REPLY,
    ArchiveError,
    History,
    OutOfRange,
    Post,
    has_question,
    parse_iso,
    too_many_posts,
    url_host,
)
from coach.importers.stream import object_array

_OUTBOX = "a Mastodon outbox (an ActivityStreams OrderedCollection with orderedItems)"
PUBLIC = frozenset({"https://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"})
_ANCHOR = re.compile(r"<a\b([^>]*)>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_QUOTE_LINE = re.compile(
    r"<(p|span)\b[^>]*class=[\"'][^\"']*quote-inline[^\"']*[\"'][^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL
)
_TAG = re.compile(r"<[^>]+>")
# Paths of posts on fediverse servers: Mastodon (/@u/123, /users/u/statuses/123, 4.4's
# /ap/users/123/statuses/456), GoToSocial (/@u/statuses/01H...), Pleroma/Akkoma (/notice/…,
# /objects/…), Misskey (/notes/…), Pixelfed (/p/u/123, /i/web/post/123), Lemmy (/post/123, /comment/123).
_FEDI_POST = re.compile(
    r"^/(@[^/]+/\d+|@[^/]+/statuses/\w+|(ap/)?users/[^/]+/statuses/\w+|notice/\w+|notes/\w+|objects/[\w-]+"
    r"|p/[^/]+/\d+|i/web/post/\d+|post/\d+|comment/\d+)/?$"
)


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
    history = History("mastodon", files.label)
    actor = _actor_file(files)
    actors: Counter[str] = Counter()
    own_ids: set[str] = set()
    seen: set[str] = set()
    pending: list[tuple[Post, str | None, frozenset[str]]] = []  # (post, parent URI, link hosts)
    fields: dict[str, Any] = {}
    with files.open(name) as stream:
        for item in object_array(stream, where, "orderedItems", fields, _OUTBOX):
            activity_id = item.get("id") if isinstance(item, dict) else None
            if isinstance(activity_id, str):
                if activity_id in seen:
                    continue  # the same activity under a repeated "orderedItems" key counts once
                seen.add(activity_id)
            if isinstance(item, dict) and isinstance(item.get("actor"), str):
                actors[item["actor"]] += 1
            try:
                read_one = _post(item, history)
            except OutOfRange as exc:
                post_id = _post_id(item)
                raise ArchiveError(f"{where}: post {post_id}: {exc}") from None
            if read_one is not None:
                post, parent, object_id, hosts = read_one
                if object_id:
                    own_ids.add(object_id)
                pending.append((post, parent, hosts))
                if len(pending) > MAX_POSTS:
                    raise too_many_posts(where)
    if not fields["orderedItems"]:
        raise ArchiveError(f"{where}: JSON, but not {_OUTBOX}; give outbox.json from the Mastodon archive")
    if actor is None and actors:
        actor = actors.most_common(1)[0][0]
    prefix = actor.rstrip("/") + "/" if actor else None
    own_host = url_host(actor) if actor else ""
    for post, parent, hosts in pending:
        if parent is not None and (parent in own_ids or (prefix is not None and parent.startswith(prefix))):
            post = post._replace(kind=SELF_REPLY)
        if hosts and (len(hosts) > 1 or own_host not in hosts):  # a link to your own instance stays home
            post = post._replace(has_link=True)
        history.posts.append(post)
    return history


def _post_id(item: Any) -> str:
    """How a message names a post: its id (a URL), shortened."""
    obj = item.get("object") if isinstance(item, dict) else None
    ident = (obj.get("id") if isinstance(obj, dict) else None) or (item.get("id") if isinstance(item, dict) else None)
    return str(ident)[:120] if ident else "without an id"


def _actor_file(files: Any) -> str | None:
    """The account's actor URI from actor.json, or None."""
    name = files.find("actor.json")
    if name is None:
        return None
    try:
        actor = json.loads(files.read(name))
    except (ValueError, RecursionError):
        return None  # a damaged actor.json only costs us this source of the actor
    if isinstance(actor, dict) and isinstance(actor.get("id"), str):
        return actor["id"]
    return None


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


def _post(item: Any, history: History) -> tuple[Post, str | None, str | None, frozenset[str]] | None:
    """(post, parent URI of a reply, the object's id, hosts of its candidate links), or None if excluded.

    Whether a reply is to yourself and a link leaves your instance are settled once the whole
    outbox (own ids, the actor) is known.
    """
    if not isinstance(item, dict):
        history.exclude("unreadable")
        return None
    kind = item.get("type")
    if kind == "Announce":
        when = parse_iso(item.get("published"))
        if when is None:
            history.exclude("unreadable")
            return None
        return Post(when, REPOST), None, None, frozenset()
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
    holder = obj if any(key in obj for key in ("to", "cc")) else item
    addressed = any(key in holder for key in ("to", "cc"))
    audience = _audience(holder)
    if addressed and not any(a in PUBLIC or a.endswith("/followers") for a in audience):
        # Addressed only to people, or to nobody at all (a direct post without recipients): not a post.
        history.exclude("direct_messages")
        return None
    parent = obj.get("inReplyTo")
    if isinstance(parent, dict):
        parent = parent.get("id")
    parent = parent if isinstance(parent, str) and parent else None
    hosts, text = _links_and_text(obj)
    question = obj.get("type") == "Question" or has_question(text)  # a poll asks by definition
    object_id = obj.get("id") if isinstance(obj.get("id"), str) else None
    return Post(when, REPLY if parent else ORIGINAL, False, question), parent, object_id, hosts


def _links_and_text(obj: dict[str, Any]) -> tuple[frozenset[str], str]:
    """(hosts of the links that leave the fediverse unless they are your instance, the text outside links)."""
    content = obj.get("content")
    if not isinstance(content, str):
        content = ""
    html = _QUOTE_LINE.sub(" ", content) if "quote-inline" in content else content
    hosts: set[str] = set()
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
        host = _external_host(href)
        if host:
            hosts.add(host)
    # The text outside links, only when it might hold a question (saves time on 100,000 posts).
    maybe_question = "&#" in html or any(mark in html for mark in QUESTION_MARKS)
    text = unescape(_TAG.sub(" ", _ANCHOR.sub(" ", html))) if maybe_question else ""
    return frozenset(hosts), text


def _external_host(href: str) -> str:
    """The host of a link that is not a post on the fediverse ('' for a post or no host)."""
    host = url_host(href)
    if not host:
        return ""
    try:
        path = urlsplit(href).path
    except ValueError:
        return ""
    return "" if _FEDI_POST.match(path) else host
