"""A YAML loader for files a stranger may have written: plain data, bounded, unambiguous.

PyYAML's ``SafeLoader`` builds no Python objects, but it still lets through what a scenario
(or a sweep or workshop file) never needs and what breaks or misleads later:

- nesting thousands deep, which its recursive composer turns into a ``RecursionError``
  (a 93-character ``?scenario=`` link was enough);
- integers of thousands of digits, which Python refuses to convert (``ValueError``, over
  4,300 digits) or which overflow every field, and floats so long they become ``inf``;
- duplicate keys, where the last one silently wins;
- base-60 numbers (YAML 1.1 reads ``reply_delay_hours: 1:30`` as 90, not 1.5);
- ``!!binary`` and ``!!set`` tags (bytes and sets are not scenario data).

:func:`load` refuses each of them with a :class:`YamlRefused` naming the line. Everything
else behaves exactly like ``yaml.safe_load``.
"""

from __future__ import annotations

import errno
import stat
from pathlib import Path
from typing import Any

import yaml

from coach.messages import quote

MAX_DEPTH = 32
"""Nesting levels allowed; the deepest scenario field (``timeline[].habits.active_hours``) is at 5."""
MAX_NUMBER_CHARACTERS = 40
"""Longest numeral accepted (characters); 2**64 has 20 digits, a float's full precision 17."""


class YamlRefused(yaml.YAMLError):
    """Well-formed YAML that a data file may not hold; ``problem`` is one plain sentence."""

    def __init__(self, problem: str, mark: yaml.Mark | None = None):
        self.problem = problem
        self.problem_mark = mark
        super().__init__(problem)


def _line(node: yaml.Node) -> str:
    return f"line {node.start_mark.line + 1}"


class StrictLoader(yaml.SafeLoader):
    """``SafeLoader`` with the limits described in the module docstring."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self._depth >= MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise YamlRefused(f"nested more than {MAX_DEPTH} levels deep; a scenario needs at most 5", mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults` may be overridden by explicit keys, as YAML intends
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:
                continue  # an unhashable key: the base constructor reports it
            if first != key_node.start_mark.line + 1:
                raise YamlRefused(
                    f"duplicate key {quote(key)} ({_line(key_node)}; first given on line {first}); give each key once",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)

    def _numeral(self, node: yaml.ScalarNode) -> None:
        text = str(node.value)
        if len(text) > MAX_NUMBER_CHARACTERS:
            raise YamlRefused(
                f"a number of {len(text):,} characters ({_line(node)}); "
                f"allowed: numbers of up to {MAX_NUMBER_CHARACTERS} characters",
                node.start_mark,
            )

    def _base_60(self, node: yaml.ScalarNode, value: float) -> None:
        """YAML 1.1 reads ``1:30`` as 90 (base 60, as in clock times); nobody writing hours means that."""
        if ":" in str(node.value):
            raise YamlRefused(
                f"{node.value} ({_line(node)}) would be read as the base-60 number {value:g}; "
                "write a plain number (1.5, not 1:30), or put it in quotes if it is text",
                node.start_mark,
            )

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        self._numeral(node)
        value = super().construct_yaml_int(node)
        self._base_60(node, value)
        return value

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        self._numeral(node)
        value = super().construct_yaml_float(node)
        self._base_60(node, value)
        return value

    def refuse_tag(self, node: yaml.Node) -> None:
        raise YamlRefused(
            f"the tag {node.tag.replace('tag:yaml.org,2002:', '!!')} ({_line(node)}) is not allowed; "
            "data files hold plain numbers, text, true/false, lists and mappings",
            node.start_mark,
        )


StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_yaml_int)
StrictLoader.add_constructor("tag:yaml.org,2002:float", StrictLoader.construct_yaml_float)
for _tag in ("binary", "set", "omap", "pairs"):
    StrictLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", StrictLoader.refuse_tag)


def read_regular(path: str | Path) -> bytes:
    """The bytes of a regular file, as ``Path.read_bytes``; a device, FIFO or socket is refused
    before it is opened (``/dev/zero`` would fill the memory, a FIFO wait for a writer).

    Raises what ``read_bytes`` raises (``FileNotFoundError``, ``IsADirectoryError``,
    ``OSError``); the refusal is an ``OSError`` whose ``strerror`` names the kind of file.
    """
    path = Path(path)
    mode = path.stat().st_mode  # follows a symlink, so a link to a device is refused too
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
    if not stat.S_ISREG(mode):
        kind = (
            "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode)
            else "a special file"
        )  # fmt: skip
        raise OSError(errno.EINVAL, f"{kind}, not a regular file; give a YAML file", str(path))
    return path.read_bytes()


def load(text: str) -> Any:
    """Parse YAML text like ``yaml.safe_load``, refusing what :class:`StrictLoader` refuses."""
    try:
        return yaml.load(text, Loader=StrictLoader)  # StrictLoader is a SafeLoader: plain data only
    except RecursionError:  # a last resort: the depth limit above should come first
        raise YamlRefused(f"nested too deeply; a scenario needs at most 5 levels (limit {MAX_DEPTH})") from None
