"""Opening an export: a zip (also inside a zip), a ``.tar.gz``, a folder, one file or uploaded bytes.

Everything is read in memory or streamed; nothing is extracted to disk. Every read is bounded:

- one file (a zip member, a file in a folder, an upload) may hold at most ``MAX_FILE_BYTES``
  (1 GiB) of uncompressed text. A real posts file is far smaller: ~2 kB per tweet makes
  1 GiB about 500,000 tweets in one file (X splits long histories into ``tweets-partN.js``),
  and a Mastodon activity is ~2.5 kB;
- all files read from one export together: at most ``MAX_TOTAL_BYTES`` (4 GiB);
- a zip member that unpacks to more than ``MAX_RATIO`` (100) times its packed size is refused
  before anything is unpacked (JSON text packs 5–20×; the 1.85 MB zip of 1.9 GB of spaces
  is 1,000×). zipfile never returns more than a member's declared size, so the declared
  sizes bound the work; a ``.tar.gz`` is checked the same way as it streams;
- only regular files are opened (a device such as ``/dev/zero``, a FIFO or a socket would
  never end or block forever);
- a zip inside a zip is opened (``MAX_NESTING`` zips deep), a folder is searched
  ``MAX_FOLDER_DEPTH`` levels down, and a zip may list at most ``MAX_MEMBERS`` entries.

Posts files are streamed (:meth:`Files.open`); only small files (``account.js``, a ``.car``,
a CSV) are read whole (:meth:`Files.read`).
"""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from coach.importers.derive import EXPECTED, ArchiveError

MAX_FILE_BYTES = 1024**3  # bytes of uncompressed text in any one file
MAX_TOTAL_BYTES = 4 * 1024**3  # bytes read from one export, all files together
MAX_RATIO = 100  # unpacked ÷ packed size above which a zip member or a .tar.gz is refused
RATIO_FLOOR = 1 << 20  # bytes: members smaller than this are never refused for their ratio
MAX_MEMBERS = 200_000  # entries in a zip or tar, or files looked at in a folder (X archives hold media)
MAX_FOLDER_DEPTH = 12  # folder levels searched below the given folder
MAX_NESTING = 2  # zips deep: an archive zip inside the zip the user gave
MAX_TAR_SCAN = 16 * 1024**3  # bytes unpacked from a .tar.gz (media included) while looking for the posts
INNER_IN_MEMORY = 512 * 1024**2  # bytes: a zip inside a zip up to this size is read into memory
UNPACK_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, NotImplementedError)
"""What a corrupt or truncated archive raises while it is read (zipfile, zlib, tarfile, gzip)."""
CHUNK = 1 << 22  # bytes per read from any stream (4 MiB)
HEAD = 4096  # bytes looked at to recognise a file

_X_TWEETS = re.compile(r"^(community-)?tweets?(-part\d+)?\.js$")
_YTD = re.compile(rb"^\s*window\.YTD\.(\w+)\.part\d+\s*=")
_POSTS_HINT = "Give only the posts file (e.g. data/tweets.js or outbox.json)"
# Members a .tar.gz may hold that a reader needs; media and everything else are skipped.
_WANTED = re.compile(
    r"^((community-)?tweets?(-part\d+)?\.js|account\.js|manifest\.js|note-tweet\.js|outbox\.json|actor\.json|.*\.car|.*\.csv)$"
)


