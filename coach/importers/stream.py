"""Streaming JSON: the elements of one big array, decoded one at a time from a byte stream.

A posts file holds one huge array (X: ``window.YTD.tweets.part0 = [...]``; Mastodon: the
``orderedItems`` of ``outbox.json``). Decoding it whole (``json.loads``) builds every post as
Python objects at once: ~10× the file in memory (4 GB for 200,000 real tweets). Here the text
is decoded from UTF-8 in 4 MiB chunks and each element is parsed by json's C scanner
(``JSONDecoder.raw_decode``); an element cut by a chunk boundary just makes the window read
one chunk more. Memory holds the window and one element.

Why not ijson: measured here on 200,000 real-shaped tweets (407 MB), ijson's C backend took
3.0 s against 2.2 s for this, and on hostile input its memory grows with the square of the
nesting depth (30,000 nested brackets: 1.9 GB, then MemoryError), where json's scanner stops
with a RecursionError at once.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any

from coach.importers.archive import CHUNK, Capped
from coach.importers.derive import ArchiveError

MAX_ITEM_CHARS = 16 * 1024**2  # one element's JSON; real posts are 1-10 kB, a long note tweet ~100 kB
MAX_FIELDS = 64  # top-level scalars kept by object_array
_SKIP = re.compile(r"[\s,]*")  # between elements; a stray comma is tolerated, as browsers do
_SPACE = re.compile(r"\s*")
_DECODE = json.JSONDecoder().raw_decode


class TextWindow:
    """A sliding window of decoded text over a binary stream."""

    def __init__(self, stream: Capped, where: str):
        self._stream = stream
        self.where = where
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.buffer = ""
        self.pos = 0
        self.ended = False
        self.more()

    def more(self) -> bool:
        """Append the next chunk (dropping what was consumed); False at the end of the stream."""
        if self.ended:
            return False
        chunk = self._stream.read(CHUNK)
        try:
            text = self._decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            raise ArchiveError(f"{self.where}: not UTF-8 text; download the archive again") from None
        if not chunk:
            self.ended = True
        self.buffer = self.buffer[self.pos :] + text
        self.pos = 0
        return bool(chunk)

    def next_char(self, skip: re.Pattern[str] = _SPACE) -> str | None:
        """The next character after ``skip`` (not consumed), or None at the end."""
        while True:
            self.pos = skip.match(self.buffer, self.pos).end()
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self.more():
                return None

    def expect(self, char: str, what: str) -> None:
        found = self.next_char()
        if found is None:
            raise ArchiveError(f"{self.where}: the data is cut off (expected {what}); download the archive again")
        if found != char:
            raise ArchiveError(f"{self.where}: expected {what}, found {found!r}")
        self.pos += 1

    def value(self) -> Any:
        """The next JSON value; reads on while it runs past the window."""
        if self.next_char() is None:  # raw_decode does not skip leading white space
            raise ArchiveError(f"{self.where}: the data is cut off (a value is missing at the end of the file)")
        while True:
            try:
                item, end = _DECODE(self.buffer, self.pos)
            except RecursionError:
                raise ArchiveError(f"{self.where}: nested too deeply to be an export file") from None
            except json.JSONDecodeError as exc:
                if self.ended or len(self.buffer) - self.pos > MAX_ITEM_CHARS:
                    where = ", at the end of the file" if self.ended else ""
                    raise ArchiveError(
                        f"{self.where}: the data is cut off or corrupt ({exc.msg}{where}); download the archive again"
                    ) from None
                self.more()
                continue
            if end >= len(self.buffer) and self.more():
                continue  # a number at the window's edge may go on in the next chunk
            self.pos = end
            return item

    def elements(self) -> Iterator[Any]:
        """The elements of the array whose ``[`` was just consumed, up to its ``]``."""
        while True:
            char = self.next_char(_SKIP)
            if char is None:
                raise ArchiveError(
                    f"{self.where}: the data is cut off (the list is not closed); download the archive again"
                )
            if char == "]":
                self.pos += 1
                return
            yield self.value()


def ytd_elements(stream: Capped, where: str) -> Iterator[Any]:
    """The elements of an X archive data file: ``window.YTD.<name>.partN = [ ... ]``."""
    window = TextWindow(stream, where)
    if not window.buffer[:256].lstrip().startswith("window.YTD."):
        raise ArchiveError(f"{where}: not an X archive data file (it should start with `window.YTD.tweets.part0 = [`)")
    equals = window.buffer.find("=", 0, 1024)
    if equals < 0:
        raise ArchiveError(
            f"{where}: the data is cut off or corrupt (no `=` after `window.YTD...`); download the archive again"
        )
    window.pos = equals + 1
    char = window.next_char()
    if char != "[":
        found = "nothing" if char is None else "an object" if char == "{" else repr(char)
        raise ArchiveError(f"{where}: expected a list after `=`, found {found}")
    window.pos += 1
    yield from window.elements()


def object_array(
    stream: Capped, where: str, key: str, fields: dict[str, Any], what: str = "a JSON object"
) -> Iterator[Any]:
    """The elements of ``key``'s array in a top-level JSON object, streamed.

    The other top-level values are decoded whole (each under MAX_ITEM_CHARS) and their
    scalars stored in ``fields`` as they pass. A key given twice (real Mastodon exports repeat ``orderedItems``, first as
    ``[]``) yields the elements of each occurrence in turn. ``fields[key]`` counts the
    occurrences, so a caller can tell "no such key" from "an empty list".
    """
    window = TextWindow(stream, where)
    window.expect("{", what)
    fields[key] = 0
    while True:
        char = window.next_char(_SKIP)
        if char == "}":
            return
        if char != '"':
            shown = "the end of the file" if char is None else repr(char)
            raise ArchiveError(f"{where}: not valid JSON (expected a key, found {shown}); the file may be cut off")
        name = window.value()
        window.expect(":", f"':' after {str(name)[:40]!r}")
        if name == key and window.next_char() == "[":
            fields[key] += 1
            window.pos += 1
            yield from window.elements()
        else:
            value = window.value()
            # Keep a few scalars such as "type"; drop "@context" and the like (and a flood of keys).
            if not isinstance(value, dict | list) and len(fields) < MAX_FIELDS:
                fields[name] = value
