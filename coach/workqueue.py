"""One bounded queue for the simulations of every session of a server.

Fifteen people opening the app at once used to start fifteen ensembles at once on two
cores: each got a fifteenth of the machine and the first chart came after 78-106 s. Here a
process-wide semaphore lets :data:`SLOTS` jobs run at a time (one ensemble already keeps
every core busy through the worker pool) and the others wait their turn; identical
requests share one computation (the app's ``st.cache_data`` holds a lock per key: the
second session waits for the first one's result, tests/test_hostile.py checks it). A job waits at most
``QUEUE_WAIT_SECONDS``; more than ``MAX_WAITING`` waiting jobs are refused at once with
:class:`Busy`, so a flood of requests cannot pile up unbounded work.

Pure Python, no streamlit: the CLI never needs it, a server with many sessions does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

SLOTS = 1  # simulations at a time per server process: one ensemble fills both cores (pool)
MAX_WAITING = 40  # jobs allowed to wait for a slot; more are refused (Busy)
QUEUE_WAIT_SECONDS = 120.0  # the longest a job waits for its turn, seconds

_slots = threading.BoundedSemaphore(SLOTS)
_state = threading.Lock()
_waiting = 0
_running = 0


class Busy(RuntimeError):
    """The server has too much queued work; the message says so in plain words."""


def load() -> tuple[int, int]:
    """(running, waiting) jobs right now."""
    with _state:
        return _running, _waiting


@contextmanager
def slot(poll: Callable[[], None] | None = None, wait_seconds: float = QUEUE_WAIT_SECONDS) -> Iterator[None]:
    """Hold one of the server's simulation slots for the block.

    ``poll`` is called about every 0.1 s while waiting (Streamlit passes a check that
    raises when the person moved a slider meanwhile, so stale requests leave the queue).
    """
    global _waiting, _running
    with _state:
        if _waiting >= MAX_WAITING:
            raise Busy(
                f"The server is busy: {_running} simulation(s) running and {_waiting} waiting. Try again in a minute."
            )
        _waiting += 1
    acquired = False
    try:
        deadline = time.monotonic() + wait_seconds
        while not (acquired := _slots.acquire(timeout=0.1)):
            if poll is not None:
                poll()
            if time.monotonic() > deadline:
                raise Busy(
                    f"The server is busy: this simulation waited {wait_seconds:.0f} seconds for its turn. "
                    "Try again in a minute."
                )
    finally:
        with _state:
            _waiting -= 1
            if acquired:
                _running += 1
    try:
        yield
    finally:
        with _state:
            _running -= 1
        _slots.release()
