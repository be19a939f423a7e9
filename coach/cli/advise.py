"""``coach advise FILE``: the coach on the command line (listed in ``coach.cli.COMMANDS``).

Options: ``--budget-minutes M`` (default: see :func:`coach.advisor.default_budget`),
``--replicates R`` (fresh runs per finalist, and most runs per candidate in the search; default
``ADVICE_REPLICATES``), ``--seed S``,
``--days N``, ``--set FIELD=VALUE``, ``--format table|json``, ``--out PATH``.
Exit codes as for every command: 0 ok, 1 invalid scenario, 2 usage error — a negative or
non-numeric ``--budget-minutes`` is a usage error (2), reported by argparse.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import TYPE_CHECKING

from coach.cli.common import (
    EXIT_OK,
    check_cost,
    examples,
    load_for_cli,
    progress_bar,
    quiet_option,
    start_workers_for,
    whole_number,
    write_output,
)
from coach.messages import counted, quote
from coach.results import INTERVAL_RUNS, few_runs, fmt_interval
from coach.search import ADVICE_REPLICATES, PILOT_FOLLOWERS

if TYPE_CHECKING:
    from coach.advisor import Advice

TYPICAL_CANDIDATES = 40  # habit sets one piece of advice evaluates, for the up-front estimate (as the app)


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected minutes per day (a number >= 0), got {quote(text)}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected minutes per day (a number >= 0), got {quote(text)}")
    return value


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="scenario YAML file, or the name of a bundled persona")
    p.add_argument(
        "--budget-minutes",
        type=_minutes,
        metavar="M",
        help="minutes a day you can spend (default: your current minutes x 1.25 or + 10, whichever is more)",
    )
    p.add_argument(
        "--replicates",
        type=whole_number,
        help=f"fresh runs per suggestion, and most runs per candidate in the search, which takes fewer for "
        f"audiences of {PILOT_FOLLOWERS:,}+ followers whose gains vary little (default: {ADVICE_REPLICATES})",
    )
    p.add_argument("--seed", type=whole_number, help="random seed; overrides the file")
    p.add_argument("--days", type=whole_number, help="horizon in days (1..730); overrides the file")
    p.add_argument(
        "--set",
        action="append",
        metavar="FIELD=VALUE",
        help="override a field, e.g. habits.posts_per_day=8 (repeatable)",
    )
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default: table)")
    p.add_argument("--out", metavar="PATH", help="write to a file instead of stdout")  # fmt: skip
    quiet_option(p)
    examples(
        p,
        """  coach advise over_poster                           what goes wrong and the changes that buy most
  coach advise my.yaml --budget-minutes 30           within 30 minutes a day
  coach advise billboard --set habits.reply_rate=0.5 --format json --out advice.json
""",
    )


def handle(args: argparse.Namespace) -> int:
    from coach.advisor import advise  # the engine: loaded by the commands that simulate, not by `coach validate`

    scenario = load_for_cli(args.file, args)  # validates --replicates/--seed/--days/--set too (exit 1)
    cost = check_cost(
        [scenario], args.replicates or ADVICE_REPLICATES, candidates=TYPICAL_CANDIDATES, quiet=args.quiet,
        upper_bound=scenario.audience.followers >= PILOT_FOLLOWERS,  # the search may keep fewer replicates
    )  # fmt: skip
    start_workers_for(cost.seconds)  # its server loads the engine meanwhile; then every batch goes there
    # Runs, not days: the coach's runs are many short batches.
    bar = progress_bar(quiet=args.quiet, expected_seconds=cost.wall)
    advice = advise(scenario, args.budget_minutes, args.replicates, scenario.seed, progress=bar)
    text = json.dumps(advice.to_dict(), indent=2) if args.format == "json" else advice_table(advice)
    write_output(text, args.out)
    return EXIT_OK


def _runs(advice: Advice) -> str:
    """How many runs the search and the verdict gave each candidate."""
    if advice.search_replicates and advice.search_replicates != advice.replicates:
        return f"{advice.search_replicates} runs each in the search, {advice.replicates} fresh for the verdict"
    return f"{counted(advice.replicates, 'run')} per candidate"


def _interval(summary: dict, runs: int) -> str:
    """`` (80%: low to high)`` of the followers at the end, when there are runs enough for one."""
    if runs < INTERVAL_RUNS:
        return f" ({few_runs(runs)})"
    end = summary["followers_end"]
    return f" (80%: {end['p10']:,.0f} to {end['p90']:,.0f})"


def advice_table(advice: Advice) -> str:
    """The advice as text: the verdict, findings with evidence, suggestions, sensitivity."""
    b = advice.baseline
    s = b.summary()
    sc = b.scenario
    lines = [
        f"Advice for {sc.name}  ({sc.platform.name}, {counted(b.days, 'day')}, seed {b.seed}, "
        f"{advice.candidates_evaluated} candidates, {_runs(advice)})",
        f"Now: {s['followers_start']:,} -> {s['followers_end']['median']:,.0f} followers{_interval(s, b.replicates)}, "
        f"{s['minutes_per_day']:.0f} minutes a day; budget {advice.budget_minutes_per_day:.0f} minutes a day.",
        "",
        "What is going on",
    ]
    for f in advice.diagnosis:
        lines += [f"  - {f.finding}", f"      {f.evidence}"]
    lines += ["", "What to change", f"  {advice.message}"]
    lines += [f"  {i}. {sug.text}" for i, sug in enumerate(advice.suggestions, start=1)]
    runs = advice.search_replicates or advice.replicates
    spread = runs >= INTERVAL_RUNS  # fewer runs say too little for an 80% interval: the median alone
    lines += [
        "",
        f"How much each habit matters: followers at day {b.days} after one step down / up, "
        + ("median (80% interval)" if spread else f"median of {runs} paired {'run' if runs == 1 else 'runs'}"),
    ]

    def step(side: dict) -> str:
        gain = fmt_interval(side["gain"], signed=True) if spread else f"{side['gain']['median']:+,.0f}"
        return f"{side['value']:g}: {gain}"

    for row in advice.sensitivity:
        low = step(row.low) if row.low else "-"
        high = step(row.high) if row.high else "-"
        lines.append(f"  {row.habit:<18} now {row.current:<5g} down {low:<26} up {high}")
    return "\n".join(lines)
