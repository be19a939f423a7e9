"""Runs for the command line with progress per simulated day, also through the worker pool.

:func:`coach.experiments.run_batch` reports simulated days (``on_day``) only for batches it
runs in this process; a pooled batch reports nothing until it ends, so a 10,000,000-follower
run printed nothing for minutes. Here pooled batches report their days back through a
``multiprocessing.Manager`` queue: each worker puts ``(task, day)`` at most every
:data:`REPORT_SECONDS` (a queue round trip costs about 0.1 ms; one day of a big crowd costs
seconds), and this process drains the queue while it waits for the batches.

The runs are the same as :func:`~coach.experiments.run_batch`'s (the same batches on the same
seed and replicate indices; replicate ``r`` gives the same result in any batch and process),
so the output does not depend on whether progress was shown. Jobs that would run in this
process anyway go straight to ``run_batch`` with its own ``on_day``.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, wait

from coach import experiments
from coach.cli.common import ProgressBar
from coach.engine import simulate_batch
from coach.results import Ensemble, Results
from coach.scenario import Scenario

REPORT_SECONDS = 0.25  # a worker reports its batch's day at most this often, seconds
DRAIN_SECONDS = 0.2  # how often this process reads the workers' reports while it waits, seconds


def _run_batch_reporting(scenario_json: str, seed: int, replicates: list[int], reports, task: int) -> list[Results]:
    """A pool task: one batch, telling ``reports`` its simulated days as it goes."""
    last = 0.0

    def on_day(done: int, days: int) -> None:
        nonlocal last
        now = time.monotonic()
        if done == days or now - last >= REPORT_SECONDS:
            last = now
            reports.put((task, done))

    return simulate_batch(Scenario.model_validate_json(scenario_json), seed, replicates, on_day=on_day)


def run_with_days(
    scenarios: Sequence[Scenario],
    replicates: int,
    seed: int,
    bar: ProgressBar | None,
    *,
    parallel: bool | None = None,
) -> list[Ensemble]:
    """Every scenario on the same seed and replicates (as :func:`coach.experiments.compare`),
    telling ``bar`` each finished run and the simulated days as they pass."""
    indices = list(range(replicates))
    total = len(scenarios) * len(indices)
    estimate = sum(experiments.estimated_seconds(s, len(indices)) for s in scenarios)
    pooled = total > 1 and experiments.use_pool(parallel, estimate)  # decided once, as run_batch would
    if bar is not None:
        bar.runs = (0, total)  # "0/30 runs" from the first line on
    if bar is None or bar.quiet or not pooled:
        if (
            bar is not None
            and not pooled
            and len(scenarios) == 1
            and len(experiments._batches(scenarios[0], indices)) == 1
        ):
            bar.horizon = scenarios[0].days  # one timeline: "day 34 of 90"
        return experiments.run_batch(
            scenarios,
            indices,
            seed,
            parallel=pooled,
            progress=bar,
            on_day=bar.day if bar is not None and not pooled else None,
        )
    parts = max(1, -(-experiments.worker_count() // len(scenarios)))  # as run_batch: every worker busy
    tasks = [(i, chunk) for i, s in enumerate(scenarios) for chunk in experiments._batches(s, indices, parts)]
    weights = [len(chunk) for _, chunk in tasks]  # a batch's day is a day of each of its runs
    days_total = sum(scenarios[i].days * w for (i, _), w in zip(tasks, weights, strict=True))
    if len(tasks) == 1:
        bar.horizon = scenarios[0].days
    texts = [s.model_dump_json() for s in scenarios]
    runs: list[dict[int, Results]] = [{} for _ in scenarios]
    day_of = [0] * len(tasks)
    pool = experiments._get_pool()
    with multiprocessing.get_context("forkserver").Manager() as manager:  # no fork beside threads
        reports = manager.Queue()
        futures = {
            pool.submit(_run_batch_reporting, texts[i], seed, chunk, reports, t): t
            for t, (i, chunk) in enumerate(tasks)
        }
        pending, done = set(futures), 0
        try:
            while pending:
                finished, pending = wait(pending, timeout=DRAIN_SECONDS, return_when=FIRST_COMPLETED)
                while True:
                    try:
                        t, day = reports.get_nowait()
                    except queue_module.Empty:
                        break
                    day_of[t] = max(day_of[t], day)
                for future in finished:
                    t = futures[future]
                    i = tasks[t][0]
                    day_of[t] = scenarios[i].days
                    for result in future.result():
                        runs[i][result.replicate] = result
                        done += 1
                        bar(done, total)
                bar.day(sum(d * w for d, w in zip(day_of, weights, strict=True)), days_total)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return [
        Ensemble(scenario=s, seed=seed, runs=[rs[r] for r in indices]) for s, rs in zip(scenarios, runs, strict=True)
    ]
