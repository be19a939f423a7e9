"""Bluesky repository export reader: ``repo.car`` (CAR v1 of DAG-CBOR blocks).

The CAR framing (varint lengths, CIDs) is read here into an index; each block's DAG-CBOR
is decoded by libipld only when the walk needs it, so likes, follows and other records are
never built as objects. The root block is the signed commit, whose ``did`` is the account and whose ``data`` is the root
of the Merkle Search Tree: only records that tree reaches under ``app.bsky.feed.post/`` and
``app.bsky.feed.repost/`` are counted, since a CAR can also carry leftover blocks of deleted
records (counted as ``deleted_records`` in the evidence). Without a commit, every block of a
post's or repost's ``$type`` is taken, with a note (ANCHORS.md §5.3). A reply is to yourself
when its parent's ``at://`` URI names the account's DID. External links are link facets, the
legacy ``entities`` of 2022–early 2023 posts and external embeds; a quote is an
``app.bsky.embed.record`` embed and a ``bsky.app`` or ``at://`` link is a post on Bluesky,
so neither counts. A ``?`` inside the text a link shows is not a question. Follows, likes
and other collections are ignored; a post whose ``createdAt`` is outside the years a post
can have (any client can write any date) is left out as ``date_out_of_range``.
"""

from __future__ import annotations

from typing import Any

import libipld

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

POST_TYPE, REPOST_TYPE = "app.bsky.feed.post", "app.bsky.feed.repost"
LINK_FACET, EXTERNAL_EMBED = "app.bsky.richtext.facet#link", "app.bsky.embed.external"
BLUESKY_HOSTS = frozenset({"bsky.app", "staging.bsky.app", "main.bsky.dev", "go.bsky.app"})


def read(files: Any) -> History:
    """Read the posts of a Bluesky repository export (``files``: a coach.importers.Files)."""
    cars = sorted((n for n in files.names if n.lower().endswith(".car")), key=lambda n: (n.count("/"), n))
    name = cars[0]
    where = files.where(name)
    header, blocks = decode(files.read(name, text=False), where)
    history = History("bluesky", files.label)
    try:
        return _read_blocks(header, blocks, history, where)
    except _BadBlock as exc:
        raise ArchiveError(
            f"{where}: not a readable Bluesky repository export (block {exc}); expected the repo.car from "
            "Settings → Export my data, complete (it may be cut off)"
        ) from None


def _read_blocks(header: dict[str, Any], blocks: Blocks, history: History, where: str) -> History:
    commit = _commit(header, blocks)
    did = commit.get("did") if commit is not None and isinstance(commit.get("did"), str) else None
    if did is None:
        history.notes.append("no repository commit with the account's DID: every reply counts as a reply to others")
    if commit is not None:
        reachable, missing = _records(commit.get("data"), blocks)
        wanted = {cid for key, cid in reachable if key.startswith((POST_TYPE + "/", REPOST_TYPE + "/"))}
        records = [blocks.get(cid) for cid in wanted]
        missing += sum(1 for record in records if record is None)
        left_over = sum(
            1
            for cid in blocks.with_text(POST_TYPE, REPOST_TYPE)
            if cid not in wanted and _type(blocks.get(cid)) in (POST_TYPE, REPOST_TYPE)
        )
        if left_over:
            history.exclude("deleted_records", left_over)  # blocks the commit no longer reaches
        if missing:
            history.notes.append(
                f"{missing:,} blocks of the repository are missing from the file; their posts are not counted"
            )
    else:
        # No commit to walk from: every block that looks like a post (deleted ones included).
        records = [blocks.get(cid) for cid in blocks.with_text(POST_TYPE, REPOST_TYPE)]
        history.notes.append("no repository commit: every post-shaped block is counted, deleted ones included")
    for record in records:
        if not isinstance(record, dict):
            continue
        kind = record.get("$type")
        try:
            if kind == POST_TYPE:
                post = _post(record, did)
            elif kind == REPOST_TYPE:
                when = parse_iso(record.get("createdAt"))
                post = Post(when, REPOST) if when else None
            else:
                continue
        except OutOfRange:
            # Any client can write any createdAt (posts "from 1970" or 2200 exist): leave them out.
            history.exclude("date_out_of_range")
            continue
        if post is None:
            history.exclude("unreadable")
        else:
            history.posts.append(post)
            if len(history.posts) > MAX_POSTS:
                raise too_many_posts(where)
    return history


def _type(block: Any) -> Any:
    return block.get("$type") if isinstance(block, dict) else None


