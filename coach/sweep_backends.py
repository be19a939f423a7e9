"""Running a sweep's cells, here or on a Dask cluster, and delivering them in grid order.

Local: cells are handed to :func:`coach.experiments.run_batch` a few at a time (its
process pool keeps every core busy within a chunk); each chunk's cells are yielded as soon
as it finishes, so rows stream.

Dask: ``scheduler="tcp://host:8786"`` sends each cell — its scenario as JSON (a few kB), the
seed and the replicate count — to a ``distributed`` cluster. A worker runs the cell with the
same ``run_batch`` (serially, one cell per worker thread) and sends back only the cell's
summary and one row of totals per replicate (a few kB), never daily arrays. Results are
re-ordered into grid order, so a cluster's output is the local output byte for byte.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from coach._version import __version__
from coach.pool_server import worker_count
from coach.results import Ensemble
from coach.scenario import Scenario, ScenarioError
from coach.sweep import METRICS, Sweep

# Local chunks: run_batch gives each worker one task per run (first-wave engine) or one per
# cell's batch of replicates (batched engine); either way a chunk of at least 4 cells and 32
# runs per worker keeps the pool's idle tail at the end of a chunk to a few per cent.
CELLS_PER_CHUNK_PER_WORKER = 4
RUNS_PER_CHUNK_PER_WORKER = 32
DASK_TASKS_PER_THREAD = 4  # cells kept in flight per worker thread: busy workers, bounded memory
SCHEDULER_ENV = "COACH_SCHEDULER"


@dataclass(frozen=True)
class CellResult:
    """What a cell produced: its summary (as ``coach run``'s) and one row of totals per replicate."""

    index: int
    values: dict[str, Any]
    summary: dict[str, Any]
    rows: list[list[float]]  # per replicate: replicate, seed, then METRICS
    version: str = __version__


SweepProgress = Callable[[int, int, int, int], None]
"""Called as ``progress(cells_done, cells_total, runs_done, runs_total)``; counts include resumed cells."""


def outcome(index: int, values: dict[str, Any], ensemble: Ensemble) -> CellResult:
    """Summary and tidy rows of one cell's ensemble (the same code runs locally and on workers)."""
    rows = []
    for run in ensemble.runs:
        totals = run.totals() | {"followers_start": run.followers_start}
        rows.append([run.replicate, ensemble.seed] + [_number(totals[m]) for m in METRICS])
    return CellResult(index, dict(values), ensemble.summary(), rows)


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def run_cell(scenario_json: str, seed: int, replicates: int, index: int, values: dict[str, Any]) -> CellResult:
    """Run one cell serially (a Dask task: small arguments in, a small result out)."""
    from coach.experiments import run_batch  # the engine: loaded where cells run, not by `coach validate`

    scenario = Scenario.model_validate_json(scenario_json)
    ensemble = run_batch([scenario], replicates, seed, parallel=False)[0]
    return outcome(index, values, ensemble)


def cells_per_chunk(replicates: int, workers: int | None = None) -> int:
    """Cells handed to run_batch at once: a multiple of the workers, at least 4 cells and 32 runs each."""
    workers = worker_count() if workers is None else workers
    per_worker = max(CELLS_PER_CHUNK_PER_WORKER, -(-RUNS_PER_CHUNK_PER_WORKER // replicates))
    return workers * per_worker


def run_sweep(
    sweep: Sweep,
    *,
    start: int = 0,
    scheduler: str | None = None,
    parallel: bool | None = None,
    progress: SweepProgress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[CellResult]:
    """Yield every cell's result from cell ``start`` on, in grid order, as cells finish.

    ``scheduler`` (an address such as ``tcp://10.0.0.5:8786``) runs the cells on a Dask
    cluster; otherwise they run here (``parallel`` as for :func:`coach.experiments.run_batch`).
    Results are identical either way. ``should_stop`` (a :class:`coach.budget.Budget`, say)
    is handed to ``run_batch`` for local cells (asked between runs and once per simulated
    day) and asked before every chunk or cluster cell; when it says stop,
    :class:`coach.engine.RunCancelled` is raised and the cells already yielded stay valid.
    """
    from coach.engine import RunCancelled
    from coach.experiments import run_batch

    if scheduler:
        yield from _run_dask(sweep, start, scheduler, progress, should_stop)
        return
    total, reps = sweep.size, sweep.replicates
    chunk = cells_per_chunk(reps)
    cells = sweep.cells(start)
    done = start
    while True:
        part = list(itertools.islice(cells, chunk))
        if not part:
            return
        if should_stop is not None and should_stop():
            raise RunCancelled(f"stopped after {done} of {total} cells")
        base_runs = done * reps

        def on_run(runs: int, _: int, base_runs: int = base_runs, cells_done: int = done) -> None:
            if progress:
                progress(cells_done, total, base_runs + runs, total * reps)

        ensembles = run_batch(
            [c.scenario for c in part], reps, sweep.seed, parallel=parallel, progress=on_run, should_stop=should_stop
        )
        for cell, ensemble in zip(part, ensembles, strict=True):
            done += 1
            if progress:
                progress(done, total, done * reps, total * reps)
            yield outcome(cell.index, cell.values, ensemble)


_ADDRESS = re.compile(r"^(?:(tcp|tls|ws|wss|ucx)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):([0-9]{1,5})$")
ADDRESS_FORM = "tcp://HOST:PORT (or tls://, ws://, wss://, ucx://; HOST:PORT alone means tcp), e.g. tcp://10.0.0.5:8786"
REACH_SECONDS = 5.0  # how long a scheduler may take to accept a connection and say who it is
NEEDS_EXTRA = "running on a Dask cluster needs the distributed extra: pip install 'cadence-coach[distributed]'"
START_ONE = "Start one with `dask scheduler` and workers with `dask worker ADDRESS` (docs/scaling.md)"


def check_scheduler(address: str) -> None:
    """Refuse, in a ScenarioError that says what to do, a scheduler that cannot be reached or
    is not a Dask scheduler.

    Asked before ``distributed.Client`` is made: a client that fails to start leaves a
    half-made object that waits 20 s to close and prints a traceback as the process ends.
    A ``tcp`` address is tried with a plain socket first (a refusal is immediate), then the
    scheduler is asked who it is (something else listening there answers nonsense).
    """
    try:
        import distributed  # noqa: F401  (only whether it is installed)
    except ImportError:
        raise ScenarioError([f"--scheduler {address}: {NEEDS_EXTRA}"]) from None
    match = _ADDRESS.match(address)
    if match is not None and match[1] in (None, "tcp"):
        host, port = match[2].strip("[]"), int(match[3])
        try:
            socket.create_connection((host, port), timeout=REACH_SECONDS).close()
        except OSError as exc:
            reason = (
                f"nothing answered within {REACH_SECONDS:g} s"
                if isinstance(exc, TimeoutError)
                else exc.strerror or str(exc)
            )
            raise ScenarioError([f"--scheduler {address}: cannot connect to a Dask scheduler there ({reason}). {START_ONE}"]) from None  # fmt: skip
    try:
        # One deadline over the whole exchange: distributed's handshake read has none of its
        # own, so a server that accepts and stays silent (an HTTP server waits for a request)
        # would hold the command forever.
        reply = asyncio.run(asyncio.wait_for(_identity(address), 2 * REACH_SECONDS))
    except Exception as exc:  # refused, timed out, TLS, or bytes that are not Dask's protocol
        if isinstance(exc, TimeoutError):
            reason = f"nothing answered within {2 * REACH_SECONDS:g} s"
        elif isinstance(exc, OSError):
            reason = str(exc)[:160] or type(exc).__name__
        else:
            reason = "what answered does not speak Dask's protocol"
        raise ScenarioError([f"--scheduler {address}: no Dask scheduler answered there ({reason}). {START_ONE}"]) from None  # fmt: skip
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise ScenarioError([f"--scheduler {address}: something answered, but not a Dask scheduler. {START_ONE}"])


async def _identity(address: str) -> Any:
    """The ``identity`` reply of whatever serves Dask's protocol at ``address``."""
    from distributed.comm import connect as open_comm

    comm = await open_comm(address, timeout=REACH_SECONDS)
    try:
        await comm.write({"op": "identity", "reply": True})
        return await asyncio.wait_for(comm.read(), REACH_SECONDS)
    finally:
        comm.abort()


def connect(address: str) -> Any:
    """A ``distributed.Client`` for ``address``, or a ScenarioError that says what to do."""
    try:
        from distributed import Client
    except ImportError:
        raise ScenarioError([f"--scheduler {address}: {NEEDS_EXTRA}"]) from None
    # Asked here for every caller; `coach sweep` has asked once already, before writing its
    # table's head (a second ask costs a few milliseconds).
    check_scheduler(address)
    try:
        return Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ScenarioError(
            [f"--scheduler {address}: cannot connect to a Dask scheduler there ({exc}). "
             "Start one with `dask scheduler` and workers with `dask worker ADDRESS` (docs/scaling.md)"]
        ) from None  # fmt: skip


def _run_dask(
    sweep: Sweep,
    start: int,
    address: str,
    progress: SweepProgress | None,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[CellResult]:
    from distributed import as_completed

    from coach.engine import RunCancelled

    client = connect(address)
    try:
        threads = sum(client.nthreads().values())
        if threads == 0:
            raise ScenarioError([f"--scheduler {address}: the scheduler has no workers; start some with `dask worker {address}`"])  # fmt: skip
        window = max(2, DASK_TASKS_PER_THREAD * threads)
        total, reps, seed = sweep.size, sweep.replicates, sweep.seed
        tag = sweep.fingerprint()
        cells = sweep.cells(start)
        finished: dict[int, CellResult] = {}
        pending = as_completed(loop=client.loop)
        in_flight = 0
        next_out = start

        def submit() -> bool:
            cell = next(cells, None)
            if cell is None:
                return False
            future = client.submit(
                run_cell, cell.scenario.model_dump_json(), seed, reps, cell.index, cell.values,
                key=f"coach-sweep-{tag}-{cell.index}", pure=False, retries=1,
            )  # fmt: skip
            pending.add(future)
            return True

        while in_flight < window and submit():
            in_flight += 1
        for future in pending:
            in_flight -= 1
            if should_stop is not None and should_stop():
                # Closing the client (below) releases its futures: the scheduler drops their cells.
                raise RunCancelled(f"stopped after {next_out} of {total} cells")
            try:
                result: CellResult = future.result()
            except Exception as exc:
                raise ScenarioError([f"a Dask worker failed on a cell ({type(exc).__name__}: {exc})"]) from None
            if result.version != __version__:
                raise ScenarioError(
                    [f"--scheduler {address}: a worker runs coach {result.version}, this machine {__version__}; "
                     "install the same version on every worker so results match a local run"]
                )  # fmt: skip
            finished[result.index] = result
            while next_out in finished:  # deliver in grid order (identical output to a local run)
                cell_result = finished.pop(next_out)
                next_out += 1
                if progress:
                    progress(next_out, total, next_out * reps, total * reps)
                yield cell_result
            # Cells waiting for an earlier, slower one count against the window: memory stays bounded.
            while in_flight + len(finished) < window and submit():
                in_flight += 1
    finally:
        client.close()


def scheduler_address(option: str | None, environ: Mapping[str, str]) -> str | None:
    """``--scheduler`` if given, else ``COACH_SCHEDULER``, else None (run locally).

    An address not of the form :data:`ADDRESS_FORM` is a ValueError naming where it came from.
    """
    given = f"--scheduler {option}" if option is not None else f"{SCHEDULER_ENV}={environ.get(SCHEDULER_ENV)}"
    value = option if option is not None else environ.get(SCHEDULER_ENV)
    if value is None or not value.strip():
        return None
    value = value.strip()
    match = _ADDRESS.match(value)
    if match is None or not 1 <= int(match[3]) <= 65535:
        raise ValueError(f"{given}: not a scheduler address; allowed: {ADDRESS_FORM}")
    return value


__all__ = [
    "SCHEDULER_ENV",
    "CellResult",
    "SweepProgress",
    "cells_per_chunk",
    "check_scheduler",
    "connect",
    "outcome",
    "run_cell",
    "run_sweep",
    "scheduler_address",
]