class Files:
    """The files of one export, each read under the byte caps above.

    ``names`` are relative POSIX paths (a Windows zip's backslashes are turned into slashes).
    ``opener(name)`` returns a binary stream and the size the container declares (or None).
    """

    def __init__(
        self,
        label: str,
        names: list[str],
        opener: Callable[[str], tuple[BinaryIO, int | None]],
        single: bool = False,
        close: Callable[[], None] | None = None,
        depth: int = 1,
        local: Callable[[str], Path] | None = None,
    ):
        self.label = label  # the file or folder as the user named it
        self.names = names
        self._opener = opener
        self.single = single  # one plain file: messages name only the label
        self.read_names: list[str] = []
        self.used = 0  # bytes read so far, all files together
        self._close = close
        self.depth = depth  # zips deep: 0 for a folder, 1 for the zip the user gave, 2 for a zip inside it
        self.local = local  # a member's path on disk (folders only)

    def close(self) -> None:
        """Release the open zip file, if any."""
        if self._close is not None:
            self._close()

    def where(self, name: str) -> str:
        """How a message names a member: ``twitter.zip (data/tweets.js)``, or just the file."""
        return self.label if self.single else f"{self.label} ({name})"

    def open_raw(self, name: str) -> tuple[BinaryIO, int | None]:
        """The container's own stream of a member and its declared size (checks done, nothing counted)."""
        return self._opener(name)

    def open(self, name: str, *, text: bool = True) -> Capped:
        """A stream of the member, counted against the caps; ``text`` refuses UTF-16 by its first bytes."""
        raw, declared = self._opener(name)
        where = self.where(name)
        allowed = min(MAX_FILE_BYTES, MAX_TOTAL_BYTES - self.used)
        if declared is not None and declared > allowed:
            raw.close()
            raise too_big(where, allowed)
        self.read_names.append(name)
        return Capped(raw, where, allowed, self, text)

    def read(self, name: str, *, text: bool = True) -> bytes:
        """The whole member (for small files); the same caps as :meth:`open`."""
        with self.open(name, text=text) as stream:
            return stream.read_all()

    def find(self, basename: str) -> str | None:
        """The shallowest member with this file name (case-insensitive), or None."""
        hits = [n for n in self.names if PurePosixPath(n).name.lower() == basename]
        return min(hits, key=lambda n: (n.count("/"), n)) if hits else None


class Capped:
    """A read-only stream that stops with an ArchiveError past its byte allowance.

    Errors of the container (a corrupt deflate stream, a bad CRC, a vanished file) become an
    ArchiveError naming the member, whoever is reading: the JSON parser or a reader.
    """

    def __init__(self, raw: BinaryIO, where: str, allowed: int, files: Files, text: bool):
        self._raw, self.where, self._allowed, self._files = raw, where, allowed, files
        self._count = 0
        self._check_head = text

    def read(self, size: int = -1) -> bytes:
        size = CHUNK if size is None or size < 0 else min(size, CHUNK)
        try:
            data = self._raw.read(size)
        except UNPACK_ERRORS as exc:
            raise ArchiveError(
                f"{self.where}: cannot be unpacked ({exc}); the archive may be truncated or corrupt, download it again"
            ) from None
        if self._check_head:
            self._check_head = False
            refuse_utf16(data, self.where)
        self._count += len(data)
        self._files.used += len(data)
        if self._count > self._allowed:
            raise too_big(self.where, self._allowed)
        return data

    def read_all(self) -> bytes:
        chunks = []
        while chunk := self.read(CHUNK):
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> Capped:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def too_big(where: str, allowed: int) -> ArchiveError:
    return ArchiveError(
        f"{where}: more than {allowed:,} bytes would have to be read (uncompressed); no real posts file is "
        f"that large, so this is not a posting archive this tool can read (or it is a zip bomb). {_POSTS_HINT}"
    )


def refuse_utf16(head: bytes, where: str) -> None:
    """X, Mastodon and Bluesky write UTF-8; a file re-saved as UTF-16 is named as such."""
    sample = head[:128]
    even, odd = sample[0::2], sample[1::2]
    # Without a byte-order mark, ASCII text in UTF-16 has a zero byte in every other position.
    zeros_between = len(sample) >= 16 and (
        (odd.count(0) >= 0.9 * len(odd) and not even.count(0))
        or (even.count(0) >= 0.9 * len(even) and not odd.count(0))
    )
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")) or zeros_between:
        raise ArchiveError(
            f"{where}: the text is saved as UTF-16; this tool reads UTF-8, as X, Mastodon and Bluesky write it. "
            "Use the file as downloaded, or save it again as UTF-8"
        )


# --------------------------------------------------------------------------------------
# Containers
# --------------------------------------------------------------------------------------