def _records(root: Any, blocks: Blocks) -> tuple[list[tuple[str, bytes]], int]:
    """(key, record CID) of every record in the Merkle Search Tree under ``root``, and the nodes missing.

    A node is ``{"l": left subtree, "e": [{"p": shared prefix length, "k": key suffix,
    "v": record, "t": subtree to the right}]}``; keys are ``collection/rkey``. Only what the
    commit reaches is the repository: a CAR may also carry blocks of deleted records.
    """
    out: list[tuple[str, bytes]] = []
    missing = 0
    stack = [root]
    visited: set[bytes] = set()
    while stack:
        cid = stack.pop()
        if not isinstance(cid, bytes) or cid in visited:
            continue
        visited.add(cid)
        node = blocks.get(cid)
        if not isinstance(node, dict):
            missing += 1
            continue
        stack.append(node.get("l"))
        key = b""
        for entry in node.get("e") or ():
            if not isinstance(entry, dict):
                continue
            prefix, suffix = entry.get("p"), entry.get("k")
            if isinstance(prefix, int) and isinstance(suffix, bytes):
                key = key[: max(prefix, 0)] + suffix
            if isinstance(entry.get("v"), bytes):
                out.append((key.decode("utf-8", "replace"), entry["v"]))
            stack.append(entry.get("t"))
    return out, missing


class _BadBlock(ValueError):
    """A block whose DAG-CBOR libipld cannot decode; ``str()`` is its position."""


class Blocks:
    """The blocks of a CAR v1, indexed by CID and decoded only when asked for.

    A repository holds far more likes, follows and tree nodes than posts; decoding only the
    commit, the tree and the post records keeps memory near the size of the file (libipld's
    decode_car builds every block as Python objects: ~5x the file).
    """

    def __init__(self, raw: bytes, spans: dict[bytes, int]):
        self._raw = raw
        self._spans = spans  # CID -> start << 32 | end, both byte offsets of the block's data

    def __len__(self) -> int:
        return len(self._spans)

    def get(self, cid: Any) -> Any:
        span = self._spans.get(cid) if isinstance(cid, bytes) else None
        if span is None:
            return None
        start, end = span >> 32, span & 0xFFFFFFFF
        try:
            return libipld.decode_dag_cbor(self._raw[start:end])
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # ValueError, RecursionError, or a pyo3 panic on hostile input
            raise _BadBlock(f"at byte {start:,}") from None

    def with_text(self, *needles: str) -> list[bytes]:
        """CIDs of the blocks holding any of the strings as a whole DAG-CBOR text value.

        A cheap filter before decoding: a post's ``$type`` matches, a like whose subject URI
        merely contains ``app.bsky.feed.post/`` does not (the CBOR length byte differs).
        """
        wanted = [libipld.encode_dag_cbor(n) for n in needles]
        out = []
        for cid, span in self._spans.items():
            block = self._raw[span >> 32 : span & 0xFFFFFFFF]
            if any(n in block for n in wanted):
                out.append(cid)
        return out


