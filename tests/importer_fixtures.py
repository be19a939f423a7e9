"""Build small exports in the real formats (X, Mastodon, Bluesky CAR, CSV) from one list of truths.

Each :class:`Truth` says what a post *is* (kind, link, question, mentions...). The writers
render the same truths in each platform's own shape, and :func:`expected` counts what the
importer should find, straight from the truths and the definitions in the issue, so a test
never compares the code with its own output.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import libipld

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
ACTOR = "https://masto.example/users/me"
ME_DID, BOB_DID = "did:plc:me000000000000000000000", "did:plc:bob00000000000000000000"
ACCOUNT_ID = "1000"


@dataclass(frozen=True)
class Truth:
    time: datetime  # UTC
    kind: str  # original | self_reply | reply | repost | dm
    link: str | None = None  # external | quote (a link to a post on the same platform) | None
    question: bool = False  # a real question mark in the text
    url_query: bool = False  # a "?" only inside a URL (not a question)
    mention: bool = False
    hashtag: bool = False
    likes: int = 0
    shares: int = 0


def t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, tzinfo=UTC)


STANDARD = [
    Truth(t(4, 9, 0), "original", link="external"),  # sitting A
    Truth(t(4, 9, 10), "self_reply"),  # sitting A: a thread continues
    Truth(t(4, 9, 35), "original", question=True),  # sitting A: 25 min after the last one
    Truth(t(4, 12, 0), "reply", mention=True),
    Truth(t(4, 13, 0), "original", link="quote"),  # sitting B
    Truth(t(4, 14, 0), "repost"),
    Truth(t(5, 8, 0), "original", link="quote", url_query=True, mention=True, hashtag=True),  # sitting C
    Truth(t(5, 8, 45), "original", link="external", question=True),  # sitting D: 45 min later
    Truth(t(5, 20, 0), "reply", question=True),
    Truth(t(5, 21, 0), "dm", question=True),  # Mastodon only: a direct message, excluded
    Truth(t(7, 23, 30), "original", hashtag=True),  # sitting E; the next morning in Tokyo
]
STANDARD_SITTINGS = 5  # A, B, C, D, E above


def expected(truths: list[Truth], tz: str = "UTC", since: date | None = None, dms: bool = False) -> dict:
    """Counts and habits by the issue's definitions, from the truths alone."""
    zone = ZoneInfo(tz)
    rows = [x for x in truths if x.kind != "dm"]
    start_all = min(x.time.astimezone(zone).date() for x in rows)
    if since is not None:
        rows = [x for x in rows if x.time.astimezone(zone).date() >= since]
    dates = [x.time.astimezone(zone).date() for x in rows]
    start = max(since, start_all) if since else min(dates)
    days = (max(dates) - start).days + 1
    originals = [x for x in rows if x.kind in ("original", "self_reply")]
    replies = [x for x in rows if x.kind == "reply"]
    n = len(originals)
    return {
        "posts": len(rows),
        "originals": n,
        "replies": len(replies),
        "reposts": sum(x.kind == "repost" for x in rows),
        "self_replies": sum(x.kind == "self_reply" for x in rows),
        "days": days,
        "posts_per_day": n / days,
        "outreach_per_day": len(replies) / days,
        "link_share": sum(x.link == "external" for x in originals) / n,
        "question_share": sum(x.question for x in originals) / n,
        "direct_messages": sum(x.kind == "dm" for x in truths) if dms else 0,
        "first": min(x.time for x in rows).astimezone(zone),
        "last": max(x.time for x in rows).astimezone(zone),
    }


def _text(x: Truth, links: list[str], mention: str, hashtag: str) -> str:
    words = ["RT @bob: shared" if x.kind == "repost" else "note"]
    if x.mention or x.kind == "reply":
        words.insert(0, mention)
    if x.hashtag:
        words.append(hashtag)
    words += links
    if x.question:
        words.append("what do you think?")
    return " ".join(words)


