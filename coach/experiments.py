"""Many runs: replicates of one scenario, and comparisons of several on the same seeds.

The replicates of one scenario run as batches (:func:`coach.engine.simulate_batch`): one
SimPy timeline drives all of a batch's crowds at once, so an ensemble costs little more
than one run. Batches are split to a memory budget (:func:`coach.engine.batch_size`).
Replicate ``r`` of seed ``s`` gives the same results alone, in any batch, and in any
process, so a parallel ensemble equals a serial one exactly. Big jobs (large crowds, many
scenarios) are spread over a pool of worker processes, one batch per task, started once and
then reused (the app keeps it warm); small ones run in this process.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import TYPE_CHECKING

from coach import pool_server
from coach.engine import RunCancelled, batch_size, simulate_batch
from coach.pool_server import worker_count
from coach.results import Ensemble, Results
from coach.scenario import Scenario

if TYPE_CHECKING:
    from coach.budget import Projection

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each finished replicate (a batch's replicates
finish together, so they are reported one after another when it ends)."""
DayProgress = Callable[[int, int], None]
"""Called as ``on_day(done, total)`` after each simulated day of each batch run here
(``done`` counts scenario-days over the job)."""
StopCheck = Callable[[], bool]
"""Asked between runs and once per simulated day; True cancels the work (:class:`RunCancelled`)."""

PARALLEL_ABOVE_SECONDS = 1.0  # estimated serial time above which the pool is started
PARALLEL_WARM_ABOVE_SECONDS = 0.2  # ... and above which a pool already running is used
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


# Costs measured on this project's two-core machine when idle, fitted to CPU seconds of bundled
# personas at 1 to 200 replicates and of 200,000 and 1,000,000 followers
# (benchmarks/bench_costs.py). With the crowd reckoned by cost_followers, 20 cases (four of them
# a year long) come within 0.7-1.4x, and a heavy poster whose crowd shrinks up to 3.5x high.
# Seconds, for the compiled engine of 4 Dec 2026 (the default persona: one run 16 ms, 30 runs
# 67 ms, 200 runs 341 ms). On a busy machine a job takes longer than this says.
COST_PER_DAY = 1.2e-4  # a batch's day: its processes and its close
COST_PER_POST = 7.8e-6  # a post's events, its replies and the answers, once per batch
COST_PER_REPLICATE_DAY = 5.5e-6  # each replicate's own bookkeeping in a day
COST_PER_EXPOSURE = 1.5e-9  # one follower offered one post
COST_PER_FOLLOWER_DAY = 1.5e-9  # one follower at the day's close
COST_PER_START_FOLLOWER = 2.1e-7  # drawing one starting follower (once per run)


def cost_followers(scenario: Scenario, projection: Projection | None = None) -> float:
    """The crowd a run's time is reckoned on: its start, or more where the crowd may grow.

    :func:`coach.budget.project`'s typical walk ignores unfollows, so it overstates most
    crowds; the geometric mean of the start and where that walk ends is within 0.7-1.5x of
    the crowd a growing persona carries on average (a Niche News Curator's 4,000 followers
    average 10,000 over a year), and errs high where the crowd shrinks (an Over-Poster's), so
    the estimate errs towards refusing (benchmarks/bench_costs.py). ``projection``: the
    scenario's :class:`coach.budget.Projection`, when the caller has it (else made here).
    """
    from coach import budget  # it reads this module's costs

    start = float(scenario.audience.followers)
    typical = (projection or budget.project(scenario)).typical_followers
    return max(start, math.sqrt(start * typical))