def _varint(raw: bytes, pos: int, where: str) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(raw) or shift > 63:
            raise ArchiveError(
                f"{where}: not a readable Bluesky repository export (cut off or corrupt at byte {pos:,})"
            )
        byte = raw[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7


def _cid_end(raw: bytes, pos: int, end: int, where: str) -> int:
    """Where the CID starting at ``pos`` ends: CIDv0 is a bare sha2-256 multihash; v1 is
    version, codec, then a multihash (code, length, digest)."""
    if raw[pos : pos + 2] == b"\x12\x20":
        return pos + 34
    at = pos
    for _ in range(3):  # version, codec, multihash code
        _, at = _varint(raw, at, where)
    length, at = _varint(raw, at, where)
    if at + length > end:
        raise ArchiveError(f"{where}: not a readable Bluesky repository export (a block's CID runs past it)")
    return at + length


def decode(raw: bytes, where: str) -> tuple[dict[str, Any], Blocks]:
    """The CAR v1 header and its blocks (indexed, not decoded); failures name the file.

    Framing: varint(header length), DAG-CBOR header ``{roots, version}``, then per block
    varint(CID + data length), CID, data.
    """
    if len(raw) >= 1 << 32:
        raise ArchiveError(f"{where}: larger than 4 GiB; no Bluesky repository is that large")
    length, pos = _varint(raw, 0, where)
    if pos + length > len(raw):
        raise ArchiveError(f"{where}: not a readable Bluesky repository export (the header is cut off)")
    try:
        header = libipld.decode_dag_cbor(raw[pos : pos + length])
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # ValueError, RecursionError, or a pyo3 panic on hostile input
        raise ArchiveError(
            f"{where}: not a readable Bluesky repository export ({exc}); expected the repo.car from "
            "Settings → Export my data, complete (it may be cut off)"
        ) from None
    if not isinstance(header, dict) or header.get("version") != 1 or not isinstance(header.get("roots"), list):
        raise ArchiveError(f"{where}: not a Bluesky repository export (expected a CAR v1 header with roots)")
    pos += length
    spans: dict[bytes, int] = {}
    while pos < len(raw):
        length, pos = _varint(raw, pos, where)
        end = pos + length
        if length == 0 or end > len(raw):
            raise ArchiveError(
                f"{where}: not a readable Bluesky repository export (cut off at byte {pos:,}); download it again"
            )
        data = _cid_end(raw, pos, end, where)
        spans.setdefault(raw[pos:data], data << 32 | end)
        pos = end
    return header, Blocks(raw, spans)


def _commit(header: dict[str, Any], blocks: Blocks) -> dict[str, Any] | None:
    """The signed commit (``{did, version, data, rev, sig}``) the CAR's root names, or None."""
    for root in header.get("roots") or ():
        commit = blocks.get(root) if isinstance(root, bytes) else None
        if isinstance(commit, dict) and isinstance(commit.get("did"), str) and "data" in commit:
            return commit
    return None


def _did_of(uri: Any) -> str | None:
    """``at://did:plc:abc/app.bsky.feed.post/3k...`` -> ``did:plc:abc``."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None
    return uri[5:].split("/", 1)[0]


def _post(record: dict[str, Any], did: str | None) -> Post | None:
    when = parse_iso(record.get("createdAt"))
    if when is None:
        return None
    reply = record.get("reply")
    if isinstance(reply, dict):
        parent = reply.get("parent") if isinstance(reply.get("parent"), dict) else {}
        kind = SELF_REPLY if did is not None and _did_of(parent.get("uri")) == did else REPLY
    else:
        kind = ORIGINAL
    text = record.get("text") if isinstance(record.get("text"), str) else ""
    links, spans = _links(record)
    if links and text and any(mark in text for mark in QUESTION_MARKS):
        text = _without(text, spans, links)  # "example.com/page?id=1" shown as a link is not a question
    return Post(when, kind, any(_external(u) for u in links), has_question(text))


def _links(record: dict[str, Any]) -> tuple[list[str], list[tuple[int, int]]]:
    """Every link URI of a post, and the byte ranges of its text that show links.

    Link facets; the legacy ``entities`` of 2022–early 2023 posts (``{"type": "link", "value":
    URI, "index": {"start", "end"}}``); external embeds (also inside recordWithMedia).
    """
    out: list[str] = []
    spans: list[tuple[int, int] | None] = []
    for facet in record.get("facets") or ():
        if not isinstance(facet, dict):
            continue
        for feature in facet.get("features") or ():
            if isinstance(feature, dict) and feature.get("$type") == LINK_FACET and isinstance(feature.get("uri"), str):
                out.append(feature["uri"])
                spans.append(_span(facet.get("index"), "byteStart", "byteEnd"))
    for entity in record.get("entities") or ():
        if isinstance(entity, dict) and entity.get("type") == "link" and isinstance(entity.get("value"), str):
            out.append(entity["value"])
            spans.append(_span(entity.get("index"), "start", "end"))
    embed = record.get("embed")
    for part in (embed, embed.get("media") if isinstance(embed, dict) else None):
        if isinstance(part, dict) and part.get("$type") == EXTERNAL_EMBED:
            external = part.get("external")
            if isinstance(external, dict) and isinstance(external.get("uri"), str):
                out.append(external["uri"])
    return out, [s for s in spans if s is not None]


def _span(index: Any, start: str, end: str) -> tuple[int, int] | None:
    """(start, end) of a text slice; the very first TextSlice was a two-number list."""
    if isinstance(index, list) and len(index) == 2:
        index = {start: index[0], end: index[1]}
    if not isinstance(index, dict):
        return None
    a, b = index.get(start), index.get(end)
    if isinstance(a, int) and isinstance(b, int) and 0 <= a < b:
        return a, b
    return None


def _without(text: str, spans: list[tuple[int, int]], links: list[str]) -> str:
    """The text with its link ranges (UTF-8 byte offsets, as facets give them) and link URIs blanked."""
    raw = bytearray(text.encode())
    for a, b in spans:
        raw[a:b] = b" " * len(raw[a:b])
    cleaned = raw.decode("utf-8", "replace")
    for uri in links:  # also where an old client counted offsets differently
        cleaned = cleaned.replace(uri, " ")
    return cleaned


def _external(uri: str) -> bool:
    if uri.startswith("at://"):
        return False
    host = url_host(uri)
    return bool(host) and host not in BLUESKY_HOSTS
