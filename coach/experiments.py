"""Many runs: replicates of one scenario, and comparisons of several on the same seeds.

Replicate ``r`` of seed ``s`` always draws from the streams ``(s, r, name)``, whichever
process runs it, so a parallel ensemble equals a serial one exactly. Big ensembles are
spread over a pool of worker processes that is started once and then reused (the app keeps
it warm); small ones run in this process, where a pool would cost more than it saves.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

from coach.engine import RunCancelled, simulate
from coach.results import Ensemble, Results
from coach.scenario import Scenario

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each finished replicate."""
StopCheck = Callable[[], bool]
"""Asked between runs and once per simulated day; True cancels the work (:class:`RunCancelled`)."""

PARALLEL_ABOVE_SECONDS = 1.0  # estimated serial time above which the pool is started
PARALLEL_WARM_ABOVE_SECONDS = 0.2  # ... and above which a pool already running is used
_pool: ProcessPoolExecutor | None = None


# Costs measured on this project's two-core machines (benchmarks/bench_engine.py), seconds.
COST_PER_DAY = 2.5e-4  # the day's processes and its close
COST_PER_POST = 2.0e-4  # a post's events, its replies and the answers
COST_PER_EXPOSURE = 1.0e-8  # one follower offered one post
COST_PER_FOLLOWER_DAY = 1.0e-8  # one follower at the day's close


def estimated_seconds(scenario: Scenario, replicates: int) -> float:
    """A rough serial run time (within about 2x), from measured unit costs."""
    followers = scenario.audience.followers
    posts = max(habits.posts_per_day for _, habits in scenario.habit_schedule())
    per_day = COST_PER_DAY + posts * (COST_PER_POST + followers * COST_PER_EXPOSURE) + followers * COST_PER_FOLLOWER_DAY
    return replicates * scenario.days * per_day


def worker_count() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


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
    if _pool is None:
        # forkserver: children start from a clean interpreter, safe beside threads (Streamlit).
        context = multiprocessing.get_context("forkserver")
        _pool = ProcessPoolExecutor(max_workers=worker_count(), mp_context=context)
        atexit.register(shutdown_pool)  # workers must not outlive this process
    return _pool


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


def _run_one(scenario_json: str, seed: int, replicate: int) -> Results:
    return simulate(Scenario.model_validate_json(scenario_json), seed, replicate)


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
) -> list[Ensemble]:
    """Run every scenario on the same seed and replicate indices, all runs submitted at once.

    The one place runs are executed: :func:`run_many` and :func:`compare` call it, and the
    coach evaluates many variants with it (one pool submission keeps both cores busy where one
    submission per variant would idle at each variant's end). ``replicates`` is a count
    (indices 0..n-1) or the indices themselves (fresh replicates for a second look).
    ``should_stop`` is asked between runs (and once per simulated day in this process); when
    it returns True, runs not yet started are cancelled and :class:`RunCancelled` is raised.
    """
    indices = list(range(replicates)) if isinstance(replicates, int) else list(replicates)
    if not indices:
        raise ValueError("replicates must be at least 1")
    total = len(scenarios) * len(indices)
    estimate = sum(estimated_seconds(s, len(indices)) for s in scenarios)
    runs: list[list[Results | None]] = [[None] * len(indices) for _ in scenarios]
    if total > 1 and _use_pool(parallel, estimate):
        texts = [s.model_dump_json() for s in scenarios]
        pool = _get_pool()
        futures = {
            pool.submit(_run_one, texts[i], seed, r): (i, j)
            for i in range(len(scenarios))
            for j, r in enumerate(indices)
        }
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                i, j = futures[future]
                runs[i][j] = future.result()
                if progress:
                    progress(done, total)
                if should_stop is not None and done < total and should_stop():
                    raise RunCancelled(f"stopped after {done} of {total} runs")
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    else:
        for i, scenario in enumerate(scenarios):
            for j, r in enumerate(indices):
                if should_stop is not None and should_stop():
                    raise RunCancelled(f"stopped after {i * len(indices) + j} of {total} runs")
                runs[i][j] = simulate(scenario, seed, r, should_stop=should_stop)
                if progress:
                    progress(i * len(indices) + j + 1, total)
    return [
        Ensemble(scenario=s, seed=seed, runs=[r for r in rs if r is not None])
        for s, rs in zip(scenarios, runs, strict=True)
    ]


def _use_pool(parallel: bool | None, estimated: float) -> bool:
    """Whether to spread runs over the worker pool (see :func:`run_many`)."""
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