def estimated_seconds(scenario: Scenario, replicates: int, projection: Projection | None = None) -> float:
    """A rough serial run time on an idle machine (within about 2x), from measured unit costs.

    ``projection``: as :func:`cost_followers` takes it.
    """
    followers = cost_followers(scenario, projection)
    posts = max(habits.posts_per_day for _, habits in scenario.habit_schedule())
    batches = -(-replicates // batch_size(scenario))
    shared = batches * (COST_PER_DAY + posts * COST_PER_POST)
    own = replicates * (COST_PER_REPLICATE_DAY + followers * (posts * COST_PER_EXPOSURE + COST_PER_FOLLOWER_DAY))
    return scenario.days * (shared + own) + replicates * scenario.audience.followers * COST_PER_START_FOLLOWER


def workers_can_start() -> bool:
    """Whether pool workers can start without re-running the caller's script.

    Worker processes re-import the ``__main__`` module unless it was started with
    ``python -m`` (multiprocessing skips ``*.__main__`` modules). A script is safe only if it
    guards its entry point with ``if __name__ == "__main__":``; code typed at a prompt or
    piped on stdin cannot be re-imported at all. Anywhere else, runs stay in this process.
    """
    main = sys.modules.get("__main__")
    spec_name = getattr(getattr(main, "__spec__", None), "name", None) or ""
    if spec_name == "__main__" or spec_name.endswith(".__main__"):
        return True
    path = getattr(main, "__file__", None)
    if not path or not os.path.isfile(path):
        return False
    try:
        with open(path, encoding="utf-8", errors="replace") as source:
            text = source.read()
    except OSError:
        return False
    return "__name__" in text and "__main__" in text


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:  # the app's sessions and a background start may ask at once: one pool
        if _pool is None:
            # forkserver: children start from a clean interpreter, safe beside threads (Streamlit);
            # the server loads the engine once (coach.pool_worker) and forks workers ready to run.
            _pool = ProcessPoolExecutor(max_workers=worker_count(), mp_context=pool_server.context())
            atexit.register(shutdown_pool)  # workers must not outlive this process
        return _pool


def _ready() -> bool:
    """In a worker: whether it started with the engine loaded (forked from the pool's server)."""
    from coach.model import kernels

    return bool(kernels.post_pass.signatures)


def start_pool() -> threading.Thread:
    """Start the worker pool in the background, so its workers are ready when pooled runs come.

    Starting a worker waits for the pool's server to load the engine (about a second): the
    caller goes on meanwhile. The pool counts as running (:func:`pool_running`) from the
    return on. Returns the starting thread; pooled runs submitted meanwhile simply queue.
    """

    try:
        pool = _get_pool()  # the executor at once (pool_running() is True from here); its workers below
    except Exception:  # a pool that cannot start fails at the first real task instead
        pool = None

    def start() -> None:
        if pool is None:
            return
        with contextlib.suppress(Exception):  # (as above)
            for _ in range(worker_count()):
                pool.submit(_ready)

    thread = threading.Thread(target=start, name="coach-pool-start", daemon=True)
    thread.start()
    return thread


def pool_running() -> bool:
    """Whether the worker pool has been started in this process (and not shut down since)."""
    return _pool is not None


def pool_pids() -> list[int]:
    """Process ids of the worker pool's processes (none while no pool runs); for memory budgets."""
    processes = getattr(_pool, "_processes", None) or {}
    return [pid for pid in list(processes) if pid is not None]


def shutdown_pool() -> None:
    """Stop the worker pool now: cancel queued runs and terminate its processes.

    A cancelled pooled run would otherwise keep its worker busy until the run ends (minutes
    for a run far over budget), and workers would outlive the server. Runs waiting on the
    pool fail (``BrokenProcessPool``); the next parallel run starts a fresh pool.
    """
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is None:
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)


def _run_batch(scenario_json: str, seed: int, replicates: list[int]) -> list[Results]:
    return simulate_batch(Scenario.model_validate_json(scenario_json), seed, replicates)