# --------------------------------------------------------------------------------------
# X
# --------------------------------------------------------------------------------------


def ytd(name: str, data: object) -> bytes:
    return f"window.YTD.{name}.part0 = {json.dumps(data, indent=2)}".encode()


def x_tweets(truths: list[Truth]) -> list[dict]:
    items, previous_own = [], None
    for i, x in enumerate(truths):
        if x.kind == "dm":
            continue  # X keeps DMs in another file
        tweet_id = str(1_700_000_000_000_000_000 + i)
        urls = []
        if x.link == "external":
            urls.append(
                {
                    "url": "https://t.co/ext",
                    "expanded_url": "https://example.com/article?id=7",
                    "display_url": "example.com/article",
                }
            )
        elif x.link == "quote":
            query = "?s=20" if x.url_query else ""
            urls.append(
                {
                    "url": "https://t.co/q",
                    "expanded_url": f"https://twitter.com/bob/status/42{query}",
                    "display_url": "twitter.com/bob/status/42",
                }
            )
        if x.kind == "repost":
            urls = [
                {
                    "url": "https://t.co/r",
                    "expanded_url": "https://elsewhere.example/",
                    "display_url": "elsewhere.example",
                }
            ]
        shown = [u["url"] + ("?s=20" if x.url_query else "") for u in urls]
        tweet = {
            "id_str": tweet_id,
            "id": tweet_id,
            "created_at": x.time.strftime("%a %b %d %H:%M:%S +0000 %Y"),
            "full_text": _text(x, shown, "@bob", "#cats"),
            "favorite_count": str(x.likes),
            "retweet_count": str(x.shares),
            "retweeted": False,
            "entities": {
                "urls": urls,
                "user_mentions": [{"screen_name": "bob", "id_str": "2000"}] if x.mention else [],
                "hashtags": [{"text": "cats"}] if x.hashtag else [],
                "media": [{"type": "photo", "expanded_url": f"https://x.com/me/status/{tweet_id}/photo/1"}],
            },
        }
        if x.kind == "self_reply":
            tweet.update(
                in_reply_to_status_id_str=previous_own, in_reply_to_user_id_str=ACCOUNT_ID, in_reply_to_screen_name="me"
            )
        elif x.kind == "reply":
            tweet.update(in_reply_to_status_id_str="555", in_reply_to_user_id_str="2000", in_reply_to_screen_name="bob")
        if x.kind in ("original", "self_reply"):
            previous_own = tweet_id
        items.append({"tweet": tweet})
    return items


_SIZES = {
    "thumb": {"w": "150", "h": "150", "resize": "crop"},
    "medium": {"w": "1200", "h": "675", "resize": "fit"},
    "small": {"w": "680", "h": "383", "resize": "fit"},
    "large": {"w": "1920", "h": "1080", "resize": "fit"},
}


