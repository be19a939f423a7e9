"""``coach run | compare | validate | scenarios``: simulate scenarios and check files."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from coach.cli.common import (
    EXIT_INVALID,
    EXIT_OK,
    UsageError,
    check_cost,
    compare_rows,
    compare_table,
    examples,
    load_for_cli,
    progress_bar,
    resolve_scenario_path,
    run_options,
    table,
    write_output,
)
from coach.scenario import Scenario, ScenarioError, bundled_scenarios, load_scenario

LINE = 100  # characters: `coach scenarios` lines fit a terminal and a slide


def configure_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="scenario YAML file, or the name of a bundled persona (see `coach scenarios`)")
    run_options(p)
    examples(
        p,
        """  coach run conversationalist                        a bundled persona, by name
  coach run my.yaml --days 180 --replicates 50 --seed 3
  coach run billboard --set habits.reply_rate=0.8    what if the Billboard answered?
  coach run my.yaml --format json --out result.json  or --format csv
""",
    )


def configure_compare(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", help="two or more scenario files or persona names (the same one twice is fine)")
    run_options(p)
    examples(
        p,
        """  coach compare billboard conversationalist          two personas on the same seeds
  coach compare billboard billboard --set 2:habits.reply_rate=0.8
                                                     a persona against a tweaked copy of itself
  coach compare billboard turnaround --format json   differences with 80% intervals
""",
    )


def configure_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", help="scenario files or persona names")
    examples(p, "  coach validate my.yaml other.yaml                  exit 0 if all are valid, 1 otherwise\n")


def configure_scenarios(p: argparse.ArgumentParser) -> None:
    examples(p, "  coach scenarios                                    name and one line each\n")


def cmd_run(args: argparse.Namespace) -> int:
    scenario = load_for_cli(args.file, args)
    cost = check_cost([scenario], scenario.replicates, quiet=args.quiet)
    bar = progress_bar(quiet=args.quiet, expected_seconds=cost.wall)
    from coach.cli.daily import run_with_days  # the engine: only the commands that simulate load it

    (ensemble,) = run_with_days([scenario], scenario.replicates, scenario.seed, bar)
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
    names = [s.name for s in scenarios]
    for i, s in enumerate(scenarios):  # the same file twice, unchanged: number them apart
        if names.count(s.name) > 1:
            scenarios[i] = s.model_copy(update={"name": f"{s.name} [{i + 1}]"[:80]})
    first = scenarios[0]
    cost = check_cost(scenarios, first.replicates, quiet=args.quiet)
    bar = progress_bar(quiet=args.quiet, expected_seconds=cost.wall)
    from coach.cli.daily import run_with_days

    ensembles = run_with_days(scenarios, first.replicates, first.seed, bar)
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
    for i, name in enumerate(files):
        try:
            scenarios.append(load_for_cli(name, args, i + 1, len(files)))
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
            first = " ".join(s.description.split()).split(". ")[0].rstrip(".") + "."
            print(_fit(f"{path.stem:<20} {s.name}: {first}"))
        except ScenarioError as exc:
            print(_fit(f"{path.stem:<20} (invalid: {exc.problems[0]})"))
    print("Run one with `coach run NAME`; compare with `coach compare NAME NAME`.")
    return EXIT_OK


def _fit(line: str, width: int = LINE) -> str:
    """One line of at most ``width`` characters, cut at a word with an ellipsis."""
    if len(line) <= width:
        return line
    return line[: width - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