def zip_files(raw: BinaryIO | Path, label: str, depth: int = 1) -> Files:
    """A zip read lazily from disk (a path) or from memory; nothing is extracted."""
    if not isinstance(raw, Path):
        _check_zip_directory(raw, label)
    try:
        archive = zipfile.ZipFile(raw)
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, struct.error) as exc:
        raise ArchiveError(
            f"{label}: not a readable zip file ({exc}); it may be truncated or corrupt. Expected {EXPECTED}"
        ) from None
    if len(infos) > MAX_MEMBERS:
        archive.close()
        raise ArchiveError(f"{label}: {len(infos):,} files in the zip; allowed: at most {MAX_MEMBERS:,}")
    by_name: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename.replace("\\", "/").lstrip("/")  # zips made on Windows use backslashes
        if not info.is_dir() and not name.endswith("/") and not name.startswith("__MACOSX/"):
            by_name.setdefault(name, info)

    def opener(name: str) -> tuple[BinaryIO, int | None]:
        info = by_name[name]
        where = f"{label} ({name})"
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ArchiveError(
                f"{where}: unpacks to {info.file_size:,} bytes from {info.compress_size:,} "
                f"({info.file_size // max(info.compress_size, 1):,}×); real exports pack at most ~20×, "
                f"so this is refused as a zip bomb (allowed: {MAX_RATIO}×). {_POSTS_HINT}"
            )
        try:
            return archive.open(info), info.file_size
        except UNPACK_ERRORS as exc:
            raise ArchiveError(
                f"{where}: cannot be unpacked ({exc}); the zip may be truncated or corrupt, download it again"
            ) from None

    return Files(label, sorted(by_name), opener, close=archive.close, depth=depth)


def _check_zip_directory(raw: BinaryIO, label: str) -> None:
    """Refuse a zip whose directory announces too many members, before Python builds a list of them."""
    try:
        raw.seek(0, os.SEEK_END)
        size = raw.tell()
        raw.seek(max(0, size - (1 << 16) - 22))
        tail = raw.read()
        raw.seek(0)
    except OSError:
        return
    at = tail.rfind(b"PK\x05\x06")
    if at >= 0 and len(tail) >= at + 22:
        (entries,) = struct.unpack("<H", tail[at + 10 : at + 12])
        if entries != 0xFFFF and entries > MAX_MEMBERS:  # 0xFFFF: a ZIP64 count, checked after opening
            raise ArchiveError(f"{label}: {entries:,} files in the zip; allowed: at most {MAX_MEMBERS:,}")


class _CountingReader(io.RawIOBase):
    """Counts the packed bytes a gzip stream consumes, for the ratio check."""

    def __init__(self, raw: BinaryIO):
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


def tar_files(raw: BinaryIO, label: str) -> Files:
    """A ``.tar.gz`` (Mastodon's archive format) read in one streaming pass, in memory.

    Only the members a reader needs are kept (outbox.json, actor.json, the X data files, a
    .car or a .csv); media are skipped, and the scan stops once outbox.json and actor.json
    are in. The unpacked bytes are counted against MAX_TAR_SCAN (a Mastodon archive with its
    media can pass 4 GB) and the packed-to-unpacked ratio is checked as the stream goes.
    """
    import gzip

    packed = _CountingReader(raw)
    unpacked = 0
    kept: dict[str, bytes] = {}
    members = 0
    try:
        with gzip.GzipFile(fileobj=io.BufferedReader(packed, CHUNK)) as gz, tarfile.open(fileobj=gz, mode="r|") as tar:
            for member in tar:
                members += 1
                if members > MAX_MEMBERS:
                    raise ArchiveError(f"{label}: more than {MAX_MEMBERS:,} files in the archive")
                unpacked = gz.tell()
                if unpacked > RATIO_FLOOR * 16 and unpacked > MAX_RATIO * max(packed.count, 1):
                    raise ArchiveError(
                        f"{label}: unpacks more than {MAX_RATIO}× its packed size; real exports pack at most ~20×, "
                        "so this is refused as a gzip bomb"
                    )
                if unpacked > MAX_TAR_SCAN:
                    raise ArchiveError(
                        f"{label}: more than {MAX_TAR_SCAN:,} bytes unpacked without finding the posts; {_POSTS_HINT}"
                    )
                name = member.name.replace("\\", "/").removeprefix("./").lstrip("/")
                if not member.isfile() or not _WANTED.match(PurePosixPath(name).name.lower()):
                    continue
                if member.size > MAX_FILE_BYTES:
                    raise too_big(f"{label} ({name})", MAX_FILE_BYTES)
                handle = tar.extractfile(member)
                if handle is not None:
                    content = handle.read(member.size)
                    refuse_utf16(content[:64], f"{label} ({name})")
                    kept.setdefault(name, content)
                    if {"outbox.json", "actor.json"} <= {PurePosixPath(n).name.lower() for n in kept}:
                        break  # a Mastodon archive's two files: the media after them need not be unpacked
    except ArchiveError:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error, ValueError) as exc:
        raise ArchiveError(
            f"{label}: not a readable .tar.gz archive ({exc}); it may be truncated or corrupt. Expected {EXPECTED}"
        ) from None
    if members == 0:
        raise ArchiveError(f"{label}: a gzip file without a tar archive inside; expected {EXPECTED}")

    def opener(name: str) -> tuple[BinaryIO, int | None]:
        return io.BytesIO(kept[name]), len(kept[name])

    return Files(label, sorted(kept), opener)


