"""Imported once by the worker pool's server process, so every worker starts ready.

The pool's workers are forked from a server process (multiprocessing's ``forkserver``: it
starts from a clean interpreter, so forking is safe beside the app's threads). The server
imports this module before it forks any worker: the package and the engine's compiled
passes are loaded there once (:func:`coach.engine.prepare`, about a second per process
even when numba's cache is warm, most of it LLVM starting up), and each worker is a copy of
it instead of importing and loading them itself. The pool can then be started ahead of the
work (:func:`coach.experiments.start_pool`) while the caller loads its own engine.
"""

from __future__ import annotations

from coach import experiments  # noqa: F401  (the workers' task functions)
from coach.engine import prepare

try:
    prepare()
except Exception:  # a worker that meets the same fault reports it with its task; the server must live
    pass