def x_real_shape(item: dict, *, media: bool = True) -> dict:
    """A tweet from x_tweets() with every field a real 2023 ``tweets.js`` carries (~2 kB of JSON).

    Counts, ids and indices are strings, as in the archive; ``source`` is HTML; media are in
    ``entities.media`` and ``extended_entities.media`` with their sizes; mentions and
    hashtags carry ``indices``. Nothing here changes what the tweet *is*.
    """
    tweet = item["tweet"]
    tweet_id = tweet["id_str"]
    text = tweet["full_text"]
    entities = tweet["entities"]
    for kind in ("urls", "user_mentions", "hashtags"):
        for entity in entities.get(kind, []):
            entity.setdefault("indices", ["0", str(min(len(text), 23))])
    for mention in entities.get("user_mentions", []):
        mention.setdefault("name", "Bob Example")
        mention.setdefault("id", mention.get("id_str", "2000"))
    entities.setdefault("symbols", [])
    entities.pop("media", None)
    shaped = {
        "edit_info": {
            "initial": {
                "editTweetIds": [tweet_id],
                "editableUntil": "2023-02-28T12:00:00.000Z",
                "editsRemaining": "5",
                "isEditEligible": True,
            }
        },
        "retweeted": False,
        "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
        "entities": entities,
        "display_text_range": ["0", str(len(text))],
        "favorite_count": tweet["favorite_count"],
        "id_str": tweet_id,
        "truncated": False,
        "retweet_count": tweet["retweet_count"],
        "id": tweet_id,
        "possibly_sensitive": False,
        "created_at": tweet["created_at"],
        "favorited": False,
        "full_text": text,
        "lang": "en",
    }
    for key in ("in_reply_to_status_id_str", "in_reply_to_user_id_str", "in_reply_to_screen_name"):
        if key in tweet:
            shaped[key] = tweet[key]
            shaped[key.removesuffix("_str")] = tweet[key]
    if media:
        photo = {
            "expanded_url": f"https://twitter.com/me/status/{tweet_id}/photo/1",
            "indices": [str(len(text)), str(len(text) + 24)],
            "url": "https://t.co/photo",
            "media_url": "http://pbs.twimg.com/media/FqAbCdEfGhIjKlM.jpg",
            "id_str": str(int(tweet_id) + 1),
            "id": str(int(tweet_id) + 1),
            "media_url_https": "https://pbs.twimg.com/media/FqAbCdEfGhIjKlM.jpg",
            "sizes": _SIZES,
            "type": "photo",
            "display_url": "pic.twitter.com/photo",
        }
        shaped["entities"]["media"] = [photo]
        shaped["extended_entities"] = {"media": [{**photo, "media_key": "3_" + photo["id_str"]}]}
        shaped["full_text"] = text + " https://t.co/photo"
    return {"tweet": shaped}


def x_tweets_js(items: list[dict], part: int = 0, name: str = "tweets") -> bytes:
    """A data file laid out as X writes it: ``window.YTD.tweets.part0 = [ {`` with ``" : "`` and 2-space indents."""
    body = json.dumps(items, indent=2, separators=(",", " : "), ensure_ascii=False)
    return f"window.YTD.{name}.part{part} = {body}".encode()


