"""Writing a sweep as cells finish: tidy CSV, JSON or a table, to stdout or to a resumable file.

Every format streams: a cell's rows are written (and flushed) as soon as the cell is
delivered, and nothing but the best cell so far is kept in memory, so memory stays flat
however large the grid.

Resuming (``--out PATH``)
    Cells arrive in grid order (:mod:`coach.sweep`), so the finished part of an interrupted
    sweep is always the first K cells. Beside ``PATH`` a small journal ``PATH.sweep.jsonl``
    records which sweep writes it: its first line holds the sweep's fingerprint (base scenario,
    axes, package version) and the format. For ``json`` and ``table`` the journal also gets one
    line per finished cell (its values and summary), and ``PATH`` is written from it when the
    last cell is in; for ``csv`` the rows go straight to ``PATH``, which is itself the record.
    A re-run with the same ``--out`` reads the journal, checks that it is the same sweep,
    keeps every complete cell (a torn last line or a half-written cell is cut off) and runs
    only the rest. The journal stays after the sweep is complete so that a later re-run knows
    ``PATH`` is finished; a different sweep on the same ``PATH`` is refused (``--fresh``
    starts over).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from coach._version import __version__
from coach.results import fmt_interval
from coach.scenario import ScenarioError
from coach.sweep import METRICS, Sweep, _text, cell_label
from coach.sweep_backends import CellResult

FORMATS = ("table", "json", "csv")
JOURNAL_SUFFIX = ".sweep.jsonl"


def csv_header(sweep: Sweep) -> list[str]:
    return [*sweep.fields, "replicate", "seed", *METRICS]


def csv_rows(sweep: Sweep, result: CellResult) -> list[list[str]]:
    fixed = [_text(result.values[f]) for f in sweep.fields]
    return [fixed + [_text(v) for v in row] for row in result.rows]


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def json_head(sweep: Sweep) -> dict[str, Any]:
    """The JSON object's fields before ``cells`` (CONTRACTS.md)."""
    base = sweep.base
    return {
        "scenario": base.name,
        "seed": sweep.seed,
        "replicates": sweep.replicates,
        "days": sweep.days,
        "version": __version__,
        "vary": sweep.vary(),
        "provenance": {"sweep_sha256": sweep.fingerprint(), "replicate_indices": f"0..{sweep.replicates - 1}"},
    }


def cell_json(result: CellResult) -> dict[str, Any]:
    return {"values": result.values, "summary": result.summary}


def _first_bytes(path: Path, count: int) -> bytes:
    with path.open("rb") as f:
        return f.read(count)


class _Table:
    """Table lines, one per cell, and the best cell for net change."""

    def __init__(self, sweep: Sweep):
        self.sweep = sweep
        self.widths = [max(len(f), 8) for f in sweep.fields]
        self.best: tuple[float, dict[str, Any]] | None = None

    def head(self) -> str:
        s = self.sweep
        title = (
            f"{s.base.name}: {s.size} cells × {s.replicates} runs, {s.days} days, seed {s.seed} "
            "(same seeds in every cell)"
        )
        cols = "  ".join(f"{f:>{w}}" for f, w in zip(s.fields, self.widths, strict=True))
        return f"{title}\nmedian (10th to 90th percentile)\n\n{cols}  {'net change':>24}  {'followers at the end':>26}  {'unfollows':>22}  min/day\n"

    def line(self, values: dict[str, Any], summary: dict[str, Any]) -> str:
        net = summary["net"]["median"]
        if self.best is None or net > self.best[0]:
            self.best = (net, values)
        cols = "  ".join(f"{_text(values[f]):>{w}}" for f, w in zip(self.sweep.fields, self.widths, strict=True))
        return (
            f"{cols}  {fmt_interval(summary['net'], signed=True):>24}  {fmt_interval(summary['followers_end']):>26}"
            f"  {fmt_interval(summary['unfollows']):>22}  {summary['minutes_per_day']:>7.0f}\n"
        )

    def tail(self) -> str:
        if self.best is None:
            return ""
        return f"\nlargest median net change: {cell_label(self.best[1])} ({self.best[0]:+,.0f} followers)\n"


