"""The worker pool's server process, where its workers are forked from. Only the standard library (os, multiprocessing).

multiprocessing's ``forkserver`` starts one clean interpreter (so forking is safe beside the
app's threads); before it forks any worker it imports :mod:`coach.pool_worker`, which loads
the package and the engine's compiled passes once, so each worker starts ready. The
``coach`` command starts the server before it loads anything itself (:mod:`coach.launch`);
the pool (:func:`coach.experiments.start_pool`) connects to the same server.
"""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.context import BaseContext

PRELOAD = ("__main__", "coach.pool_worker")  # what the server imports before forking workers


def worker_count() -> int:
    """The cores this process may use: the pool's workers."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def context() -> BaseContext:
    """The forkserver context, its server set to preload the engine."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))
    return ctx


def start() -> None:
    """Start the server now, without waiting: it loads the engine while the caller goes on."""
    from multiprocessing import forkserver

    context()
    forkserver.ensure_running()
