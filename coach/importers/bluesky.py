"""Bluesky repository export reader: ``repo.car`` (CAR v1 of DAG-CBOR blocks).

Decoding is left to libipld (Rust; ``decode_car(bytes) -> (header, {cid: record})``). We do
not walk the Merkle Search Tree: every record carries its ``$type``, so we keep the blocks
whose type is a post or a repost (ANCHORS.md §5.3). The root block is the signed commit,
whose ``did`` is the account; a reply is to yourself when its parent's ``at://`` URI names
that DID. External links are link facets and external embeds; a quote is an
``app.bsky.embed.record`` embed and a ``bsky.app`` or ``at://`` link is a post on Bluesky,
so neither counts. Follows, likes and other collections are ignored.
"""

from __future__ import annotations

from typing import Any

import libipld

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

POST_TYPE, REPOST_TYPE = "app.bsky.feed.post", "app.bsky.feed.repost"
LINK_FACET, EXTERNAL_EMBED = "app.bsky.richtext.facet#link", "app.bsky.embed.external"
BLUESKY_HOSTS = frozenset({"bsky.app", "staging.bsky.app", "main.bsky.dev", "go.bsky.app"})


def read(files: Any) -> History:
    """Read the posts of a Bluesky repository export (``files``: a coach.importers.Files)."""
    cars = sorted((n for n in files.names if n.lower().endswith(".car")), key=lambda n: (n.count("/"), n))
    name = cars[0]
    where = files.where(name)
    header, blocks = decode(files.read(name), where)
    history = History("bluesky", files.label)
    did = _own_did(header, blocks)
    if did is None:
        history.notes.append("no repository commit with the account's DID: every reply counts as a reply to others")
    for record in blocks.values():
        if not isinstance(record, dict):
            continue
        kind = record.get("$type")
        if kind == POST_TYPE:
            post = _post(record, did)
        elif kind == REPOST_TYPE:
            when = parse_iso(record.get("createdAt"))
            post = Post(when, REPOST) if when else None
        else:
            continue
        if post is None:
            history.exclude("unreadable")
        else:
            history.posts.append(post)
    return history


def decode(raw: bytes, where: str) -> tuple[dict[str, Any], dict[bytes, Any]]:
    """libipld's decode_car, with every failure turned into an ArchiveError naming the file."""
    try:
        header, blocks = libipld.decode_car(raw)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # ValueError, RecursionError, or a pyo3 panic on hostile input
        raise ArchiveError(
            f"{where}: not a readable Bluesky repository export ({exc}); expected the repo.car from "
            "Settings → Export my data, complete (it may be cut off)"
        ) from None
    if not isinstance(header, dict) or not isinstance(blocks, dict):
        raise ArchiveError(f"{where}: not a Bluesky repository export (CAR header without blocks)")
    return header, blocks


def _own_did(header: dict[str, Any], blocks: dict[bytes, Any]) -> str | None:
    """The account's DID from the root commit (``{did, version, data, rev, sig}``)."""
    for root in header.get("roots") or ():
        commit = blocks.get(root) if isinstance(root, bytes) else None
        if isinstance(commit, dict) and isinstance(commit.get("did"), str):
            return commit["did"]
    for block in blocks.values():  # a CAR whose root is missing: any commit-shaped block
        if isinstance(block, dict) and isinstance(block.get("did"), str) and "data" in block and "sig" in block:
            return block["did"]
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
    return Post(when, kind, any(_external(u) for u in _links(record)), has_question(text))


def _links(record: dict[str, Any]) -> list[str]:
    """Every link URI of a post: link facets and external embeds (also inside recordWithMedia)."""
    out = []
    for facet in record.get("facets") or ():
        for feature in (facet.get("features") or ()) if isinstance(facet, dict) else ():
            if isinstance(feature, dict) and feature.get("$type") == LINK_FACET and isinstance(feature.get("uri"), str):
                out.append(feature["uri"])
    embed = record.get("embed")
    for part in (embed, embed.get("media") if isinstance(embed, dict) else None):
        if isinstance(part, dict) and part.get("$type") == EXTERNAL_EMBED:
            external = part.get("external")
            if isinstance(external, dict) and isinstance(external.get("uri"), str):
                out.append(external["uri"])
    return out


def _external(uri: str) -> bool:
    if uri.startswith("at://"):
        return False
    host = url_host(uri)
    return bool(host) and host not in BLUESKY_HOSTS
