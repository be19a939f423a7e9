"""Running the model: one replicate (:func:`simulate`) or a batch of them (:func:`simulate_batch`).

A batch advances all its replicates together on one SimPy clock: the account's timeline is
shared (it is drawn from the seed), each replicate's crowd reacts with its own random
streams, so replicate ``r`` of seed ``s`` gives the same :class:`Results` alone or in a
batch of any size or composition. The mechanisms and the order of events are in
:mod:`coach.model`; many runs and the worker pool in :mod:`coach.experiments`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import simpy

from coach.model.content import POST_KINDS
from coach.model.crowd import FIELDS
from coach.model.day import ReplicateBatch, RunCancelled
from coach.model.exposure import visibility_by_hour
from coach.model.timeline import day_cycle
from coach.results import CHANNELS, REASONS, Results
from coach.scenario import Scenario

MEMORY_BUDGET_BYTES = 512 * 1024 * 1024  # crowd arrays of one batch; larger ensembles split
BYTES_PER_CELL = sum(np.dtype(t).itemsize for t in FIELDS.values()) + 16  # + the passes' output buffers


def batch_size(scenario: Scenario, budget_bytes: int = MEMORY_BUDGET_BYTES) -> int:
    """Most replicates of ``scenario`` one batch holds within the memory budget (at least 1)."""
    cells = int(scenario.audience.followers * 1.3) + 64
    return max(1, budget_bytes // (cells * BYTES_PER_CELL))


def simulate_batch(
    scenario: Scenario,
    seed: int | None = None,
    replicates: Sequence[int] = (0,),
    *,
    should_stop: Callable[[], bool] | None = None,
    on_day: Callable[[int, int], None] | None = None,
) -> list[Results]:
    """Run the given replicates of ``scenario`` together; one :class:`Results` each, in order.

    ``should_stop`` is asked once per simulated day; when it returns True the batch raises
    :class:`RunCancelled`. ``on_day(done, days)`` is told after each simulated day.
    """
    seed = scenario.seed if seed is None else seed
    if not replicates:
        raise ValueError("a batch needs at least one replicate")
    batch = ReplicateBatch(scenario, seed, replicates)
    batch.should_stop = should_stop
    batch.on_day = on_day
    env = simpy.Environment()
    env.process(day_cycle(env, batch))
    env.run()
    return batch.results()


def simulate(
    scenario: Scenario,
    seed: int | None = None,
    replicate: int = 0,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> Results:
    """Run one replicate of ``scenario``; the seed defaults to the scenario's.

    ``should_stop`` is asked once per simulated day; when it returns True the run raises
    :class:`RunCancelled` (a time or memory budget ran out, or nobody waits any more).
    """
    return simulate_batch(scenario, seed, (replicate,), should_stop=should_stop)[0]


COMPILE_NOTE = "the first start after installing compiles it for this machine: about 10 s, once"


def compiled() -> bool:
    """Whether this machine has the engine's compiled passes cached for the installed source.

    When not, the first simulation of the process compiles them (about 10 s; numba caches
    them in ``coach/model/__pycache__``), so callers can say why the first answer is slow.
    """
    from coach.model import kernels

    try:  # numba's cache index is empty when missing or written for another version of the source
        return all(f._cache._cache_file._load_index() for f in (kernels.post_pass, kernels.close_pass))
    except Exception:  # another numba: cannot tell, so say nothing
        return True


def prepare() -> None:
    """Compile (or load) the engine's passes now: one small run of every event."""
    busy = Scenario(  # every event happens: posts in sittings, replies, outreach, follows, leavers
        days=3,
        habits={"posts_per_day": 12, "posts_per_session": 3, "reply_rate": 0.5, "outreach_per_day": 2},
        audience={"followers": 300, "prospects_per_day": 200, "segments": [
            {"name": "all", "share": 1.0, "tolerance_posts_per_day": 2, "churn_per_month": 0.5}
        ]},
    )  # fmt: skip
    simulate(busy, 0)


__all__ = [
    "CHANNELS",
    "COMPILE_NOTE",
    "POST_KINDS",
    "REASONS",
    "RunCancelled",
    "batch_size",
    "compiled",
    "prepare",
    "simulate",
    "simulate_batch",
    "visibility_by_hour",
]
