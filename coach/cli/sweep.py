"""``coach sweep``: a full grid over scenario fields, on the same seeds, locally or on Dask.

Every value is checked (fields, ranges, the grid's size, every cell's scenario) before the
first run, so a typo costs nothing. Rows stream to ``--out`` as cells finish, and a re-run
with the same ``--out`` resumes (see :mod:`coach.sweep_output`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TextIO

from coach.cli.common import (
    EXIT_OK,
    JobCost,
    UsageError,
    announce_cost,
    check_cost,
    examples,
    quiet_option,
    same_file,
    whole_number,
)
from coach.scenario import ScenarioError
from coach.sweep import Sweep, build_sweep, cell_label
from coach.sweep_backends import SCHEDULER_ENV, SweepProgress, check_scheduler, run_sweep, scheduler_address
from coach.sweep_output import FORMATS, JOURNAL_SUFFIX, SweepOutput


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="scenario file, persona name, or a sweep file (kind: sweep)")
    p.add_argument(
        "--vary",
        action="append",
        metavar="FIELD=VALUES",
        help="a field and its values: habits.posts_per_day=1,2,4 or a range START:STOP:COUNT "
        "(linear) or START:STOP:COUNTlog (repeatable; every combination is run)",
    )
    p.add_argument("--days", type=whole_number, help="horizon in days (1..730); overrides the file")
    p.add_argument("--replicates", type=whole_number, help="runs per cell (1..500); overrides the file")
    p.add_argument("--seed", type=whole_number, help="random seed of every cell; overrides the file")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE", help="fix a field in every cell (repeatable)")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    p.add_argument(
        "--out",
        metavar="PATH",
        help=f"write to a file as cells finish; running again with the same PATH resumes "
        f"(a journal PATH{JOURNAL_SUFFIX} is kept beside it)",
    )
    p.add_argument("--fresh", action="store_true", help="with --out: start over, replacing what is there")
    quiet_option(p)  # as every long-running command
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help=f"run the cells on a Dask cluster (tcp://HOST:8786); default: ${SCHEDULER_ENV}, else this machine",
    )
    examples(
        p,
        """  coach sweep steady_professional --vary habits.posts_per_day=0.5:12:12 --vary habits.reply_rate=0:1:5
                                                     a 12 x 5 grid, every cell on the same seeds
  coach sweep billboard --vary habits.link_share=0,0.25,0.5,0.75 --replicates 50 --format csv --out links.csv
                                                     streamed; run it again to resume
  coach sweep study.yaml                             a sweep file (kind: sweep)
  coach sweep me.yaml --vary audience.followers=100:100000:4log --scheduler tcp://10.0.0.5:8786
""",
    )


def progress_line(
    stream: TextIO | None = None, after_seconds: float = 1.0, every_seconds: float = 0.2
) -> SweepProgress:
    """``[####....] 12/60 cells, 240/1200 runs, 14 s, about 40 s left`` on stderr (long sweeps only)."""
    stream = stream or sys.stderr
    start = time.perf_counter()
    first: int | None = None  # runs already done when this process started (resumed cells)
    shown = False
    last = 0.0

    def update(cells: int, cells_total: int, runs: int, runs_total: int) -> None:
        nonlocal first, shown, last
        now = time.perf_counter()
        if first is None:
            first = runs
        elapsed = now - start
        finished = cells == cells_total
        if (not shown and elapsed < after_seconds and not finished) or (now - last < every_seconds and not finished):
            return
        if not shown and finished and elapsed < after_seconds:
            return
        shown, last = True, now
        ran = runs - first
        left = f", about {_duration(elapsed / ran * (runs_total - runs))} left" if ran > 0 and not finished else ""
        width = 30
        filled = int(width * runs / runs_total)
        stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {cells}/{cells_total} cells, "
            f"{runs}/{runs_total} runs, {_duration(elapsed)}{left}   "
        )
        if finished:
            stream.write("\n")
        stream.flush()

    return update


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


MAX_PROBLEMS = 5  # refused cells named; the rest counted


def check_local_cost(sweep: Sweep) -> JobCost:
    """Refuse a sweep with cells this machine cannot hold (each named by its values); its expected time."""
    cells = list(sweep.cells())
    labels = [f"The cell {cell_label(c.values)}" for c in cells]
    try:
        return check_cost([c.scenario for c in cells], sweep.replicates, quiet=True, labels=labels)
    except ScenarioError as exc:
        shown, more = exc.problems[:MAX_PROBLEMS], len(exc.problems) - MAX_PROBLEMS
        raise ScenarioError(shown + ([f"… and {more} more cells like these"] if more > 0 else [])) from None


def handle(args: argparse.Namespace) -> int:
    sweep = build_sweep(
        args.file,
        args.vary or [],
        sets=args.set or [],
        replicates=args.replicates,
        seed=args.seed,
        days=args.days,
    )
    try:
        address = scheduler_address(args.scheduler, os.environ)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if address:
        check_scheduler(address)  # before the table's head is written: a bad address leaves no half output
    if args.out and same_file(args.out, sweep.source):  # a sweep file's scenario: is read too
        raise UsageError(f"--out {args.out} is the scenario this sweep reads ({sweep.source}); give another path")
    # A cluster's workers have their own memory and cores: this machine's limits are not theirs.
    cost = None if address else check_local_cost(sweep)  # before --fresh removes anything
    output = SweepOutput(sweep, args.format, args.out, fresh=args.fresh)
    done = output.open()
    if cost is not None and not args.quiet and done < sweep.size:
        left = (sweep.size - done) / sweep.size  # the cells are alike enough for a first estimate
        ending = "Ctrl+C stops" + ("; running the same command again resumes" if args.out else "")
        announce_cost((sweep.size - done) * sweep.replicates, cost.wall * left, cost.peak, ending=ending)
    if done == sweep.size:
        print(f"nothing to run: all {done} cells are already in {args.out} (--fresh starts over)", file=sys.stderr)
    elif done:
        print(f"resuming {args.out}: {done} of {sweep.size} cells are already there", file=sys.stderr)
    complete = False
    try:
        progress = None if args.quiet else progress_line()
        for result in run_sweep(sweep, start=done, scheduler=address, progress=progress):
            output.add(result)
        complete = True
    except KeyboardInterrupt:
        if args.out:
            print(
                f"\ninterrupted: {output.done} of {sweep.size} cells are in {args.out}; "
                "run the same command again to resume",
                file=sys.stderr,
            )
        raise
    finally:
        output.close(complete)
    if args.out:
        where = f" on {address}" if address else ""
        print(f"wrote {args.out}: {sweep.size} cells × {sweep.replicates} runs{where}", file=sys.stderr)
    return EXIT_OK
