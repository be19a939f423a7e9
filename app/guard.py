"""The app's side of bounded cost: refuse up front what a page cannot afford, cap the rest.

Every simulation the page starts (1) is checked against :data:`APP_LIMITS` from its
projected crowd (:mod:`coach.budget`) and refused with a message that says what to lower,
(2) waits its turn in the server's one queue (:mod:`coach.workqueue`), so fifteen sessions
do not split two cores fifteen ways, and (3) runs under a time and memory
:class:`~coach.budget.Budget` that really stops it — the engine asks it once per simulated
day, and a watchdog shuts the worker pool down for pooled runs — ending in a plain
message, never a traceback; nothing half-done is cached.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import CancelledError
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from coach import budget, workqueue
from coach.engine import RunCancelled

T = TypeVar("T")

# Jobs expected to take longer (on all cores) are refused, like Covasim's web app. The estimate
# is of an idle machine (coach.experiments, refitted by benchmarks/bench_costs.py); the running
# budgets below leave room for a busy one.
MAX_SECONDS = 10.0
APP_LIMITS = budget.Limits(
    max_followers=None,  # the memory bound below covers the crowd
    max_prospects_per_day=None,
    max_bytes_per_run=1.0e9,  # one run of one session may need at most this, bytes (the server is shared)
    max_seconds=MAX_SECONDS,
)
RUN_SECONDS = 60.0  # a job's time budget once it runs: 6x what is accepted up front, seconds
# The coach's time budget once it runs, seconds: 4x what its page accepts up front (15 x
# MAX_SECONDS, app/coaching.py), for a busy machine. It holds a queue slot meanwhile.
COACH_RUN_SECONDS = 600.0
RUN_EXTRA_BYTES = 1.5e9  # memory a job may add to the server and its workers, bytes


def refusal_message(problems: list[str]) -> str:
    return (
        " ".join(problems)
        + f" This page stops at about {MAX_SECONDS:.0f} seconds and 1 GB a run so it stays responsive for "
        "everyone; download the settings as YAML and run them from the command line: coach run my-settings.yaml"
    )


def server_stopping() -> str | None:
    """Why a running job must stop now: the Streamlit server shuts down (SIGTERM, Ctrl+C).

    Streamlit waits for script threads before it exits; a job blocked on the worker pool
    would hold the server (and its workers) up for as long as the job runs.
    """
    from streamlit.runtime import Runtime
    from streamlit.runtime.runtime import RuntimeState

    if Runtime.exists() and Runtime.instance().state in (RuntimeState.STOPPING, RuntimeState.STOPPED):
        return "the server is shutting down"
    return None


def guarded(
    job: Callable[[Callable[[], bool]], T],
    seconds: float | None = None,
    *,
    what: str = "The simulation",
    instead: str = "Lower the runs, the horizon or the starting followers, or run these settings from the "
    "command line (`coach run`).",
    background: bool = False,
) -> T:
    """Run ``job(should_stop)`` in the server's queue under a time and memory budget.

    ``seconds`` defaults to :data:`RUN_SECONDS`. Raises :class:`RunCancelled` with a sentence
    for the page when the budget runs out (``what`` was stopped …, then ``instead``: what to
    do about it), and :class:`coach.workqueue.Busy` when the queue is full. ``background``: a
    search nobody waits for (the workshop coach's answer) takes the queue's background lane.
    """
    with workqueue.slot(background=background):
        limit = budget.Budget(RUN_SECONDS if seconds is None else seconds, RUN_EXTRA_BYTES, server_stopping)
        with limit.watch():
            try:
                return job(limit)
            except (RunCancelled, CancelledError, BrokenProcessPool):
                if limit.reason is None:
                    raise
        raise RunCancelled(f"{what} was stopped: {limit.reason}. Nothing was kept. {instead}")


WORKSHOP_INSTEAD = (
    "The round's persona is too heavy for this server: the facilitator can lower its runs or horizon in the "
    "exercise file, or run it from the command line (`coach run`)."
)


def workshop_run(job: Callable[[Callable[[], bool]], T]) -> T:
    """A workshop page's simulation (a submission, the round's baseline): the pages' queue and budget."""
    return guarded(job, what="The simulation", instead=WORKSHOP_INSTEAD)


def workshop_coach_run(job: Callable[[Callable[[], bool]], T]) -> T:
    """The workshop coach's search: the queue's background lane, so submissions never wait behind it."""
    return guarded(job, COACH_RUN_SECONDS, what="The coach's search", instead=WORKSHOP_INSTEAD, background=True)
