"""Sweeps: a full grid over scenario fields, every cell on the same seeds, locally or on Dask.

A sweep is a base scenario (a file or persona with ``--set`` changes, horizon, runs and seed
applied), and one or more *axes* — a dotted field (``habits.posts_per_day``) with its values.
Every combination of values is a *cell*. Each cell is the base scenario with its values set
exactly as ``coach run --set FIELD=VALUE`` would set them, run on the sweep's seed and
replicate indices ``0..R-1``; so a cell equals that ``coach run`` exactly, and differences
between cells come from the fields, not from luck (common random numbers).

Cells are numbered in grid order (the last axis varies fastest) and results are always
delivered in that order, whichever backend runs them, so the output of a sweep is the same
byte for byte locally and on a cluster, and an interrupted sweep's finished cells are a
prefix of the grid (which is what makes resuming simple; see :mod:`coach.sweep_output`).

Running the cells (here or on a Dask cluster) is :mod:`coach.sweep_backends`; writing them
is :mod:`coach.sweep_output`.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel

from coach import safe_yaml
from coach._version import __version__
from coach.messages import _model_of, quote, show_value
from coach.results import CHANNELS, REASONS
from coach.scenario import (
    SCENARIO_DIR,
    Scenario,
    ScenarioError,
    apply_overrides,
    read_yaml,
    scenario_from_data,
)

MAX_CELLS = 10_000
"""Largest grid accepted (cells). Beyond it a typo in a range (``1:100:1000``) would start
hours of work; split a bigger study into several sweeps."""
MAX_COUNT = 1_000  # largest COUNT in one START:STOP:COUNT range (values)

FIXED_FIELDS = {
    "version": "the scenario format version cannot be varied",
    "name": "the name is a label, not a model input",
    "description": "the description is a label, not a model input",
    "seed": "every cell runs on the same seed; set it with --seed",
    "replicates": "every cell runs the same replicates; set them with --replicates",
    "timeline": "timeline steps are a list; vary a habit instead, or write one sweep per timeline",
    "audience.segments": "segments are a list; vary audience fields such as audience.followers",
    "audience.market": "the market is a mapping of segment shares; set it with --set",
    "audience.activity_by_hour": "activity_by_hour is a list of 24 weights; set it with --set",
}
"""Fields a sweep does not vary, each with the reason shown to the user."""

METRICS = (
    ["followers_start", "followers_end", "net", "follows", "unfollows"]
    + [f"follows_{c}" for c in CHANNELS]
    + [f"unfollows_{r}" for r in REASONS]
    + ["minutes_per_day"]
)
"""The per-replicate columns of the tidy CSV (CONTRACTS.md), after the fields, replicate, seed."""


# --------------------------------------------------------------------------------------
# Axes: which fields, which values
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    """One varied field and its values, in the order given."""

    field: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class FieldKind:
    """What a dotted field accepts, read from the pydantic models."""

    path: str
    kind: str  # "int", "float", "bool", "platform" or "other"
    low: float | None
    high: float | None


def field_kind(path: str, source: str = "--vary") -> FieldKind:
    """Resolve ``habits.posts_per_day`` to its field, or raise a ScenarioError with a hint."""
    parts = path.split(".")
    model: type[BaseModel] | None = Scenario
    for i, part in enumerate(parts):
        here = ".".join(parts[: i + 1])
        if here in FIXED_FIELDS:
            raise ScenarioError([f"{source} {path}: cannot be varied ({FIXED_FIELDS[here]})"])
        if model is None:
            parent = ".".join(parts[:i])
            raise ScenarioError([f"{source} {path}: {parent} is a single value, so it has no field {part!r}"])
        names = [n for n in model.model_fields if ".".join([*parts[:i], n]) not in FIXED_FIELDS]
        if part not in model.model_fields:
            prefix = ".".join(parts[:i])
            full = [f"{prefix}.{n}" if prefix else n for n in names]
            close = difflib.get_close_matches(part, names, n=1, cutoff=0.6)
            hint = f" Did you mean {(prefix + '.' if prefix else '') + close[0]!r}?" if close else ""
            raise ScenarioError([f"{source} {path}: unknown field.{hint} Allowed here: {', '.join(full)}"])
        info = model.model_fields[part]
        sub = _model_of(info.annotation)
        if here == "platform":  # a preset name or a mapping: vary the preset, or one of its values
            if i == len(parts) - 1:
                return FieldKind(path, "platform", None, None)
            model = sub
            continue
        if i == len(parts) - 1:
            if sub is not None:
                inner = ", ".join(f"{path}.{n}" for n in sub.model_fields)
                raise ScenarioError([f"{source} {path}: is a group of fields; vary one of them: {inner}"])
            low = high = None
            for m in info.metadata:
                low = getattr(m, "ge", getattr(m, "gt", low))
                high = getattr(m, "le", getattr(m, "lt", high))
            kind = {int: "int", float: "float", bool: "bool"}.get(info.annotation, "other")
            return FieldKind(path, kind, low, high)
        model = sub
    raise ScenarioError([f"{source} {path}: not a field"])  # pragma: no cover - loop always returns


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^\s*({_NUMBER})\s*:\s*({_NUMBER})\s*:\s*(\d+)\s*(log)?\s*$")


def split_values(text: str) -> list[str]:
    """``1,2,[8, 22]`` → ``['1', '2', '[8, 22]']``: commas inside brackets do not split."""
    items, depth, current = [], 0, ""
    for char in text:
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        if char == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += char
    items.append(current)
    return [item.strip() for item in items]


def expand_range(text: str, kind: FieldKind, source: str = "--vary") -> list[Any] | None:
    """Values of ``START:STOP:COUNT`` (linear) or ``START:STOP:COUNTlog``; None if not a range.

    Floats are rounded to 12 significant digits (``0:1:11`` gives 0.3, not
    0.30000000000000004). On a whole-number field a linear range must land on whole numbers;
    a log range is rounded to the nearest whole number (``100:100000:4log`` → 100, 1000, …).
    """
    match = _RANGE.match(text)
    if not match:
        return None
    where = f"{source} {kind.path}={text}"
    start, stop, count, log = float(match[1]), float(match[2]), int(match[3]), bool(match[4])
    if kind.kind not in ("int", "float"):
        raise ScenarioError([f"{where}: a range needs a numeric field; list the values instead (V1,V2,…)"])
    if count < 2:
        raise ScenarioError([f"{where}: COUNT is {count}; allowed: 2 to {MAX_COUNT} values (or list one value)"])
    if count > MAX_COUNT:
        raise ScenarioError([f"{where}: COUNT is {count:,}; allowed: 2 to {MAX_COUNT:,} values"])
    if start == stop:
        raise ScenarioError([f"{where}: START and STOP are equal; allowed: two different ends"])
    if log and (start <= 0 or stop <= 0):
        raise ScenarioError([f"{where}: a log range needs START and STOP above 0"])
    raw = np.geomspace(start, stop, count) if log else np.linspace(start, stop, count)
    if kind.kind == "int":
        whole = np.round(raw)
        if not log and not np.allclose(raw, whole, rtol=0, atol=1e-9):
            shown = ", ".join(f"{v:g}" for v in raw[:4])
            raise ScenarioError(
                [f"{where}: {kind.path} takes whole numbers, but this range gives {shown}…; "
                 "choose COUNT so the steps are whole, or list the values"]
            )  # fmt: skip
        values: list[Any] = [int(v) for v in whole]
    else:
        values = [float(f"{v:.12g}") for v in raw]
    return values


def parse_values(field: str, text: str | Sequence[Any], source: str = "--vary") -> Axis:
    """An axis from ``V1,V2,…`` / a range (command line) or a list / range text (sweep file)."""
    kind = field_kind(field, source)
    if isinstance(text, str):
        items: list[Any] = []
        for item in split_values(text):
            if not item:
                continue
            expanded = expand_range(item, kind, source)
            if expanded is not None:
                items.extend(expanded)
                continue
            if ":" in item and kind.kind in ("int", "float"):
                raise ScenarioError(
                    [f"{source} {field}={item}: not a range; a range is START:STOP:COUNT with COUNT a whole "
                     f"number of values from 2 to {MAX_COUNT:,} (e.g. 0:48:5), or list the values (V1,V2,…)"]
                )  # fmt: skip
            try:
                items.append(safe_yaml.load(item))  # as --set: no 5,000-digit numbers, no deep nesting
            except safe_yaml.YamlRefused as exc:
                raise ScenarioError([f"{source} {field}: {exc.problem}"]) from None
            except yaml.YAMLError:
                raise ScenarioError([f"{source} {field}: cannot read the value {quote(item)}"]) from None
    else:
        items = list(text)
    if not items:
        raise ScenarioError([f"{source} {field}: no values; give a list (1,2,4) or a range (START:STOP:COUNT)"])
    seen: set[str] = set()
    for value in items:
        key = json.dumps(value, sort_keys=True)
        if key in seen:
            raise ScenarioError([f"{source} {field}: the value {value!r} is listed twice; give each value once"])
        seen.add(key)
    return Axis(field, tuple(items))


def parse_vary(option: str) -> Axis:
    """One ``--vary FIELD=V1,V2,…`` option."""
    field, sep, values = option.partition("=")
    field = field.strip()
    if not sep or not field:
        raise ScenarioError(
            [f"--vary {option!r}: expected FIELD=V1,V2,… or FIELD=START:STOP:COUNT, e.g. habits.posts_per_day=1,2,4"]
        )
    return parse_values(field, values)


# --------------------------------------------------------------------------------------
# The sweep and its cells
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One combination of values, as a ready scenario; ``index`` is its place in grid order."""

    index: int
    values: dict[str, Any]
    scenario: Scenario


