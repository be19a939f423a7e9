"""``coach import PATH [--tz ZONE] [--since DATE] [--out FILE] [--format yaml|json]``.

Listed in ``coach.cli.COMMANDS``. Exit codes follow
the CLI: 0 ok; 1 for an export that cannot be imported (one message naming the file and what
is expected, no traceback); 2 for a usage mistake, which includes an unknown ``--tz`` zone or
a ``--since`` that is not a date, since argparse checks both before anything is read.
Warnings (a value capped at a Habits bound, a share lowered to fit) go to stderr, and also
into the output: the YAML description and the JSON ``warnings``.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from coach.cli.common import EXIT_OK, examples, write_output
from coach.importers import ArchiveError, import_history
from coach.importers.derive import PLATFORM_LABELS, zone_for
from coach.scenario import ScenarioError, dump_scenario


def _zone(value: str) -> str:
    try:
        zone_for(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; allowed: YYYY-MM-DD, e.g. 2024-01-31") from None


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Read your own X, Mastodon or Bluesky export (or a CSV) on this machine and write a scenario "
        "with the habits it shows. Nothing is uploaded."
    )
    parser.add_argument(
        "path",
        help="X archive (.zip, folder or tweets.js), Mastodon archive (.zip, .tar.gz or outbox.json), Bluesky repo.car, or a CSV",
    )
    parser.add_argument(
        "--tz",
        type=_zone,
        default="UTC",
        metavar="ZONE",
        help="your time zone for hours and days, e.g. Europe/Berlin (default: UTC)",
    )
    parser.add_argument("--since", type=_date, metavar="DATE", help="ignore posts before this date (YYYY-MM-DD)")
    parser.add_argument(
        "--format", choices=("yaml", "json"), default="yaml", help="a scenario (yaml, default) or the numbers (json)"
    )
    parser.add_argument("--out", metavar="FILE", help="write to a file instead of stdout")
    examples(
        parser,
        """  coach import twitter-2026-11-30.zip --tz Europe/Berlin --out me.yaml   your habits as a scenario
  coach import outbox.json --since 2026-06-01                            Mastodon, the last months only
  coach import repo.car --format json                                    Bluesky: the numbers behind it
""",
    )


def handler(args: argparse.Namespace) -> int:
    try:
        result = import_history(args.path, tz=args.tz, since=args.since)
        scenario = result.to_scenario()
    except ArchiveError as exc:
        raise ScenarioError([exc.message]) from None
    for warning in result.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    ev = result.evidence
    sys.stderr.write(
        f"read {ev['posts']:,} posts ({ev['originals']:,} originals, {ev['replies']:,} replies to others, "
        f"{ev['reposts']:,} reposts) from {PLATFORM_LABELS[result.platform]} export over {ev['days']:,} days; "
        f"assumed: {', '.join(result.assumed)}\n"
    )
    if args.format == "json":
        text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False)
    else:
        source = " ".join(str(ev["source"]).split())  # a comment line must stay one line
        text = f"# Derived by `coach import` from {source}; see the description for each number.\n" + dump_scenario(
            scenario
        )
    write_output(text, args.out)
    return EXIT_OK