def folder_files(root: Path, label: str) -> Files:
    """The regular files of an unpacked archive, MAX_FOLDER_DEPTH levels down (no symlinked folders)."""
    names: list[str] = []

    def walk(folder: Path, prefix: str, depth: int) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise ArchiveError(f"{label}: cannot list {folder} ({exc.strerror})") from None
        for entry in entries:
            if len(names) >= MAX_MEMBERS:
                raise ArchiveError(
                    f"{label}: more than {MAX_MEMBERS:,} files in the folder; give the posts file itself"
                )
            if entry.is_dir(follow_symlinks=False):
                if depth < MAX_FOLDER_DEPTH and not entry.name.startswith("."):
                    walk(Path(entry.path), f"{prefix}{entry.name}/", depth + 1)
            elif entry.is_file():  # follows a symlink, but only to a regular file
                names.append(prefix + entry.name)

    walk(root, "", 0)

    def opener(name: str) -> tuple[BinaryIO, int | None]:
        return open_regular(root / name, f"{label} ({name})")

    return Files(label, names, opener, depth=0, local=lambda name: root / name)


def open_regular(path: Path, label: str) -> tuple[BinaryIO, int]:
    """Open a regular file for reading; a device, FIFO or socket is refused before it is opened."""
    try:
        info = path.stat()
    except OSError as exc:
        raise ArchiveError(f"{label}: cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        kind = (
            "a FIFO (named pipe)"
            if stat.S_ISFIFO(info.st_mode)
            else "a device"
            if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
            else "a socket"
            if stat.S_ISSOCK(info.st_mode)
            else "not a regular file"
        )
        raise ArchiveError(f"{label}: {kind}, not a regular file; give the downloaded export file. Expected {EXPECTED}")
    try:
        return path.open("rb"), info.st_size
    except OSError as exc:
        raise ArchiveError(f"{label}: cannot be read ({exc.strerror})") from None


def single_file(opener: Callable[[], BinaryIO], label: str, name: str, size: int | None) -> Files:
    def open_it(_: str) -> tuple[BinaryIO, int | None]:
        return opener(), size

    return Files(label, [name], open_it, single=True)


# --------------------------------------------------------------------------------------
# Recognising the source
# --------------------------------------------------------------------------------------


def open_source(
    source: str | os.PathLike[str] | bytes | bytearray | memoryview, filename: str | None
) -> tuple[Files, str]:
    """Files of the source and the platform they hold."""
    if isinstance(source, bytes | bytearray | memoryview):
        label = filename or "the uploaded file"
        data = bytes(source) if not isinstance(source, bytes) else source
        return _from_stream(lambda: io.BytesIO(data), len(data), label, filename or "", in_memory=True)
    path = Path(source)
    label = str(source)
    if path.is_dir():
        return container_platform(folder_files(path, label))
    if not path.exists() and not path.is_symlink():
        raise ArchiveError(f"{label}: no such file or folder; expected {EXPECTED}")
    handle, size = open_regular(path, label)
    handle.close()
    return _from_stream(lambda: open_regular(path, label)[0], size, label, path.name, in_memory=False, path=path)


def _from_stream(
    opener: Callable[[], BinaryIO],
    size: int,
    label: str,
    name: str,
    *,
    in_memory: bool,
    path: Path | None = None,
    depth: int = 1,
) -> tuple[Files, str]:
    with opener() as handle:
        head = handle.read(HEAD)
    if size == 0 or (not head.strip() and size <= len(head)):
        raise ArchiveError(f"{label}: the file is empty; expected {EXPECTED}")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return container_platform(zip_files(path if path is not None else opener(), label, depth))
    if head.startswith(b"PK"):
        raise ArchiveError(f"{label}: a damaged zip file (truncated or corrupt); download the archive again")
    if head.startswith(b"\x1f\x8b"):
        with opener() as handle:
            return container_platform(tar_files(handle, label))
    refuse_utf16(head, label)
    platform, kind = sniff(head, label, name)
    return single_file(opener, label, kind, size), platform