def assign(data: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    """Raw scenario data with one field set, exactly as ``--set FIELD=VALUE`` sets it."""
    return apply_overrides(data, [f"{field}={json.dumps(value)}"])


@dataclass(frozen=True)
class Sweep:
    """A base scenario (as raw data, with --set, days, replicates and seed applied) and its axes."""

    base_json: str
    axes: tuple[Axis, ...]
    source: str = "<sweep>"

    @cached_property
    def base(self) -> Scenario:
        return scenario_from_data(json.loads(self.base_json), self.source)

    @property
    def replicates(self) -> int:
        return self.base.replicates

    @property
    def seed(self) -> int:
        return self.base.seed

    @property
    def days(self) -> int:
        return self.base.days

    @property
    def fields(self) -> list[str]:
        return [a.field for a in self.axes]

    @property
    def size(self) -> int:
        return math.prod(len(a.values) for a in self.axes)

    @property
    def runs(self) -> int:
        return self.size * self.replicates

    def vary(self) -> dict[str, list[Any]]:
        return {a.field: list(a.values) for a in self.axes}

    def fingerprint(self) -> str:
        """What makes two sweeps the same: base scenario, axes and package version."""
        text = json.dumps({"base": self.base_json, "vary": self.vary(), "version": __version__}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def combinations(self, start: int = 0) -> Iterator[dict[str, Any]]:
        """Field → value for each cell in grid order, from cell ``start`` (lazy: memory stays flat)."""
        product = itertools.product(*(a.values for a in self.axes))
        for values in itertools.islice(product, start, None):
            yield dict(zip(self.fields, values, strict=True))

    def scenario_for(self, values: Mapping[str, Any]) -> Scenario:
        data = json.loads(self.base_json)
        for field, value in values.items():
            data = assign(data, field, value)
        return scenario_from_data(data, source=self.source)

    def cells(self, start: int = 0) -> Iterator[Cell]:
        for index, values in enumerate(self.combinations(start), start=start):
            yield Cell(index, values, self.scenario_for(values))

    def check(self, max_problems: int = 5) -> None:
        """Raise one ScenarioError naming the first bad values, before any run starts."""
        if not self.axes:
            raise ScenarioError(["coach sweep: nothing to vary; add --vary FIELD=V1,V2,… (or vary: in a sweep file)"])
        fields = self.fields
        twice = sorted({f for f in fields if fields.count(f) > 1})
        if twice:
            raise ScenarioError([f"--vary {twice[0]}: given twice; give each field once"])
        if self.size > MAX_CELLS:
            sizes = " × ".join(str(len(a.values)) for a in self.axes)
            raise ScenarioError(
                [f"coach sweep: the grid has {sizes} = {self.size:,} cells; allowed: at most {MAX_CELLS:,}. "
                 "Use fewer values, or split the study into several sweeps"]
            )  # fmt: skip
        problems: list[str] = []
        # Each value alone first, so a bad value is named once rather than once per cell.
        for axis in self.axes:
            for value in axis.values:
                try:
                    self.scenario_for({axis.field: value})
                except ScenarioError as exc:
                    problems.append(f"--vary {axis.field}={_text(value)}: {_strip(exc.problems[0], self.source)}")
        if not problems and len(self.axes) > 1:
            for values in self.combinations():
                try:
                    self.scenario_for(values)
                except ScenarioError as exc:
                    problems.append(f"--vary cell {cell_label(values)}: {_strip(exc.problems[0], self.source)}")
                if len(problems) >= max_problems:
                    break
        if problems:
            raise ScenarioError(problems[:max_problems])


def _strip(problem: str, source: str) -> str:
    return problem[len(source) + 2 :] if problem.startswith(f"{source}: ") else problem


def _text(value: Any) -> str:
    """A value as written on the command line and in the CSV (``0.5``, ``[8, 22]``, ``x``)."""
    return value if isinstance(value, str) else json.dumps(value)


def cell_label(values: Mapping[str, Any]) -> str:
    """A cell's values as written on the command line: ``habits.posts_per_day=2, habits.reply_rate=0.5``."""
    return ", ".join(f"{f}={_text(v)}" for f, v in values.items())


# --------------------------------------------------------------------------------------
# Building a sweep from the command line or a sweep file
# --------------------------------------------------------------------------------------


def _persona_or_path(name: str, relative_to: Path | None) -> Path:
    path = Path(name)
    if relative_to is not None and not path.is_absolute() and (relative_to / path).exists():
        return relative_to / path
    if path.exists() or path.suffix in (".yaml", ".yml") or "/" in name:
        return path
    bundled = SCENARIO_DIR / f"{name}.yaml"
    return bundled if bundled.exists() else path


_SWEEP_KEYS = ("kind", "scenario", "vary", "replicates", "seed", "days", "set")


def build_sweep(
    file: str,
    vary: Sequence[str] = (),
    *,
    sets: Sequence[str] = (),
    replicates: int | None = None,
    seed: int | None = None,
    days: int | None = None,
) -> Sweep:
    """A checked sweep from ``FILE`` (scenario, persona name or ``kind: sweep`` file) and options.

    Command-line values win over a sweep file's: ``--vary`` replaces the file's values for
    the same field and adds new fields after the file's; ``--set`` applies after its ``set:``.
    """
    path = _persona_or_path(file, None)
    try:
        raw = safe_yaml.read_regular(path)
    except FileNotFoundError:
        raise ScenarioError([f"{file}: no such file or bundled persona"]) from None
    except OSError as exc:
        raise ScenarioError([f"{file}: cannot be read ({exc.strerror})"]) from None
    data = read_yaml(raw, str(path))
    axes: dict[str, Axis] = {}
    overrides: list[str] = []
    source = str(path)
    if "kind" in data and data["kind"] != "sweep":
        close = difflib.get_close_matches(str(data["kind"]), ["sweep"], n=1, cutoff=0.6)
        hint = " Did you mean 'sweep'?" if close else ""
        raise ScenarioError(
            [f"{path}: kind: {quote(data['kind'])} is not allowed; allowed: sweep (a sweep file), or no kind for a scenario file.{hint}"]
        )  # fmt: skip
    if data.get("kind") == "sweep":
        unknown = [k for k in data if k not in _SWEEP_KEYS]
        if unknown:
            close = difflib.get_close_matches(str(unknown[0]), _SWEEP_KEYS, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ScenarioError([f"{path}: {unknown[0]}: unknown key.{hint} Allowed keys: {', '.join(_SWEEP_KEYS)}"])
        if not isinstance(data.get("scenario"), str):
            given = "missing" if data.get("scenario") is None else f"{show_value(data['scenario'])} is not allowed"
            raise ScenarioError([f"{path}: scenario: {given}; allowed: a scenario file (relative to this file) or a persona name"])  # fmt: skip
        spec = data.get("vary")
        if not isinstance(spec, dict) or not spec:
            raise ScenarioError([f"{path}: vary: allowed: a mapping of field to a list of values or a range, e.g. habits.posts_per_day: [1, 2, 4]"])  # fmt: skip
        for field, values in spec.items():
            if not isinstance(values, str | list):
                values = [values]
            axes[str(field)] = parse_values(str(field), values if isinstance(values, list) else str(values), f"{path}: vary:")  # fmt: skip
        fixed = data.get("set") or {}
        if not isinstance(fixed, dict):
            raise ScenarioError([f"{path}: set: allowed: a mapping of field to value, e.g. habits.link_share: 0.1"])
        overrides += [f"{k}={json.dumps(v)}" for k, v in fixed.items()]
        for key, given in (("replicates", replicates), ("seed", seed), ("days", days)):
            if given is None and key in data:
                if not isinstance(data[key], int) or isinstance(data[key], bool):
                    raise ScenarioError([f"{path}: {key}: {data[key]!r} is not allowed; allowed: a whole number"])
                overrides.append(f"{key}={data[key]}")
        scenario_path = _persona_or_path(data["scenario"], path.parent)
        try:
            raw = safe_yaml.read_regular(scenario_path)
        except FileNotFoundError:
            raise ScenarioError([f"{path}: scenario: {data['scenario']!r} is neither a file nor a bundled persona"]) from None  # fmt: skip
        except OSError as exc:
            raise ScenarioError([f"{path}: scenario: {data['scenario']!r} cannot be read ({exc.strerror})"]) from None
        source = str(scenario_path)
        data = read_yaml(raw, source)
    varied: set[str] = set()
    for option in vary:
        axis = parse_vary(option)
        if axis.field in varied:  # the later one silently won
            raise ScenarioError(
                [f"--vary {axis.field}: given twice; give each field once, with all its values (V1,V2,…)"]
            )
        varied.add(axis.field)
        axes[axis.field] = axis  # replaces the file's values for the same field
    options = {key: value for key, value in (("replicates", replicates), ("seed", seed), ("days", days)) if value is not None}  # fmt: skip
    # Cells start from the file's data with the overrides applied, as `coach run --set` does.
    # Each stage is checked on its own (before the axes), so a mistake is reported as its
    # author's: the scenario file's, the sweep file's (set:, replicates, seed, days), or the
    # command line's.
    scenario_from_data(data, source)
    base_data = data
    stages = (  # (assignments, how apply_overrides names a slip in one, who wrote them)
        (overrides, f"{path}: set:", str(path)),
        (list(sets), "--set", "--set " + " ".join(sets)),
        ([f"{k}={v}" for k, v in options.items()], "--set", " ".join(f"--{k} {v}" for k, v in options.items())),
    )
    for assignments, label, author in stages:
        if assignments:
            base_data = apply_overrides(base_data, assignments, label)
            scenario_from_data(base_data, author)
    sweep = Sweep(json.dumps(base_data, sort_keys=True, default=str), tuple(axes.values()), source)
    sweep.check()
    return sweep


def sweep_of(scenario: Scenario, axes: Iterable[Axis]) -> Sweep:
    """A sweep around an in-memory scenario (the app's current settings)."""
    sweep = Sweep(scenario.model_dump_json(), tuple(axes), "your settings")
    sweep.check()
    return sweep


__all__ = [
    "MAX_CELLS",
    "METRICS",
    "Axis",
    "Cell",
    "FieldKind",
    "Sweep",
    "build_sweep",
    "expand_range",
    "field_kind",
    "parse_values",
    "parse_vary",
    "split_values",
    "sweep_of",
]
