"""The ``coach`` command's entry point (``python -m coach`` too).

The command line itself takes about half a second to load (numpy, pydantic, the
commands), and the coach's batches all go to the worker pool, whose server needs about a
second more to load the engine. So ``coach advise`` starts that server first
(:mod:`coach.pool_server`); it loads while the command loads here, and this process need not
load the compiled engine itself. Everything else goes straight to :func:`coach.cli.main`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

POOLED_COMMANDS = ("advise",)  # commands whose runs nearly always go to the pool


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] and args[0] in POOLED_COMMANDS and not {"-h", "--help"} & set(args):
        from coach import pool_server

        if pool_server.worker_count() > 1:
            pool_server.start()
    from coach.cli import main as cli_main

    return cli_main(args)
