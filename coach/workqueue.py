"""One bounded queue for the simulations of every session of a server.

Fifteen people opening the app at once used to start fifteen ensembles at once on two
cores: each got a fifteenth of the machine and the first chart came after 78-106 s. Here a
process-wide semaphore lets :data:`SLOTS` jobs run at a time (one ensemble already keeps
every core busy through the worker pool) and the others wait their turn; identical
requests share one computation (the app's ``st.cache_data`` holds a lock per key: the
second session waits for the first one's result, tests/test_hostile.py checks it). A job waits at most
``QUEUE_WAIT_SECONDS``; more than ``MAX_WAITING`` waiting jobs are refused at once with
:class:`Busy`, so a flood of requests cannot pile up unbounded work.

Searches nobody watches run in a second lane, ``background`` (:data:`BACKGROUND_SLOTS`
of them): the workshop's coach prepares its answer while the class discusses and may take
minutes; in the pages' lane it would make every participant's submission wait that long
(and give up after ``QUEUE_WAIT_SECONDS``). So at most ``SLOTS + BACKGROUND_SLOTS`` jobs
run at once, and a person waiting for a page never queues behind a background search.

Jobs get their turn in the order they asked (first come, first served): a lock's waiters
that poll with a timeout rejoin the end of its queue at every poll, so with a steady
stream of requests one job could wait far longer than the ones behind it.

Pure Python, no streamlit: the CLI never needs it, a server with many sessions does.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

SLOTS = 1  # simulations at a time per server process: one ensemble fills both cores (pool)
BACKGROUND_SLOTS = 1  # background searches at a time (the workshop coach's answer), beside SLOTS
MAX_WAITING = 40  # jobs allowed to wait for a slot in a lane; more are refused (Busy)
QUEUE_WAIT_SECONDS = 120.0  # the longest a job waits for its turn, seconds
POLL_SECONDS = 0.1  # a waiting job calls its poll this often, seconds

_state = threading.Lock()


class _Lane:
    def __init__(self, slots: int):
        self.slots = slots
        self.running = 0
        self.queue: deque[object] = deque()  # tickets of the waiting jobs, first come first
        self.changed = threading.Condition(_state)

    @property
    def waiting(self) -> int:
        return len(self.queue)


_lanes = {"pages": _Lane(SLOTS), "background": _Lane(BACKGROUND_SLOTS)}


class Busy(RuntimeError):
    """The server has too much queued work; the message says so in plain words."""


def load(lane: str = "pages") -> tuple[int, int]:
    """(running, waiting) jobs of a lane (``pages`` or ``background``) right now."""
    with _state:
        return _lanes[lane].running, _lanes[lane].waiting


@contextmanager
def slot(
    poll: Callable[[], None] | None = None, wait_seconds: float | None = None, *, background: bool = False
) -> Iterator[None]:
    """Hold one of the server's simulation slots for the block, in the order jobs asked.

    ``poll`` is called about every :data:`POLL_SECONDS` while waiting (Streamlit passes a
    check that raises when the person moved a slider meanwhile, so stale requests leave the
    queue). ``wait_seconds`` defaults to :data:`QUEUE_WAIT_SECONDS`. ``background``: a search
    nobody waits for, in its own lane (see the module's text).
    """
    lane = _lanes["background" if background else "pages"]
    wait_seconds = QUEUE_WAIT_SECONDS if wait_seconds is None else wait_seconds
    ticket = object()
    with _state:
        if lane.waiting >= MAX_WAITING:
            raise Busy(
                f"The server is busy: {lane.running} simulation(s) running and {lane.waiting} waiting. "
                "Try again in a minute."
            )
        lane.queue.append(ticket)
    acquired = False
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            with _state:
                if lane.queue[0] is ticket and lane.running < lane.slots:
                    lane.queue.popleft()
                    lane.running += 1
                    acquired = True
                    lane.changed.notify_all()  # the next in line may fit too (more than one slot)
                    break
                lane.changed.wait(POLL_SECONDS)
            if poll is not None:
                poll()  # outside the lock: it may raise, and Streamlit's check takes its own locks
            if time.monotonic() > deadline:
                raise Busy(
                    f"The server is busy: this simulation waited {wait_seconds:.0f} seconds for its turn. "
                    "Try again in a minute."
                )
    finally:
        if not acquired:
            with _state:
                lane.queue.remove(ticket)
                lane.changed.notify_all()  # the one behind may now be first
    try:
        yield
    finally:
        with _state:
            lane.running -= 1
            lane.changed.notify_all()
