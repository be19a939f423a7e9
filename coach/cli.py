"""The command line: ``coach run | compare | validate | scenarios | advise | import``.

Parses arguments, calls the public API, prints or writes. Exit codes: 0 ok, 1 invalid
input (one clear message per problem on stderr, never a traceback), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from coach import __version__
from coach.experiments import Progress, compare, run_many
from coach.results import CHANNELS, REASONS, Ensemble, fmt_interval, paired_difference
from coach.scenario import SCENARIO_DIR, Scenario, ScenarioError, bundled_scenarios, load_scenario

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


# --------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    scenario = load_for_cli(args.file, args)
    ensemble = run_many(scenario, progress=progress_bar())
    if args.format == "json":
        text = json.dumps(ensemble.to_dict(), indent=2)
    elif args.format == "csv":
        text = ensemble.to_csv()
    else:
        text = table(ensemble)
    write_output(text, args.out)
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    if len(args.files) < 2:
        raise UsageError("compare needs at least two scenario files")
    scenarios = _load_all(args.files, args)
    first = scenarios[0]
    ensembles = compare(scenarios, first.replicates, first.seed, progress=progress_bar())
    if args.format == "json":
        text = json.dumps({
            "scenarios": [e.to_dict(all_series=False) for e in ensembles],
            "differences": compare_rows(ensembles),
        }, indent=2)  # fmt: skip
    elif args.format == "csv":
        text = "".join(e.to_csv() if i == 0 else e.to_csv().split("\n", 1)[1] for i, e in enumerate(ensembles))
    else:
        text = compare_table(ensembles)
    write_output(text, args.out)
    return EXIT_OK


def _load_all(files: Sequence[str], args: argparse.Namespace) -> list[Scenario]:
    scenarios, problems = [], []
    for name in files:
        try:
            scenarios.append(load_for_cli(name, args))
        except ScenarioError as exc:
            problems += exc.problems
    if problems:
        raise ScenarioError(problems)
    return scenarios


def cmd_validate(args: argparse.Namespace) -> int:
    ok = True
    for name in args.files:
        try:
            scenario = load_scenario(resolve_scenario_path(name))
            print(f"{name}: ok ({scenario.name})")
        except ScenarioError as exc:
            ok = False
            for problem in exc.problems:
                print(problem, file=sys.stderr)
    return EXIT_OK if ok else EXIT_INVALID


def cmd_scenarios(args: argparse.Namespace) -> int:
    for path in bundled_scenarios():
        try:
            s = load_scenario(path)
            first = s.description.strip().split(". ")[0].rstrip(".")
            print(f"{path.stem:<22} {s.name}: {first}.")
        except ScenarioError as exc:
            print(f"{path.stem:<22} (invalid: {exc.problems[0]})")
    return EXIT_OK


# Commands other modules add: name -> (configure parser, handler). See advisor and importers.
EXTRA_COMMANDS: dict[
    str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int], str]
] = {}


def _run_options(p: argparse.ArgumentParser, formats: Sequence[str] = ("table", "json", "csv")) -> None:
    p.add_argument("--days", type=int, help="horizon in days (1..730); overrides the file")
    p.add_argument("--replicates", type=int, help="number of runs (1..500); overrides the file")
    p.add_argument("--seed", type=int, help="random seed; overrides the file")
    p.add_argument(
        "--set",
        action="append",
        metavar="FIELD=VALUE",
        help="override a field, e.g. habits.posts_per_day=8 (repeatable)",
    )
    p.add_argument("--format", choices=formats, default="table", help="output format (default: table)")
    p.add_argument("--out", metavar="PATH", help="write to a file instead of stdout")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="coach", description="Cadence Coach: how posting habits win and lose followers.")
    parser.add_argument("--version", action="version", version=f"coach {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("run", help="simulate one scenario: followers, follows by channel, unfollows by reason")
    p.add_argument("file", help="scenario YAML file, or the name of a bundled persona")
    _run_options(p)
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("compare", help="simulate several scenarios on the same seeds and show the differences")
    p.add_argument("files", nargs="+", help="two or more scenario files or persona names")
    _run_options(p)
    p.set_defaults(handler=cmd_compare)

    p = sub.add_parser("validate", help="check scenario files; exit 1 if any is invalid")
    p.add_argument("files", nargs="+", help="scenario files")
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("scenarios", help="list the bundled personas")
    p.set_defaults(handler=cmd_scenarios)

    _register_extra_commands()
    for name, (configure, handler, help_text) in EXTRA_COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        configure(p)
        p.set_defaults(handler=handler)
    return parser


def _register_extra_commands() -> None:
    """Import the modules that add commands (kept lazy so `coach run` starts fast)."""
    for module in ("coach.advisor_cli", "coach.importers.command"):
        try:
            __import__(module)
        except ModuleNotFoundError as exc:
            if not (exc.name and module.startswith(exc.name)):
                raise


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"coach: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
