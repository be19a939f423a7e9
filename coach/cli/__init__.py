"""The command line: ``coach run | compare | validate | scenarios | advise | import | sweep | schema | workshop | fit``.

Parses arguments, calls the public API, prints or writes. Exit codes: 0 ok, 1 invalid
input (one clear message per problem on stderr, never a traceback), 2 usage error.

Every subcommand is listed once, in :data:`COMMANDS`: its name, its one-line help, the
function that adds its arguments, the one that runs it and whether it simulates (the first
start after installing compiles the engine first, and says so). A command's module lives in this
package; commands with heavy dependencies import them inside their handler, so that
the commands that do not simulate (``coach validate``, ``scenarios``, ``schema``, ``import``,
``workshop``) never load the engine and numba. The ``coach`` script and ``python -m coach`` enter through
:mod:`coach.launch`, which starts the worker pool's server first for ``coach advise``.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple

from coach._version import __version__
from coach.cli import advise, fit, importing, run, schema, sweep, workshop
from coach.cli.common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, UsageError, _Parser, same_file
from coach.messages import shorten
from coach.scenario import ScenarioError


class Command(NamedTuple):
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    handle: Callable[[argparse.Namespace], int]
    simulates: bool = False


COMMANDS: tuple[Command, ...] = (
    Command("run", "simulate one scenario: followers, follows by channel, unfollows by reason", run.configure_run, run.cmd_run, True),
    Command("compare", "simulate several scenarios on the same seeds and show the differences", run.configure_compare, run.cmd_compare, True),
    Command("validate", "check scenario files; exit 1 if any is invalid", run.configure_validate, run.cmd_validate),
    Command("scenarios", "list the bundled personas", run.configure_scenarios, run.cmd_scenarios),
    Command("advise", "the coach: what goes wrong, what to change and what it buys, within a time budget", advise.configure, advise.handle, True),
    Command("import", "derive your habits from an X, Mastodon or Bluesky export", importing.configure, importing.handler),
    Command("sweep", "a grid over habits or any field, every cell on the same seeds, locally or on Dask", sweep.configure, sweep.handle, True),
    Command("schema", "print the scenario format as JSON Schema, for editors", schema.configure, schema.handle),
    Command("workshop", "workshop rooms: open one for an exercise, list exercises, export results, close", workshop.configure, workshop.handle),
    Command("fit", "fit the audience to your own export and follower counts; forecast with a band", fit.configure, fit.handle, True),
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="coach",
        description="Cadence Coach: how posting habits win and lose followers.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="""examples:
  coach scenarios                                   the persona library
  coach run conversationalist                       a bundled persona, by name
  coach compare billboard conversationalist         same seeds; differences with intervals
  coach compare billboard billboard --set 2:habits.reply_rate=0.8
  coach advise over_poster --budget-minutes 30      what to change within a time budget
  coach import twitter.zip --out me.yaml            your habits, from your own export
  coach fit twitter.zip --followers 1840 --history counts.csv
                                                    your audience, fitted to your follower counts
  coach sweep billboard --vary habits.reply_rate=0:1:5
                                                    one habit over a range, the same seeds per value
  coach schema > scenario.schema.json               the scenario format, for editors

`coach COMMAND --help` shows each command's options and examples.""",
    )
    parser.add_argument("--version", action="version", version=f"coach {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        p = sub.add_parser(command.name, help=command.help)
        command.configure(p)
        p.set_defaults(handler=command.handle, simulates=command.simulates)
    return parser


def _prepare_engine() -> None:
    """Compile the engine here, once, before any worker needs it, saying why the wait (stderr)."""
    from coach.engine import COMPILE_NOTE, compiled, prepare

    if not compiled():
        print(f"coach: preparing the simulator ({COMPILE_NOTE})…", file=sys.stderr, flush=True)
        prepare()


FILE_ARGUMENTS = ("file", "files", "exercise", "path", "archive", "out", "history", "qr")
"""The commands' arguments that name files (an empty one is a usage error)."""
OUTPUT_ARGUMENTS = ("out", "qr")
"""Those of them a command writes (never over one it reads)."""


def _check_file_arguments(args: argparse.Namespace) -> None:
    """Refused before any work, as usage errors: an empty file name (``coach run ''`` read the
    folder, ``--out ''`` wrote to standard output), and an output that names a file the
    command reads (``coach run mine.yaml --out mine.yaml`` replaced the scenario with its results)."""
    named = [(key, item) for key in FILE_ARGUMENTS for item in _as_list(getattr(args, key, None))]
    hints = {"file": " or a persona's name", "files": " or a persona's name", "exercise": " or a bundled exercise's name"}  # fmt: skip
    for key, item in named:
        if isinstance(item, str) and not item.strip():
            option = f"--{key} " if key in ("out", "history", "qr") else ""  # options; the rest are positional
            raise UsageError(f"{option}'': an empty file name; give a file's path{hints.get(key, '')}")
    read = [item for key, item in named if key not in OUTPUT_ARGUMENTS and isinstance(item, str)]
    for key, written in named:
        if key in OUTPUT_ARGUMENTS and written:
            for item in read:
                if same_file(written, item):
                    raise UsageError(f"--{key} {written} is the file this command reads ({item}); give another path")


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def _unknown_command(word: str) -> str:
    names = [c.name for c in COMMANDS]
    close = difflib.get_close_matches(word, names, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"coach: unknown command {word!r}.{hint} Commands: {', '.join(names)} (`coach --help` says what each does)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:  # a bare `coach`: the commands with what each does, not "arguments are required"
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if not argv[0].startswith("-") and argv[0] not in {c.name for c in COMMANDS}:
        parser.print_usage(sys.stderr)
        print(_unknown_command(argv[0]), file=sys.stderr)
        return EXIT_USAGE
    args = parser.parse_args(argv)
    try:
        _check_file_arguments(args)
        if args.simulates:
            _prepare_engine()
        return args.handler(args)
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"coach: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ScenarioError as exc:
        for problem in dict.fromkeys(exc.problems):  # once each: a shared --set is checked per scenario
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except MemoryError:
        print(
            "coach: the simulation ran out of memory; lower the starting followers, prospects per day, "
            "the horizon or the runs (`coach validate` accepts it, but this machine cannot hold it)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    except Exception as exc:  # never a traceback: say what failed and how to report it
        if os.environ.get("COACH_DEBUG"):
            raise
        print(
            f"coach: the simulation failed on these settings ({type(exc).__name__}: {shorten(str(exc), 200)}). "
            "This is a fault in Cadence Coach, not in your file: please report it with the scenario file "
            "(set COACH_DEBUG=1 to see the traceback).",
            file=sys.stderr,
        )
        return EXIT_INVALID


__all__ = ["COMMANDS", "EXIT_INVALID", "EXIT_OK", "EXIT_USAGE", "Command", "UsageError", "build_parser", "main"]
