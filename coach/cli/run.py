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
    load_for_cli,
    progress_bar,
    resolve_scenario_path,
    run_options,
    table,
    write_output,
)
from coach.experiments import compare, run_many
from coach.scenario import Scenario, ScenarioError, bundled_scenarios, load_scenario


def configure_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="scenario YAML file, or the name of a bundled persona")
    run_options(p)


def configure_compare(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", help="two or more scenario files or persona names")
    run_options(p)


def configure_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", help="scenario files")


def configure_scenarios(p: argparse.ArgumentParser) -> None:
    pass


def cmd_run(args: argparse.Namespace) -> int:
    scenario = load_for_cli(args.file, args)
    check_cost([scenario], scenario.replicates)
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
    check_cost(scenarios, first.replicates)
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
