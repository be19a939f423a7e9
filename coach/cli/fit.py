"""``coach fit ARCHIVE --followers N [--history FILE.csv] [--tz ZONE] [--since DATE] [--forecast N]
[--trials N] [--seed S] [--out FILE] [--format yaml|json]``.

Listed in ``coach.cli.COMMANDS``. Fits the audience to your own export and follower counts
(CONTRACTS.md, Calibration). Exit codes: 0 ok; 1 for input the fit cannot use (one message
each, no traceback); 2 for a usage mistake. Warnings and the fit's words go to stderr, and
into the output (the JSON ``fit.words`` / ``warnings``, the YAML description). Optuna is
imported only here, when the command runs.
"""

from __future__ import annotations

import argparse
import json
import sys

from coach.cli.common import EXIT_OK, examples, progress_bar, quiet_option, write_output
from coach.cli.importing import _date, _zone
from coach.scenario import ScenarioError


def _count(value: str) -> int:
    try:
        number = int(value.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if not 0 <= number <= 10_000_000:
        raise argparse.ArgumentTypeError(f"{number} is not allowed; allowed: 0..10,000,000")
    return number


def _bounded(low: int, high: int):
    def check(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{number} is not allowed; allowed: {low}..{high}")
        return number

    return check


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Fit the model's audience (how many people come across you, how attentive they are, how fast they "
        "leave, what they like) to your own export and follower counts, and forecast where you will be if "
        "nothing changes. Runs on this machine; nothing is uploaded."
    )
    parser.add_argument(
        "archive", help="your export: an X archive (.zip, folder or tweets.js), Mastodon, Bluesky or CSV"
    )
    parser.add_argument("--followers", type=_count, required=True, metavar="N", help="your follower count today")
    parser.add_argument(
        "--history", metavar="FILE.csv", help="earlier follower counts: a CSV with header date,followers (ISO dates)"
    )
    parser.add_argument("--tz", type=_zone, default="UTC", metavar="ZONE", help="your time zone (default: UTC)")
    parser.add_argument(
        "--since",
        type=_date,
        metavar="DATE",
        help="ignore posts and follower-history rows before this date (YYYY-MM-DD); shortens the fitted span",
    )
    parser.add_argument(
        "--forecast", type=_bounded(1, 730), default=90, metavar="N", help="days to forecast (default: 90)"
    )
    parser.add_argument(
        "--trials",
        type=_bounded(1, 2000),
        default=None,
        metavar="N",
        help="candidate audiences tried (default: 32); more is slower and more accurate",
    )
    parser.add_argument("--seed", type=_bounded(0, 2**32 - 1), default=7, metavar="S", help="random seed (default: 7)")
    parser.add_argument(
        "--format",
        choices=("yaml", "json"),
        default="yaml",
        help="the fitted scenario (yaml, default) or everything (json)",
    )
    parser.add_argument("--out", metavar="FILE", help="write to a file instead of stdout")
    quiet_option(parser)
    examples(
        parser,
        """  coach fit twitter.zip --followers 1840                       attention from likes and reposts alone
  coach fit twitter.zip --followers 1840 --history counts.csv  with earlier counts: date,followers rows
  coach fit outbox.json --followers 310 --history counts.csv --tz Europe/Berlin --out me.yaml
  coach fit twitter.zip --followers 1840 --history counts.csv --trials 96 --format json
                                                               slower, closer; every value with its interval
""",
    )


def handle(args: argparse.Namespace) -> int:
    from coach.fit import DEFAULT_TRIALS, FitError, fit, from_archive, read_history_csv
    from coach.fit.report import POORLY_TRY
    from coach.importers import ArchiveError

    try:
        history = read_history_csv(args.history) if args.history else []
        data = from_archive(
            args.archive,
            args.followers,
            history,
            tz=args.tz,
            since=args.since,
            history_label=args.history or "the history",
        )
        result = fit(
            data,
            trials=args.trials or DEFAULT_TRIALS,
            forecast=args.forecast,
            seed=args.seed,
            progress=progress_bar(quiet=args.quiet),
        )
    except ArchiveError as exc:
        raise ScenarioError([exc.message]) from None
    except FitError as exc:
        raise ScenarioError(exc.problems) from None
    for warning in result.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    for line in result.fit["words"]:
        sys.stderr.write(f"{line}\n")
        if line == POORLY_TRY:
            trials = result.evidence["trials"]
            sys.stderr.write(f"  try: --trials {2 * trials}, or --seed {result.evidence['seed'] + 1}\n")
    for field, v in result.fitted.items():
        sys.stderr.write(f"fitted {field} = {v['value']:g} (80%: {v['p10']:g} to {v['p90']:g})\n")
    fc = result.fit["forecast"]
    sys.stderr.write(
        f"in {fc['day'][-1]} days: {fc['median'][-1]:,.0f} followers (10-90%: {fc['p10'][-1]:,.0f} to {fc['p90'][-1]:,.0f}); "
        f"fit took {result.evidence['seconds']:.1f} s\n"
    )
    if args.format == "json":
        text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False)
    else:
        text = "# Fitted by `coach fit`; the description says what was fitted and what assumed.\n" + result.to_yaml()
    write_output(text, args.out)
    return EXIT_OK
