"""Turn pydantic validation errors into one plain sentence per problem.

Each sentence names the file, the field path (``habits.reply_rate``), the bad value and what
is allowed — read from the field's bounds and description, so messages cannot drift from
validation — and, for an unknown key, suggests the closest valid one.
"""

from __future__ import annotations

import difflib
import math
import re
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo


def friendly_errors(
    exc: ValidationError,
    source: str,
    root: type[BaseModel],
    aliases: dict[type[BaseModel], type[BaseModel]] | None = None,
) -> list[str]:
    """One sentence per problem in ``exc``, for data validated against ``root``.

    ``aliases`` maps a model to the one whose keys should be suggested (partial habit
    changes suggest the habits' keys).
    """
    errors = exc.errors()
    locs = [tuple(e["loc"]) for e in errors]
    problems = []
    for err in errors:
        loc = tuple(err["loc"])
        # An error on a list is often only the echo of an error inside one of its items.
        if any(other != loc and other[: len(loc)] == loc for other in locs):
            continue
        path = shorten(_path(loc))
        kind = err["type"]
        if kind == "extra_forbidden":
            problems.append(_unknown_key(source, loc, root, aliases or {}))
        elif kind == "missing":
            problems.append(f"{source}: {path}: missing; {_allowed(loc, root)}")
        elif kind in ("value_error", "assertion_error"):
            problems.append(f"{source}: {_join(path, str(err.get('ctx', {}).get('error', err['msg'])))}")
        elif kind in ("too_short", "too_long"):
            ctx = err.get("ctx", {})
            limit = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
            bound = "at least" if kind == "too_short" else "at most"
            problems.append(f"{source}: {path}: has {ctx.get('actual_length')} items; allowed: {bound} {limit}")
        elif kind == "finite_number":
            problems.append(
                f"{source}: {path}: {show_value(err.get('input'))} is not allowed; allowed: a finite number"
            )
        else:
            hint = _text_number_hint(err.get("input"), kind)
            problems.append(
                f"{source}: {path}: {show_value(err.get('input'))} is not allowed; {_allowed(loc, root)}{hint}"
            )
    # A safety net: no sentence echoes a whole 10 kB value, whichever validator wrote it.
    return [shorten(p, MAX_SENTENCE) for p in problems] or [f"{source}: invalid scenario"]


MAX_SHOWN = 60
"""Characters of a bad value or key echoed in a message (the rest is summarised)."""
MAX_SENTENCE = 1000
"""Characters of one problem sentence at most."""


def shorten(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` itself, or its start and its length when it is longer than ``limit`` characters."""
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text):,} characters)"


def quote(value: object, limit: int = MAX_SHOWN) -> str:
    """``repr(value)``, or the repr of its start and its length when it is long."""
    text = repr(value)
    if len(text) <= limit:
        return text
    if isinstance(value, str):
        return f"{value[: limit - 3]!r}… ({len(value):,} characters)"
    return shorten(text, limit)


def format_number(value: float) -> str:
    """A bound or value for people: ``10,000,000`` and ``4,294,967,295``, never ``1e+07``."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e18:
        return f"{int(value):,}"
    if 1e-4 <= abs(value) < 1e15:
        return f"{value:,.6f}".rstrip("0").rstrip(".")
    return f"{value:g}"


def counted(n: float, singular: str, plural: str | None = None) -> str:
    """``1 day``, ``2 days``, ``1,000 runs``: a count with its noun in the right number."""
    return f"{format_number(n)} {singular if n == 1 else plural or singular + 's'}"


def _text_number_hint(value: Any, kind: str) -> str:
    """A hint when YAML read a number-looking value as text (``1e6`` needs a dot: ``1.0e+6``)."""
    if not isinstance(value, str) or not kind.endswith(("float_type", "int_type", "bool_type")):
        return ""
    try:
        number = float(value.replace("_", ""))
    except ValueError:
        return ""
    if not math.isfinite(number):  # nan, inf, 1e400: no way of writing it is allowed
        return ""
    plain = format_number(number).replace(",", "")
    if "e" in plain and "." not in plain:  # YAML 1.1 reads 1e+300 as text too: it needs the dot
        plain = plain.replace("e", ".0e", 1)
    return f" ({quote(value)} was read as text, not a number: write it as {plain}, without quotes)"


_RELATIVE = re.compile(r"^([A-Za-z_][\w.\[\]]*): (.*)$", re.S)


def _join(path: str, message: str) -> str:
    """Prefix a validator's message with the field path, merging a relative path it starts with."""
    match = _RELATIVE.match(message)
    if match:
        sub, rest = match.groups()
        return f"{path}.{sub}: {rest}" if path else f"{sub}: {rest}"
    return f"{path}: {message}" if path else message


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def show_value(value: Any) -> str:
    """A bad value in YAML's words, not Python's: ``true`` and an empty value, not ``True`` and ``None``."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    if value is None:
        return "an empty value (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return quote(value)


def _field_info(loc: tuple[Any, ...], root: type[BaseModel]) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """Walk the models along a validation location to the field it names."""
    model: type[BaseModel] | None = root
    info: FieldInfo | None = None
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return model, None
        info = model.model_fields[part]
        model = _model_of(info.annotation)
    return model, info


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _allowed(loc: tuple[Any, ...], root: type[BaseModel]) -> str:
    _, info = _field_info(loc, root)
    if info is None:
        return "see the scenario format in README.md"
    lo = hi = None
    for m in info.metadata:
        lo = getattr(m, "ge", getattr(m, "gt", lo))
        hi = getattr(m, "le", getattr(m, "lt", hi))
    annotation = str(info.annotation)
    if "bool" in annotation:
        kind = "true or false"
    elif lo is not None and hi is not None:
        kind = f"a number from {_num(lo)} to {_num(hi)}"
    elif "int" in annotation and "tuple" in annotation:
        kind = "two whole hours [start, end]"
    elif "tuple" in annotation and "float" in annotation:
        kind = "a list of numbers"
    elif re.search(r"\bstr\b", annotation) and "dict" not in annotation:  # not the "Str" of Strict
        kind = "text"
    else:
        kind = "see the scenario format in README.md"
    whole = "int" in annotation and "tuple" not in annotation and "float" not in annotation
    if whole and lo is not None:
        kind = kind.replace("a number", "a whole number")
    desc = f" ({info.description})" if info.description else ""
    return f"allowed: {kind}{desc}"


def _num(value: float) -> str:
    return format_number(value)


def _unknown_key(source: str, loc: tuple[Any, ...], root: type[BaseModel], aliases: dict) -> str:
    parent, key = loc[:-1], str(loc[-1])
    model, info = _field_info(parent, root) if parent else (root, None)
    if parent and info is not None:
        model = _model_of(info.annotation)
    model = aliases.get(model, model)
    names = list(model.model_fields) if model is not None else []
    where = shorten(_path(loc))
    close = difflib.get_close_matches(key[:100], names, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(names) if names else "none"
    return f"{source}: {where}: unknown key.{hint} Allowed keys here: {listed}"