def _batches(scenario: Scenario, indices: list[int], parts: int = 1) -> list[list[int]]:
    """Split replicate indices into batches within the memory budget, at least ``parts`` of them."""
    size = min(batch_size(scenario), max(1, -(-len(indices) // parts)))
    return [indices[i : i + size] for i in range(0, len(indices), size)]


def _pool_tasks(scenarios: Sequence[Scenario], indices: list[int]) -> list[tuple[int, list[int]]]:
    """The pool's tasks (scenario position, replicate indices), in the order to submit them.

    Enough tasks to keep every worker busy: a scenario's replicates are cut into as many
    batches as there are workers when the scenarios alone are too few. When the tasks do
    not fill the last round of the workers (3 candidates on 2 cores: one core idle while the
    other runs the third), that round's tasks are cut finer and sent last, so the cores end
    together: a batch's results do not depend on how its replicates are split.
    """
    workers = worker_count()
    parts = max(1, -(-workers // len(scenarios)))
    tasks = [(i, chunk) for i, s in enumerate(scenarios) for chunk in _batches(s, indices, parts)]
    left = len(tasks) % workers
    if left and len(tasks) > workers:
        pieces = -(-workers // left)
        last = tasks[-left:]
        del tasks[-left:]
        for i, chunk in last:
            size = max(1, -(-len(chunk) // pieces))
            tasks += [(i, chunk[k : k + size]) for k in range(0, len(chunk), size)]
    return tasks


def run_many(
    scenario: Scenario,
    replicates: int | None = None,
    seed: int | None = None,
    *,
    parallel: bool | None = None,
    progress: Progress | None = None,
    should_stop: StopCheck | None = None,
) -> Ensemble:
    """Run ``replicates`` (default: the scenario's) replicates from ``seed`` (default: its own).

    ``parallel=None`` uses the worker pool when the estimated run time makes it worth it and
    workers can start safely (:func:`workers_can_start`); True asks for the pool, False
    refuses it. Results are identical either way.
    """
    replicates = scenario.replicates if replicates is None else replicates
    seed = scenario.seed if seed is None else seed
    return run_batch([scenario], replicates, seed, parallel=parallel, progress=progress, should_stop=should_stop)[0]


def compare(
    scenarios: Sequence[Scenario],
    replicates: int | None = None,
    seed: int | None = None,
    *,
    parallel: bool | None = None,
    progress: Progress | None = None,
    should_stop: StopCheck | None = None,
) -> list[Ensemble]:
    """Run every scenario on the same seed and replicate indices (paired comparison).

    Without explicit values, the first scenario's replicates and seed are used for all.
    """
    if not scenarios:
        raise ValueError("compare needs at least one scenario")
    replicates = scenarios[0].replicates if replicates is None else replicates
    seed = scenarios[0].seed if seed is None else seed
    return run_batch(scenarios, replicates, seed, parallel=parallel, progress=progress, should_stop=should_stop)


def run_batch(
    scenarios: Sequence[Scenario],
    replicates: int | Sequence[int],
    seed: int,
    *,
    parallel: bool | None = None,
    progress: Progress | None = None,
    should_stop: StopCheck | None = None,
    on_day: DayProgress | None = None,
) -> list[Ensemble]:
    """Run every scenario on the same seed and replicate indices, all runs submitted at once.

    The one place runs are executed: :func:`run_many` and :func:`compare` call it, and the
    coach evaluates many variants with it (one pool submission keeps both cores busy where one
    submission per variant would idle at each variant's end). ``replicates`` is a count
    (indices 0..n-1) or the indices themselves (fresh replicates for a second look).
    ``should_stop`` is asked between batches (and once per simulated day in this process);
    when it returns True, runs not yet started are cancelled and :class:`RunCancelled` is
    raised. ``on_day`` is told after every simulated day of the batches run in this process.
    """
    indices = list(range(replicates)) if isinstance(replicates, int) else list(replicates)
    if not indices:
        raise ValueError("replicates must be at least 1")
    total = len(scenarios) * len(indices)
    estimate = sum(estimated_seconds(s, len(indices)) for s in scenarios)
    runs: list[dict[int, Results]] = [{} for _ in scenarios]
    if total > 1 and use_pool(parallel, estimate):
        texts = [s.model_dump_json() for s in scenarios]
        pool = _get_pool()
        futures = {pool.submit(_run_batch, texts[i], seed, chunk): i for i, chunk in _pool_tasks(scenarios, indices)}
        done = 0
        try:
            for future in as_completed(futures):
                i = futures[future]
                for result in future.result():
                    runs[i][result.replicate] = result
                    done += 1
                    if progress:
                        progress(done, total)
                if should_stop is not None and done < total and should_stop():
                    raise RunCancelled(f"stopped after {done} of {total} runs")
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    else:
        done = 0
        days_done = 0
        days_total = sum(s.days * len(_batches(s, indices)) for s in scenarios)
        for i, scenario in enumerate(scenarios):
            for chunk in _batches(scenario, indices):
                if should_stop is not None and should_stop():
                    raise RunCancelled(f"stopped after {done} of {total} runs")
                base = days_done

                def tell(day: int, _days: int, base: int = base) -> None:
                    on_day(base + day, days_total)  # type: ignore[misc]

                results = simulate_batch(
                    scenario, seed, chunk, should_stop=should_stop, on_day=tell if on_day else None
                )
                days_done += scenario.days
                for result in results:
                    runs[i][result.replicate] = result
                    done += 1
                    if progress:
                        progress(done, total)
    return [
        Ensemble(scenario=s, seed=seed, runs=[rs[r] for r in indices]) for s, rs in zip(scenarios, runs, strict=True)
    ]


def use_pool(parallel: bool | None, estimated: float) -> bool:
    """Whether runs of this serial estimate (seconds) go to the worker pool: the rule of
    :func:`run_many`, :func:`compare` and :func:`run_batch`, for callers that start the pool
    early or report where work ran (the command line)."""
    if parallel is None:
        threshold = PARALLEL_WARM_ABOVE_SECONDS if _pool is not None else PARALLEL_ABOVE_SECONDS
        return worker_count() > 1 and estimated > threshold and workers_can_start()
    if parallel and not workers_can_start():
        warnings.warn(
            "parallel=True, but the runs ran serially: worker processes would re-run this script. "
            'Put the calling code under `if __name__ == "__main__":` (or run it with python -m).',
            RuntimeWarning,
            stacklevel=4,  # the caller of run_many, compare or run_batch
        )
        return False
    return parallel
