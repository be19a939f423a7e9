"""What every command shares: exit codes, loading a scenario with the run options, the
progress bar, writing output, and the run and compare tables."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple, TextIO

import numpy as np

from coach import safe_yaml
from coach.messages import counted, quote
from coach.results import (
    CHANNEL_WORDS,
    CHANNELS,
    INTERVAL_RUNS,
    REASON_WORDS,
    REASONS,
    Ensemble,
    few_runs,
    paired_difference,
    quantiles,
)
from coach.scenario import (
    SCENARIO_DIR,
    Scenario,
    ScenarioError,
    apply_overrides,
    bundled_scenarios,
    load_scenario,
    read_yaml,
    scenario_from_data,
)

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


def persona_names() -> list[str]:
    return [p.stem for p in bundled_scenarios()]


def resolve_scenario_path(name: str) -> Path:
    """A path as given, or the name of a bundled persona (``conversationalist``).

    A name that is neither an existing file nor a persona is an error that lists the
    personas and suggests the closest one (``conversatonalist`` → ``conversationalist``).
    """
    path = Path(name)
    if path.exists() or path.suffix in (".yaml", ".yml") or "/" in name or "\\" in name:
        return path
    bundled = SCENARIO_DIR / f"{name}.yaml"
    if bundled.exists():
        return bundled
    names = persona_names()
    close = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]}?" if close else ""
    raise ScenarioError(
        [
            f"{name}: no such file, and no bundled persona of that name.{hint} "
            f"Personas: {', '.join(names)} (see `coach scenarios`)."
        ]
    )


def split_target(assignment: str, count: int) -> tuple[int | None, str]:
    """``2:habits.reply_rate=0.8`` → (2, ``habits.reply_rate=0.8``); no prefix → (None, as given).

    The prefix picks which scenario of a ``compare`` a ``--set`` applies to (1-based).
    """
    head, sep, rest = assignment.partition(":")
    if not sep or not head.strip().isdigit() or "=" in head:
        return None, assignment
    index = int(head)
    if not 1 <= index <= count:
        which = "the only scenario (1)" if count == 1 else f"scenarios 1 to {count}"
        raise UsageError(f"--set {assignment}: there is no scenario {index}; allowed: {which}")
    return index, rest


def _plain_change(assignment: str) -> str:
    key, _, value = assignment.partition("=")
    return f"{key.strip().split('.')[-1].replace('_', ' ')} {value.strip()}"


def load_for_cli(name: str, args: argparse.Namespace, index: int = 1, count: int = 1) -> Scenario:
    """Load a scenario with the run options (--days, --replicates, --seed, --set) applied.

    The file is checked on its own first, so a mistake in a ``--set`` is reported as the
    option's (``--set habits.nope=1: …``), not as the file's. ``--set N:FIELD=VALUE`` applies
    to the N-th scenario only (for ``compare``); a scenario changed that way gets the change in
    its name, so a persona and its tweaked copy can be told apart.
    """
    path = resolve_scenario_path(name)
    scenario = load_scenario(path)
    data = read_yaml(safe_yaml.read_regular(path), str(path))  # load_scenario has checked it
    targeted, shared, given = [], [], []  # given: as typed, with any N: prefix, for the messages
    for item in getattr(args, "set", None) or []:
        target, assignment = split_target(item, count)
        if target is None:
            shared.append(assignment)
            given.append(item)
        elif target == index:
            targeted.append(assignment)
            given.append(item)
    sets = shared + targeted
    if sets:
        data = apply_overrides(data, sets, "--set")
        scenario = scenario_from_data(data, source="--set " + " ".join(given))
    options = []
    for option in ("days", "replicates", "seed"):
        value = getattr(args, option, None)
        if value is not None:
            options.append((option, value))
    if options:
        data = apply_overrides(data, [f"{k}={v}" for k, v in options])
        scenario = scenario_from_data(data, source=" ".join(f"--{k} {v}" for k, v in options))
    if targeted:
        suffix = " (" + ", ".join(_plain_change(a) for a in targeted) + ")"
        scenario = scenario.model_copy(update={"name": (scenario.name + suffix)[:80]})
    return scenario


class JobCost(NamedTuple):
    """What :func:`check_cost` expects a job to take, seconds."""

    seconds: float  # run one after another in this process
    wall: float  # spread over this machine's cores
    peak: float = 0.0  # the largest typical crowd of the job's scenarios, followers


ANNOUNCE_ABOVE_SECONDS = 3.0  # runs expected to take longer than this print their estimate first, seconds


def check_cost(
    scenarios: Sequence[Scenario],
    runs_each: int,
    candidates: int = 1,
    stream: TextIO | None = None,
    quiet: bool = False,
    upper_bound: bool = False,
    labels: Sequence[str] | None = None,
) -> JobCost:
    """Refuse scenarios whose projected memory this machine cannot hold (ScenarioError, exit 1);
    announce the expected time of long jobs before they start (not when ``quiet``).

    ``candidates``: variants of each scenario the job runs (the coach tries dozens, each a
    batch of ``runs_each``); ``upper_bound``: the job may need fewer runs (the coach on a large
    audience), so the announcement says "up to"; ``labels``: how a refusal names each
    scenario (a sweep's cells by their values), else by name when there are several. Returns the expected time (the engine's estimate, which knows a
    batch's runs share one timeline).
    """
    from coach import budget  # psutil and friends only when a run is about to start
    from coach.experiments import estimated_seconds, worker_count

    problems, seconds, peak = [], 0.0, 0.0
    workers = worker_count()
    limits = budget.cli_limits(min(workers, runs_each * candidates * len(scenarios)))
    if labels is None:
        labels = [f"{s.name!r}" for s in scenarios] if len(scenarios) > 1 else ["This scenario"]
    for scenario, where in zip(scenarios, labels, strict=True):
        projection = budget.project(scenario)
        problems += budget.check(scenario, limits, runs=runs_each, where=where, projection=projection)
        seconds += estimated_seconds(scenario, runs_each, projection) * candidates
        peak = max(peak, projection.typical_followers)
    if problems:
        raise ScenarioError(problems)
    runs = len(scenarios) * runs_each * candidates
    wall = seconds / max(1, min(workers, runs))
    if not quiet:
        announce_cost(runs, wall, peak, stream, about_runs=candidates > 1, upper_bound=upper_bound)
    return JobCost(seconds, wall, peak)


def announce_cost(
    runs: int, wall: float, peak: float, stream: TextIO | None = None, *, about_runs: bool = False,
    upper_bound: bool = False, ending: str = "Ctrl+C stops",
) -> None:  # fmt: skip
    """Tell the expected time of a job of ``runs`` runs before it starts, when it is long."""
    from coach import budget
    from coach.experiments import worker_count

    if wall <= ANNOUNCE_ABOVE_SECONDS:
        return
    up_to = "up to " if upper_bound else ""
    stream = stream if stream is not None else sys.stderr  # read now: tests capture sys.stderr
    stream.write(
        f"coach: {up_to}{'about ' if about_runs else ''}{runs:,} runs, expected to take {up_to}about "
        f"{budget.describe_seconds(wall)} on {worker_count()} core(s) (crowds up to about {peak:,.0f} followers); "
        f"{ending}.\n"
    )
    stream.flush()


def start_workers_for(seconds: float) -> None:
    """Start the worker pool in the background now when a job of ``seconds`` (serial) will use it.

    The pool's server loads the engine meanwhile (while the job loads its scenario and
    diagnoses), instead of when the first batch arrives; the coach then sends even its first
    look at the habits to the pool (:func:`coach.experiments.pool_running`).
    """
    from coach import experiments

    if experiments.use_pool(None, seconds):  # the rule run_batch applies to the same estimate
        experiments.start_pool()


PROGRESS_AFTER_SECONDS = 1.0  # the bar appears only for jobs still running after this, seconds
PROGRESS_EVERY_SECONDS = 0.2  # a terminal's bar is redrawn at most this often, seconds
PROGRESS_LINE_SECONDS = 30.0  # not a terminal (a log, a pipe): one plain line this often, seconds


def _clock(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"
    return f"{seconds // 3600:.0f} h {seconds % 3600 // 60:02.0f} min"


class ProgressBar:
    """Progress of a job on stderr: finished runs (``bar(done, total)``, a
    :data:`coach.experiments.Progress`) and, when the runner reports them, simulated days
    (``bar.day(done, total)``), which move long before the first run finishes.

    ``[########......................] day 34 of 90 · 0/1 runs · 3 min 05 s, about 5 min 12 s left``

    On a terminal the line is redrawn in place; elsewhere (a log file, a pipe) a plain line
    is written every :data:`PROGRESS_LINE_SECONDS`. Jobs done within
    :data:`PROGRESS_AFTER_SECONDS` print nothing; ``quiet`` prints nothing at all.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        after_seconds: float | None = None,
        quiet: bool = False,
        expected_seconds: float | None = None,
    ):
        self.stream = stream if stream is not None else sys.stderr
        self.after = PROGRESS_AFTER_SECONDS if after_seconds is None else after_seconds
        self.quiet = quiet
        self.expected = expected_seconds
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.perf_counter()
        self.last = None  # when the line was last written (perf_counter), None: not yet
        self.runs = (0, 0)
        self.days = (0, 0)
        self.horizon: int | None = None  # set by the runner when one timeline runs: "day 34 of 90"
        self.finished = False

    def __call__(self, done: int, total: int) -> None:
        self.runs = (done, total)
        self._show(final=done >= total)

    def day(self, done: int, total: int) -> None:
        """``done`` of ``total`` simulated days (summed over the job's runs or batches)."""
        self.days = (min(done, total), total)
        self._show()

    def fraction(self) -> float:
        (runs, runs_total), (days, days_total) = self.runs, self.days
        if days_total:  # days are finer than runs; a finished run counts all its days
            return max(days / days_total, runs / runs_total if runs_total else 0.0)
        return runs / runs_total if runs_total else 0.0

    def left(self, elapsed: float, share: float) -> float | None:
        """Seconds still to go: the up-front estimate at first, the pace so far as work gets done.

        The first runs also pay for starting up (the engine, the worker pool), so the pace
        alone would promise minutes for a job of seconds; each is weighted by the share done.
        """
        pace = elapsed / share * (1.0 - share) if share > 0.0 else None
        if self.expected is None:
            return pace
        planned = max(self.expected - elapsed, 0.0)
        return planned if pace is None else (1.0 - share) * planned + share * pace

    def text(self) -> str:
        elapsed = time.perf_counter() - self.start
        share = self.fraction()
        width = 30
        filled = int(width * share)
        (runs, runs_total), (days, days_total) = self.runs, self.days
        parts = []
        if days_total and self.horizon and runs < runs_total:
            parts.append(f"day {min(self.horizon, days)} of {self.horizon}")
        elif days_total:
            parts.append(f"{100 * share:.0f}% of the simulated days")
        if runs_total:
            parts.append(f"{runs}/{runs_total} runs")
        clock = _clock(elapsed)
        left = self.left(elapsed, share)
        if left is not None and share < 1.0 and left >= 0.5:
            clock += f", about {_clock(left)} left"
        parts.append(clock)
        return f"[{'#' * filled}{'.' * (width - filled)}] " + " · ".join(parts)

    def _show(self, final: bool = False) -> None:
        if self.quiet or self.finished:
            return
        now = time.perf_counter()
        if self.last is None and now - self.start < self.after:
            return  # short jobs stay silent
        every = PROGRESS_EVERY_SECONDS if self.live else PROGRESS_LINE_SECONDS
        if not final and self.last is not None and now - self.last < every:
            return
        self.last = now
        if self.live:
            self.stream.write("\r" + self.text() + "   " + ("\n" if final else ""))
        else:
            self.stream.write("coach: " + self.text() + "\n")
        self.finished = final
        self.stream.flush()


