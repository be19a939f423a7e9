"""``coach schema``: the scenario format as JSON Schema, for editors (listed in ``COMMANDS``).

VS Code (with the YAML extension) and other editors that speak the YAML language server
complete and check fields as people type when a scenario starts with
``# yaml-language-server: $schema=PATH-OR-URL``; the bundled personas point at
``scenario.schema.json`` next to them, which is this command's output.
"""

from __future__ import annotations

import argparse
import json

from coach.cli.common import EXIT_OK, write_output


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", metavar="PATH", help="write to a file instead of stdout")
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = """examples:
  coach schema > scenario.schema.json                then, as a scenario's first line:
  # yaml-language-server: $schema=scenario.schema.json
"""


def handle(args: argparse.Namespace) -> int:
    from coach.schema import scenario_schema

    write_output(json.dumps(scenario_schema(), indent=2, ensure_ascii=False) + "\n", args.out)
    return EXIT_OK
