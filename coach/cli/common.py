"""What every command shares: exit codes, loading a scenario with the run options, the
progress bar, writing output, and the run and compare tables."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from coach.experiments import Progress
from coach.messages import quote
from coach.results import CHANNELS, REASONS, Ensemble, fmt_interval, paired_difference
from coach.scenario import SCENARIO_DIR, Scenario, ScenarioError, load_scenario

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A command-line mistake (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 itself; keep its wording
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


# --------------------------------------------------------------------------------------
# Helpers shared by commands
# --------------------------------------------------------------------------------------


def resolve_scenario_path(name: str) -> Path:
    """A path as given, or the name of a bundled persona (``conversationalist``)."""
    path = Path(name)
    if path.exists() or path.suffix in (".yaml", ".yml") or "/" in name:
        return path
    bundled = SCENARIO_DIR / f"{name}.yaml"
    return bundled if bundled.exists() else path


def load_for_cli(name: str, args: argparse.Namespace) -> Scenario:
    """Load a scenario with the run options (--days, --replicates, --seed, --set) applied."""
    overrides = list(getattr(args, "set", None) or [])
    for option in ("days", "replicates", "seed"):
        value = getattr(args, option, None)
        if value is not None:
            overrides.append(f"{option}={value}")
    return load_scenario(resolve_scenario_path(name), overrides)


ANNOUNCE_ABOVE_SECONDS = 3.0  # runs expected to take longer than this print their estimate first, seconds


def check_cost(scenarios: Sequence[Scenario], runs_each: int, candidates: int = 1, stream: TextIO = sys.stderr) -> None:
    """Refuse scenarios whose projected memory this machine cannot hold (ScenarioError, exit 1);
    announce the expected time of long jobs before they start.

    ``candidates``: variants of each scenario the job runs (the coach tries dozens).
    """
    from coach import budget  # psutil and friends only when a run is about to start
    from coach.experiments import worker_count

    problems, seconds, peak = [], 0.0, 0.0
    workers = worker_count()
    limits = budget.cli_limits(min(workers, runs_each * candidates * len(scenarios)))
    for scenario in scenarios:
        where = f"{scenario.name!r}" if len(scenarios) > 1 else "This scenario"
        problems += budget.check(scenario, limits, runs=runs_each, where=where)
        projection = budget.project(scenario)
        seconds += projection.seconds_per_run * runs_each * candidates
        peak = max(peak, projection.typical_followers)
    if problems:
        raise ScenarioError(problems)
    runs = len(scenarios) * runs_each * candidates
    wall = seconds / max(1, min(workers, runs))
    if wall > ANNOUNCE_ABOVE_SECONDS:
        stream.write(
            f"coach: {'about ' if candidates > 1 else ''}{runs:,} runs, expected to take about {budget.describe_seconds(wall)} "
            f"on {workers} core(s) (crowds up to about {peak:,.0f} followers); Ctrl+C stops.\n"
        )
        stream.flush()


def progress_bar(stream: TextIO = sys.stderr, after_seconds: float = 1.0) -> Progress:
    """A text progress bar on stderr that appears only for runs longer than ``after_seconds``."""
    start = time.perf_counter()
    shown = False

    def update(done: int, total: int) -> None:
        nonlocal shown
        elapsed = time.perf_counter() - start
        if not shown and elapsed < after_seconds:
            return
        shown = True
        width = 30
        filled = int(width * done / total)
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} runs, {elapsed:.1f} s")
        if done == total:
            stream.write("\n")
        stream.flush()

    return update


def write_output(text: str, out: str | None) -> None:
    if out:
        try:
            Path(out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ScenarioError([f"--out {out}: cannot write ({exc.strerror})"]) from None
        print(f"wrote {out}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def table(ensemble: Ensemble) -> str:
    """A readable summary of one ensemble."""
    s = ensemble.summary()
    sc = ensemble.scenario
    lines = [
        f"{sc.name}  ({sc.platform.name}, {ensemble.days} days, {ensemble.replicates} runs, seed {ensemble.seed})",
        "median (10th to 90th percentile)",
        "",
        f"  followers   {s['followers_start']:>8,} -> {fmt_interval(s['followers_end'])}",
        f"  net change  {fmt_interval(s['net'], signed=True)}",
        f"  follows     {fmt_interval(s['follows'])}",
    ]
    lines += [f"    {c:<13} {fmt_interval(s['follows_by_channel'][c])}" for c in CHANNELS]
    lines.append(f"  unfollows   {fmt_interval(s['unfollows'])}")
    lines += [f"    {r:<13} {fmt_interval(s['unfollows_by_reason'][r])}" for r in REASONS]
    lines += [
        f"  engagement per post  {s['engagement_per_post']['median']:.1f}",
        f"  minutes per day      {s['minutes_per_day']:.0f}",
    ]
    return "\n".join(lines)


COMPARED = ["followers_end", "net", "follows", "unfollows"] + [f"unfollows_{r}" for r in REASONS]


def compare_rows(ensembles: Sequence[Ensemble]) -> list[dict[str, Any]]:
    """For each scenario after the first: paired differences from the first."""
    base = ensembles[0]
    rows = []
    for other in ensembles[1:]:
        rows.append({
            "scenario": other.scenario.name,
            "versus": base.scenario.name,
            "difference": {name: paired_difference(base, other, name) for name in COMPARED},
        })  # fmt: skip
    return rows


def compare_table(ensembles: Sequence[Ensemble]) -> str:
    parts = [table(e) for e in ensembles]
    lines = ["", f"Differences from {ensembles[0].scenario.name!r} on the same seeds: median (80% interval)"]
    for row in compare_rows(ensembles):
        lines.append(f"  {row['scenario']}")
        for name, q in row["difference"].items():
            lines.append(f"    {name:<18} {fmt_interval(q, signed=True)}")
    return "\n\n".join(parts) + "\n" + "\n".join(lines)


def whole_number(text: str) -> int:
    """An argparse type for counts: a whole number, and a short echo of anything else."""
    try:
        if len(text) > 40:  # Python refuses to convert 4,300+ digits; no count needs 40
            raise ValueError
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {quote(text)}") from None


def run_options(p: argparse.ArgumentParser, formats: Sequence[str] = ("table", "json", "csv")) -> None:
    p.add_argument("--days", type=whole_number, help="horizon in days (1..730); overrides the file")
    p.add_argument("--replicates", type=whole_number, help="number of runs (1..500); overrides the file")
    p.add_argument("--seed", type=whole_number, help="random seed; overrides the file")
    p.add_argument(
        "--set",
        action="append",
        metavar="FIELD=VALUE",
        help="override a field, e.g. habits.posts_per_day=8 (repeatable)",
    )
    p.add_argument("--format", choices=formats, default="table", help="output format (default: table)")
    p.add_argument("--out", metavar="PATH", help="write to a file instead of stdout")