def x_archive(
    truths: list[Truth], *, account: bool = True, parts: int = 1, extra: dict[str, bytes] | None = None
) -> dict[str, bytes]:
    """The data files of an X archive: {path in the zip: content}."""
    tweets = x_tweets(truths)
    files: dict[str, bytes] = {"Your archive.html": b"<html></html>", "data/manifest.js": b"window.__THAR_CONFIG = {}"}
    size = -(-len(tweets) // parts)
    for k in range(parts):
        name = "data/tweets.js" if k == 0 else f"data/tweets-part{k}.js"
        body = json.dumps(tweets[k * size : (k + 1) * size], indent=2)
        files[name] = f"window.YTD.tweets.part{k} = {body}".encode()
    if account:
        files["data/account.js"] = ytd(
            "account",
            [{"account": {"accountId": ACCOUNT_ID, "username": "me", "createdAt": "2020-01-01T00:00:00.000Z"}}],
        )
    files["data/tweets_media/1-photo.jpg"] = b"\xff\xd8\xff not really a photo"
    files.update(extra or {})
    return files


# --------------------------------------------------------------------------------------
# Mastodon
# --------------------------------------------------------------------------------------


def _masto_html(x: Truth) -> tuple[str, list[dict]]:
    parts, tags = [], []
    if x.mention or x.kind in ("reply", "dm"):
        parts.append(
            '<span class="h-card" translate="no"><a href="https://other.example/@bob" class="u-url mention">@<span>bob</span></a></span>'
        )
        tags.append({"type": "Mention", "href": "https://other.example/users/bob", "name": "@bob@other.example"})
    parts.append("note")
    if x.hashtag:
        parts.append(
            '<a href="https://masto.example/tags/cats" class="mention hashtag" rel="tag">#<span>cats</span></a>'
        )
        tags.append({"type": "Hashtag", "href": "https://masto.example/tags/cats", "name": "#cats"})
    if x.link == "external":
        parts.append(
            '<a href="https://example.com/article?id=7" target="_blank" rel="nofollow noopener noreferrer" translate="no">'
            '<span class="invisible">https://</span><span class="">example.com/article?id=7</span><span class="invisible"></span></a>'
        )
    elif x.link == "quote":
        query = "?utm=1" if x.url_query else ""
        parts.append(
            f'<a href="https://other.example/@bob/109876{query}" target="_blank" rel="nofollow noopener noreferrer">other.example/@bob/109876{query}</a>'
        )
    if x.question:
        parts.append("what do you think?")
    return "<p>" + " ".join(parts) + "</p>", tags


def mastodon_items(truths: list[Truth]) -> list[dict]:
    items, previous_own = [], None
    for i, x in enumerate(truths):
        published = x.time.strftime("%Y-%m-%dT%H:%M:%SZ")
        status = f"{ACTOR}/statuses/{110_000_000 + i}"
        if x.kind == "repost":
            items.append({
                "id": f"{status}/activity", "type": "Announce", "actor": ACTOR, "published": published,
                "to": [PUBLIC], "cc": [f"{ACTOR}/followers"], "object": "https://other.example/users/bob/statuses/777",
            })  # fmt: skip
            continue
        if x.kind == "dm":
            to, cc = ["https://other.example/users/bob"], []
        elif i % 3 == 1:
            to, cc = [f"{ACTOR}/followers"], [PUBLIC]  # unlisted
        elif i % 3 == 2:
            to, cc = [f"{ACTOR}/followers"], []  # followers-only: still a post
        else:
            to, cc = [PUBLIC], [f"{ACTOR}/followers"]
        content, tags = _masto_html(x)
        reply_to = (
            previous_own
            if x.kind == "self_reply"
            else "https://other.example/users/bob/statuses/555"
            if x.kind == "reply"
            else None
        )
        obj = {
            "id": status, "type": "Note", "summary": None, "inReplyTo": reply_to, "published": published,
            "url": f"https://masto.example/@me/{110_000_000 + i}", "attributedTo": ACTOR, "to": to, "cc": cc,
            "sensitive": False, "content": content, "contentMap": {"en": content}, "attachment": [], "tag": tags,
        }  # fmt: skip
        items.append(
            {
                "id": f"{status}/activity",
                "type": "Create",
                "actor": ACTOR,
                "published": published,
                "to": to,
                "cc": cc,
                "object": obj,
            }
        )
        if x.kind in ("original", "self_reply"):
            previous_own = status
    return items


def mastodon_outbox(
    truths: list[Truth], *, duplicate_key: str | None = "empty_first", items: list[dict] | None = None
) -> bytes:
    """outbox.json text; ``duplicate_key`` reproduces the real export's repeated "orderedItems"."""
    items = mastodon_items(truths) if items is None else items
    head = f'{{"@context": ["https://www.w3.org/ns/activitystreams"], "id": "outbox.json", "type": "OrderedCollection", "totalItems": {len(items)}, '
    body = json.dumps(items, indent=1)
    if duplicate_key == "empty_first":
        return (head + f'"orderedItems": [], "orderedItems": {body}}}').encode()
    if duplicate_key == "empty_last":
        return (head + f'"orderedItems": {body}, "orderedItems": []}}').encode()
    return (head + f'"orderedItems": {body}}}').encode()


def mastodon_archive(truths: list[Truth]) -> dict[str, bytes]:
    return {
        "outbox.json": mastodon_outbox(truths),
        "actor.json": json.dumps({"id": ACTOR, "type": "Person", "preferredUsername": "me"}).encode(),
        "likes.json": b'{"type": "OrderedCollection", "orderedItems": []}',
        "media_attachments/files/1.jpg": b"\xff\xd8",
    }


# --------------------------------------------------------------------------------------
# Bluesky: DAG-CBOR blocks by libipld, CAR v1 framing by hand
# --------------------------------------------------------------------------------------


def tar_gz(files: dict[str, bytes]) -> bytes:
    """These files as a .tar.gz archive in memory (how some Mastodon exports arrive)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def cid_of(data: bytes) -> bytes:
    """CIDv1, dag-cbor (0x71), sha2-256 (0x12, 32 bytes)."""
    return b"\x01\x71\x12\x20" + hashlib.sha256(data).digest()


def link(cid: bytes) -> bytes:
    """A CID as DAG-CBOR tag 42: bytes with a 0x00 multibase prefix."""
    return b"\xd8\x2a\x58" + bytes([len(cid) + 1]) + b"\x00" + cid


def car(blocks: list[bytes], root: bytes | None = None) -> bytes:
    """CAR v1: varint-prefixed header {roots, version: 1}, then varint(len(cid)+len(data)) + cid + data."""
    cids = [cid_of(b) for b in blocks]
    root_cid = cid_of(root) if root is not None else cids[0]
    header = b"\xa2\x65roots\x81" + link(root_cid) + b"\x67version\x01"  # keys in DAG-CBOR order
    out = io.BytesIO()
    out.write(varint(len(header)) + header)
    for cid, data in ([(root_cid, root)] if root is not None else []) + list(zip(cids, blocks, strict=True)):
        out.write(varint(len(cid) + len(data)) + cid + data)
    return out.getvalue()


def bluesky_records(truths: list[Truth]) -> list[dict]:
    records, previous_own = [], None
    for i, x in enumerate(truths):
        created = x.time.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if x.kind == "dm":
            continue  # Bluesky DMs are not in the repository
        if x.kind == "repost":
            records.append({"$type": "app.bsky.feed.repost", "createdAt": created,
                            "subject": {"uri": f"at://{BOB_DID}/app.bsky.feed.post/3kbob", "cid": "bafyreib"}})  # fmt: skip
            continue
        uri = f"at://{ME_DID}/app.bsky.feed.post/3k{i:04d}"
        record: dict = {"$type": "app.bsky.feed.post", "createdAt": created, "langs": ["en"]}
        facets = []
        links = []
        if x.link == "external" and i % 2 == 0:
            links.append("https://example.com/article?id=7")
            facets.append(
                {
                    "index": {"byteStart": 0, "byteEnd": 5},
                    "features": [{"$type": "app.bsky.richtext.facet#link", "uri": links[0]}],
                }
            )
        elif x.link == "external":
            record["embed"] = {
                "$type": "app.bsky.embed.external",
                "external": {"uri": "https://example.com/a", "title": "A", "description": ""},
            }
        elif x.link == "quote":
            record["embed"] = {
                "$type": "app.bsky.embed.record",
                "record": {"uri": f"at://{BOB_DID}/app.bsky.feed.post/3kq", "cid": "bafyreiq"},
            }
            if x.url_query:
                links.append("https://bsky.app/profile/bob.example/post/3kq?ref=1")
                facets.append(
                    {
                        "index": {"byteStart": 0, "byteEnd": 5},
                        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": links[0]}],
                    }
                )
        if x.mention:
            facets.append(
                {
                    "index": {"byteStart": 0, "byteEnd": 4},
                    "features": [{"$type": "app.bsky.richtext.facet#mention", "did": BOB_DID}],
                }
            )
        if x.hashtag:
            facets.append(
                {
                    "index": {"byteStart": 0, "byteEnd": 5},
                    "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "cats"}],
                }
            )
        if facets:
            record["facets"] = facets
        record["text"] = _text(x, links, "@bob.example", "#cats")
        if x.kind == "self_reply":
            ref = {"uri": previous_own, "cid": "bafyreiown"}
            record["reply"] = {"root": ref, "parent": ref}
        elif x.kind == "reply":
            ref = {"uri": f"at://{BOB_DID}/app.bsky.feed.post/3kbob", "cid": "bafyreibob"}
            record["reply"] = {"root": ref, "parent": ref}
        if x.kind in ("original", "self_reply"):
            previous_own = uri
        records.append(record)
    return records


def _as_link(block: bytes) -> bytes:
    return libipld.decode_dag_cbor(link(cid_of(block)))  # libipld gives links back as CID bytes


def mst_nodes(entries: list[tuple[str, bytes]]) -> tuple[bytes, list[bytes]]:
    """A two-level Merkle Search Tree over (key, record block): (root node, every node block).

    Keys are sorted and prefix-compressed as the repository format writes them
    (``{"l": left subtree, "e": [{"p", "k", "v", "t"}]}``); the first half of the keys sits
    in the root's left subtree, so a reader must follow links to find them.
    """

    def node(items: list[tuple[str, bytes]], left: bytes | None) -> bytes:
        out, previous = [], b""
        for key, block in items:
            raw = key.encode()
            shared = 0
            while shared < min(len(raw), len(previous)) and raw[shared] == previous[shared]:
                shared += 1
            out.append({"k": raw[shared:], "p": shared, "t": None, "v": _as_link(block)})
            previous = raw
        return libipld.encode_dag_cbor({"e": out, "l": _as_link(left) if left is not None else None})

    items = sorted(entries)
    half = len(items) // 2
    left = node(items[:half], None) if half else None
    root = node(items[half:], left)
    return root, [n for n in (left, root) if n is not None]


def bluesky_car(
    truths: list[Truth],
    *,
    did: str | None = ME_DID,
    records: list[dict] | None = None,
    deleted: list[dict] | None = None,
) -> bytes:
    """A repository export: a signed-commit root, the MST, the records, and blocks we must ignore.

    ``deleted``: records whose blocks are left in the CAR but that the tree no longer reaches.
    """
    records = bluesky_records(truths) if records is None else records
    noise = [
        {"$type": "app.bsky.graph.follow", "subject": BOB_DID, "createdAt": "2024-03-01T00:00:00.000Z"},
        {
            "$type": "app.bsky.feed.like",
            "subject": {"uri": f"at://{BOB_DID}/app.bsky.feed.post/3kbob", "cid": "bafyreib"},
            "createdAt": "2024-03-02T00:00:00.000Z",
        },
        {"$type": "app.bsky.actor.profile", "displayName": "Me"},
    ]
    keyed = []
    for i, record in enumerate(records + noise):
        collection = record.get("$type", "app.bsky.feed.post")
        rkey = "self" if collection == "app.bsky.actor.profile" else f"3k{i:06d}"
        keyed.append((f"{collection}/{rkey}", libipld.encode_dag_cbor(record)))
    blocks = [block for _, block in keyed] + [libipld.encode_dag_cbor(r) for r in deleted or []]
    root, nodes = mst_nodes(keyed)
    blocks += nodes
    if did is None:
        return car(blocks)
    commit = libipld.encode_dag_cbor(
        {"did": did, "version": 3, "data": _as_link(root), "rev": "3kabc", "prev": None, "sig": b"signature"}
    )
    return car(blocks, root=commit)


# --------------------------------------------------------------------------------------
# CSV and zips
# --------------------------------------------------------------------------------------


def csv_history(truths: list[Truth], *, with_repost_column: bool = True) -> bytes:
    lines = ["timestamp,is_reply,has_link,text" + (",is_repost" if with_repost_column else "")]
    for x in truths:
        if x.kind == "dm" or (x.kind == "repost" and not with_repost_column):
            continue
        text = _text(x, ["https://example.com/a"] if x.link == "external" else [], "@bob", "#cats")
        row = f'{x.time.isoformat()},{"true" if x.kind == "reply" else "false"},{"yes" if x.link == "external" else "no"},"{text}"'
        lines.append(row + ("," + ("1" if x.kind == "repost" else "0") if with_repost_column else ""))
    return ("\n".join(lines) + "\n").encode()


def zip_bytes(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def write_folder(root, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def spread(start: datetime, count: int, minutes: float) -> list[datetime]:
    return [start + timedelta(minutes=minutes * k) for k in range(count)]