def sniff(head: bytes, label: str, name: str) -> tuple[str, str]:
    """(platform, the posts file name it stands for) of one file, by content first, extension second."""
    suffix = PurePosixPath(name.lower()).suffix
    text = head[:256].lstrip(b"\xef\xbb\xbf \t\r\n")
    match = _YTD.match(text)
    if match:
        kind = match.group(1).decode()
        if kind not in ("tweets", "tweet", "community_tweet"):
            raise ArchiveError(
                f"{label}: this is the X archive's {kind!r} file, not the posts; give data/tweets.js or the whole archive .zip"
            )
        return "x", "community-tweet.js" if kind == "community_tweet" else "tweets.js"
    if text.startswith(b"window.YTD") or suffix == ".js":
        raise ArchiveError(
            f"{label}: not an X archive data file (it should start with `window.YTD.tweets.part0 = [`); expected {EXPECTED}"
        )
    if text.startswith((b"{", b"[")) or suffix == ".json":
        return "mastodon", "outbox.json"
    if _looks_like_car(head) or suffix == ".car":
        return "bluesky", "repo.car"
    if suffix in (".csv", ".txt") or b"timestamp" in text.split(b"\n", 1)[0].lower():
        return "csv", "history.csv"
    if b"\x00" in head:
        raise ArchiveError(f"{label}: binary data of an unknown kind; expected {EXPECTED}")
    raise ArchiveError(f"{label}: not a known export format; expected {EXPECTED}")


def _looks_like_car(data: bytes) -> bool:
    """A CAR v1 starts with a varint length and a DAG-CBOR map holding "roots" and "version"."""
    i = 0
    while i < 9 and i < len(data) and data[i] & 0x80:
        i += 1
    return len(data) > i + 1 and data[i + 1] in (0xA1, 0xA2) and b"roots" in data[: i + 16]


def container_platform(files: Files) -> tuple[Files, str]:
    """Which export a zip, tar or folder holds, from its file names; a zip inside is opened."""
    base = [PurePosixPath(n).name.lower() for n in files.names]
    if any(_X_TWEETS.match(b) for b in base):
        return files, "x"
    if "outbox.json" in base:
        return files, "mastodon"
    if any(b.endswith(".car") for b in base):
        return files, "bluesky"
    csvs = [b for b in base if b.endswith(".csv")]
    if len(csvs) == 1:
        return files, "csv"
    inner = sorted((n for n in files.names if n.lower().endswith(".zip")), key=lambda n: (n.count("/"), n))
    if inner:
        return _inner_zip(files, inner[0])
    if not files.names:
        raise ArchiveError(f"{files.label}: holds no files; expected {EXPECTED}")
    if any(b in ("account.js", "manifest.js", "tweet-headers.js") for b in base):
        raise ArchiveError(
            f"{files.label}: a valid X archive, but it holds no posts (no data/tweets.js: the account has not posted, "
            "or the posts were left out of the download)"
        )
    raise ArchiveError(
        f"{files.label}: no posts file found (looked for data/tweets.js, outbox.json, a .car or one .csv file); expected {EXPECTED}"
    )


def _inner_zip(outer: Files, name: str) -> tuple[Files, str]:
    """An export zipped again (a zip inside the zip), MAX_NESTING zips deep; or a zip in a given folder.

    Up to INNER_IN_MEMORY it is read into memory (fast); a bigger one (an archive with its
    media) is read lazily through the outer member's seekable stream, which costs a pass of
    unpacking per member opened but no memory.
    """
    depth = outer.depth + 1
    where = outer.where(name)
    if depth > MAX_NESTING:
        raise ArchiveError(
            f"{where}: zips nested more than {MAX_NESTING} deep; allowed: the export's zip, or that zip inside one "
            "more. Unpack the outer zips and give the export itself"
        )
    if outer.local is not None:  # a zip in a folder: from disk, like a zip given by its path
        path = outer.local(name)
        open_regular(path, where)[0].close()
        return container_platform(zip_files(path, where, depth))
    raw, declared = outer.open_raw(name)
    if (declared is not None and declared <= INNER_IN_MEMORY) or not raw.seekable():
        raw.close()
        data = outer.read(name, text=False)
        outer.close()
        if not data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            raise ArchiveError(f"{where}: named .zip but not a zip file; expected {EXPECTED}")
        return container_platform(zip_files(io.BytesIO(data), where, depth))
    inner = zip_files(raw, where, depth)
    inner_close = inner._close

    def close() -> None:
        if inner_close is not None:
            inner_close()
        outer.close()

    inner._close = close
    return container_platform(inner)