class SweepOutput:
    """Streams a sweep's cells in one format to stdout or to a resumable ``--out`` file.

    Use: ``done = output.open()`` (cells already written), ``output.add(result)`` per cell in
    grid order, then ``output.close()``.
    """

    def __init__(self, sweep: Sweep, fmt: str = "table", out: str | None = None, *, fresh: bool = False,
                 stdout: TextIO | None = None):  # fmt: skip
        if fmt not in FORMATS:
            raise ValueError(f"format {fmt!r}; allowed: {', '.join(FORMATS)}")
        self.sweep, self.fmt, self.fresh = sweep, fmt, fresh
        self.path = Path(out) if out else None
        self.journal = Path(f"{out}{JOURNAL_SUFFIX}") if out else None
        self.stdout = stdout or sys.stdout
        self.table = _Table(sweep)
        self.done = 0
        self._stream: TextIO | None = None
        self._log: TextIO | None = None
        self._first = True

    # ---- opening ----------------------------------------------------------------------

    def open(self) -> int:
        """Prepare the destination; return how many cells (a prefix of the grid) are already done."""
        if self.path is None:
            self._stream = self.stdout
            self._write_head(self._stream)
            return 0
        try:
            self.done = self._open_file()
        except OSError as exc:
            raise ScenarioError([f"--out {self.path}: cannot write ({exc.strerror})"]) from None
        return self.done

    def _header_line(self) -> dict[str, Any]:
        return {"sweep": self.sweep.fingerprint(), "format": self.fmt, "cells": self.sweep.size}

    def _open_file(self) -> int:
        assert self.path is not None and self.journal is not None
        if self.fresh:
            self.path.unlink(missing_ok=True)
            self.journal.unlink(missing_ok=True)
        if not self.journal.exists():
            if self.path.exists():
                raise ScenarioError(
                    [f"--out {self.path}: the file exists and was not written by a sweep (there is no "
                     f"{self.journal.name} beside it); pass --fresh to overwrite it, or choose another --out"]
                )  # fmt: skip
            self._log = self.journal.open("w", encoding="utf-8")
            self._log.write(json.dumps(self._header_line()) + "\n")
            self._log.flush()
            if self.fmt == "csv":
                self._stream = self.path.open("w", encoding="utf-8", newline="")
                self._stream.write(csv_text([csv_header(self.sweep)]))
                self._stream.flush()
            return 0
        header = self._check_journal()
        if header["format"] != self.fmt:
            raise ScenarioError(
                [f"--out {self.path}: this sweep was written as {header['format']}; use --format "
                 f"{header['format']} to resume it, or --fresh to start over as {self.fmt}"]
            )  # fmt: skip
        if self.fmt == "csv":
            done = self._resume_csv()
            self._log = self.journal.open("a", encoding="utf-8")
        else:
            done = self._resume_journal()
            self._log = self.journal.open("a", encoding="utf-8")
        return done

    def _check_journal(self) -> dict[str, Any]:
        assert self.journal is not None
        with self.journal.open(encoding="utf-8") as f:
            first = f.readline()
        try:
            header = json.loads(first)
            if not {"sweep", "format"} <= set(header):
                raise KeyError("sweep")
        except (ValueError, KeyError, TypeError):
            raise ScenarioError(
                [f"--out {self.path}: {self.journal.name} is not a sweep journal; pass --fresh to start over"]
            ) from None
        if header["sweep"] != self.sweep.fingerprint():
            raise ScenarioError(
                [f"--out {self.path}: holds a different sweep (another scenario, --set, --vary, runs, seed, "
                 "days or coach version); pass --fresh to overwrite it, or choose another --out"]
            )  # fmt: skip
        return header

    def _resume_csv(self) -> int:
        """Keep the complete cells at the start of the CSV, cut anything after them, count them."""
        assert self.path is not None
        header = csv_text([csv_header(self.sweep)]).encode()
        reps, fields = self.sweep.replicates, len(self.sweep.fields)
        if not self.path.exists() or _first_bytes(self.path, len(header)) != header:
            self._stream = self.path.open("w", encoding="utf-8", newline="")
            self._stream.write(header.decode())
            self._stream.flush()
            return 0
        done, keep, width = 0, len(header), len(csv_header(self.sweep))
        with self.path.open("rb") as f:
            f.seek(len(header))
            lines = iter(f)
            for number, values in enumerate(self.sweep.combinations(), start=0):
                expected = [_text(values[k]) for k in self.sweep.fields]
                complete = True
                size = 0
                for r in range(reps):
                    line = next(lines, b"")
                    if not line.endswith(b"\n"):
                        complete = False
                        break
                    row = next(csv.reader([line.decode("utf-8", errors="replace")]))
                    if len(row) != width or row[:fields] != expected or row[fields : fields + 2] != [str(r), str(self.sweep.seed)]:  # fmt: skip
                        raise ScenarioError(
                            [f"--out {self.path}: a row of cell {number + 1} is not the one this sweep writes "
                             f"(expected {', '.join(expected)}, replicate {r}); pass --fresh to start over"]
                        )  # fmt: skip
                    size += len(line)
                if not complete:
                    break
                done, keep = number + 1, keep + size
                if done == self.sweep.size:
                    break
        self._stream = self.path.open("r+", encoding="utf-8", newline="")
        self._stream.truncate(keep)
        self._stream.seek(keep)
        return done

    def _journal_cells(self) -> Iterator[dict[str, Any]]:
        assert self.journal is not None
        with self.journal.open(encoding="utf-8") as f:
            f.readline()
            for line in f:
                yield json.loads(line)

    def _resume_journal(self) -> int:
        """Count the complete cell lines after the journal's header; cut a torn last line."""
        assert self.journal is not None
        done, keep = 0, 0
        with self.journal.open("rb") as f:
            keep = len(f.readline())
            for line in f:
                if not line.endswith(b"\n"):
                    break
                try:
                    cell = json.loads(line)
                except ValueError:
                    break
                if cell.get("index") != done:
                    break
                done, keep = done + 1, keep + len(line)
        with self.journal.open("r+b") as f:
            f.truncate(keep)
        return done

    def _write_head(self, stream: TextIO) -> None:
        if self.fmt == "csv":
            stream.write(csv_text([csv_header(self.sweep)]))
        elif self.fmt == "json":
            head = json.dumps(json_head(self.sweep), indent=1)
            stream.write(head[: head.rindex("}")].rstrip() + ',\n "cells": [\n')
        else:
            stream.write(self.table.head())
        stream.flush()

    # ---- cells ------------------------------------------------------------------------

    def add(self, result: CellResult) -> None:
        """Write one cell (they arrive in grid order) and flush it, so an interruption keeps it."""
        if result.index != self.done:
            raise ValueError(f"cell {result.index} arrived, expected {self.done}")
        self.done += 1
        if self.fmt == "csv":
            assert self._stream is not None
            self._stream.write(csv_text(csv_rows(self.sweep, result)))
            self._stream.flush()
        elif self._log is not None:  # json or table to a file: the journal is the record
            self._log.write(json.dumps({"index": result.index} | cell_json(result)) + "\n")
            self._log.flush()
        else:
            assert self._stream is not None
            if self.fmt == "json":
                self._stream.write(("" if self._first else ",\n") + "  " + json.dumps(cell_json(result)))
            else:
                self._stream.write(self.table.line(result.values, result.summary))
            self._stream.flush()
        self._first = False

    # ---- closing ----------------------------------------------------------------------

    def close(self, complete: bool = True) -> None:
        """Finish the output (a complete sweep writes ``--out`` in full); always release files."""
        try:
            if complete:
                self._finish()
        finally:
            for f in (self._log, self._stream if self._stream is not self.stdout else None):
                if f is not None:
                    f.close()
            self._log = None

    def _finish(self) -> None:
        if self.path is None:
            assert self._stream is not None
            if self.fmt == "json":
                self._stream.write("\n ]\n}\n")
            elif self.fmt == "table":
                self._stream.write(self.table.tail())
            self._stream.flush()
            return
        if self.fmt == "csv":
            return
        assert self._log is not None
        self._log.flush()
        partial = self.path.with_name(self.path.name + ".tmp")
        with partial.open("w", encoding="utf-8") as f:
            self._write_head(f)
            if self.fmt == "json":
                for i, cell in enumerate(self._journal_cells()):
                    f.write(("" if i == 0 else ",\n") + "  " + json.dumps({k: cell[k] for k in ("values", "summary")}))
                f.write("\n ]\n}\n")
            else:
                table = _Table(self.sweep)
                for cell in self._journal_cells():
                    f.write(table.line(cell["values"], cell["summary"]))
                f.write(table.tail())
        os.replace(partial, self.path)