def progress_bar(
    stream: TextIO | None = None,
    after_seconds: float | None = None,
    quiet: bool = False,
    expected_seconds: float | None = None,
) -> ProgressBar:
    """A progress bar on stderr for jobs longer than ``after_seconds`` (see :class:`ProgressBar`)."""
    return ProgressBar(stream, after_seconds, quiet, expected_seconds)


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name one existing file (however spelt); False when either does not exist."""
    with contextlib.suppress(OSError):  # either does not exist (yet): nothing to overwrite
        return os.path.samefile(a, b)
    return False


def write_output(text: str, out: str | None) -> None:
    if out:
        try:
            Path(out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ScenarioError([f"--out {out}: cannot write ({exc.strerror})"]) from None
        print(f"wrote {out}", file=sys.stderr)
    else:
        try:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            raise  # the reader stopped early (`| head`): not a failure (coach.cli.main)
        except OSError as exc:  # a full disk, /dev/full
            with contextlib.suppress(OSError):  # what is left unwritten must not fail again at exit
                sys.stdout = open(os.devnull, "w", encoding="utf-8")  # stays open until the process ends
            raise ScenarioError([f"coach: cannot write the output to standard output ({exc.strerror})"]) from None


def _num(value: float, signed: bool = False, digits: int = 0) -> str:
    value = round(float(value), digits) + 0.0  # + 0.0: never "-0"
    return f"{value:{'+' if signed else ''},.{digits}f}"


def _interval(q: dict[str, float], signed: bool = False, digits: int = 0) -> str:
    return f"{_num(q['median'], signed, digits)} ({_num(q['p10'], signed, digits)} to {_num(q['p90'], signed, digits)})"


# The page's plain words, so the CLI and the app say the same thing (JSON keeps the keys).
ROWS: list[tuple[str, str]] = [
    ("net", "net change"),
    ("growth", "growth (%)"),
    ("followers_start", "followers at the start"),
    ("followers_end", "followers at the end"),
    ("follows", "new followers"),
    *[(f"follows_{c}", f"  came: {CHANNEL_WORDS[c]}") for c in CHANNELS],
    ("unfollows", "unfollows"),
    *[(f"unfollows_{r}", f"  left: {REASON_WORDS[r]}") for r in REASONS],
    ("minutes_per_day", "minutes per day"),
    ("engagement_per_post", "engagement per post"),
]
DIGITS = {"growth": 1, "engagement_per_post": 1}


def _heading(ensemble: Ensemble) -> str:
    sc = ensemble.scenario
    return f"{sc.name}  ({sc.platform.name}, {counted(ensemble.days, 'day')}, {counted(ensemble.replicates, 'run')}, seed {ensemble.seed})"


def table(ensemble: Ensemble) -> str:
    """A readable summary of one ensemble, in the page's words."""
    t = ensemble.totals_with_growth()
    width = max(len(words) for _, words in ROWS)
    runs = ensemble.replicates
    banded = runs >= INTERVAL_RUNS  # fewer runs: an 80% interval would be their extremes, or one run twice
    legend = (
        "median (80% of runs: 10th to 90th percentile)" if banded else f"{few_runs(runs)} (too few for an 80% interval)"
    )
    lines = [_heading(ensemble), legend, ""]
    for key, words in ROWS:
        q = quantiles(np.asarray(t[key], dtype=float))
        d = DIGITS.get(key, 0)
        signed = key in ("net", "growth")
        if key == "followers_start" or not banded:
            cell = _num(q["median"], signed, d)
        else:
            cell = _interval(q, signed, d)
        lines.append(f"  {words:<{width}}  {cell}")
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
    """Scenarios in columns: [1] the reference's medians, then each other's median and its
    change from [1], run by run on the same seeds (median, 80% interval)."""
    totals = [e.totals_with_growth() for e in ensembles]
    runs = min(e.replicates for e in ensembles)
    banded = runs >= INTERVAL_RUNS
    spread = "80% of runs" if banded else few_runs(runs)
    header = ["", "[1]"]
    for i in range(1, len(ensembles)):
        header += [f"[{i + 1}]", f"[{i + 1}] - [1] ({spread})"]
    body = []
    for key, words in ROWS:
        d = DIGITS.get(key, 0)
        row = [words, _num(float(np.median(totals[0][key])), digits=d)]
        for t in totals[1:]:
            row.append(_num(float(np.median(t[key])), digits=d))
            if key == "followers_start":  # a given, not an outcome
                row.append("")
            else:
                change = quantiles(np.asarray(t[key], dtype=float) - np.asarray(totals[0][key], dtype=float))
                row.append(_interval(change, True, d) if banded else _num(change["median"], True, d))
        body.append(row)
    widths = [max(len(r[c]) for r in [header, *body]) for c in range(len(header))]
    legend = [f"[{i + 1}] {_heading(e)}" for i, e in enumerate(ensembles)]
    lines = [
        *legend,
        "",
        "Medians of the runs; [N] - [1]: the change from [1], run by run on the same seeds.",
        "",
    ]
    for r in [header, *body]:
        cells = (r[0].ljust(widths[0]) if c == 0 else r[c].rjust(widths[c]) for c in range(len(r)))
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


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
        help="override a field, e.g. habits.posts_per_day=8 (repeatable); with compare, N:FIELD=VALUE "
        "changes the N-th scenario only, e.g. 2:habits.reply_rate=0.8",
    )
    p.add_argument("--format", choices=formats, default="table", help="output format (default: table)")
    p.add_argument("--out", metavar="PATH", help="write to a file instead of stdout")
    quiet_option(p)


def examples(p: argparse.ArgumentParser, text: str) -> None:
    """Examples at the end of ``--help``, laid out as written."""
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = "examples:\n" + text


def quiet_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--quiet", "-q", action="store_true", help="no estimate and no progress bar on stderr (messages still)"
    )
