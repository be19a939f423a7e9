"""Sweep speed and memory: prints figures, asserts nothing (timings are noisy on shared machines).

    PYTHONPATH=. python benchmarks/bench_sweep.py              # everything (a few minutes)
    PYTHONPATH=. python benchmarks/bench_sweep.py --only grid  # one part: grid, cell, dask, memory

grid    the issue's 12 x 5 grid x 20 replicates (1,200 runs) of the default persona, locally
        (target: <= 15 s on two cores once the batched engine has landed)
cpu     CPU seconds per run of that grid's cells, serially (little affected by a shared
        machine's load), and the grid's projected time on two idle cores
cell    per cell, a sweep vs a lone `coach run` of the same cell (run_many, same pool)
dask    a LocalCluster of 2 workers x 1 thread vs 1 x 1 on the same grid (target: >= 1.7x)
memory  peak Python memory of the driver while streaming grids of growing size to a CSV
        (rows are written as cells finish, so it should stay flat)
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from coach.experiments import run_many
from coach.sweep import build_sweep
from coach.sweep_backends import run_sweep
from coach.sweep_output import SweepOutput

PERSONA = "steady_professional"  # the app's default persona
GRID = ["habits.posts_per_day=0.5:12:12", "habits.reply_rate=0:1:5"]


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_grid(repeats: int) -> None:
    sweep = build_sweep(PERSONA, GRID, replicates=20)
    times = [timed(lambda: list(run_sweep(sweep))) for _ in range(repeats)]
    med = statistics.median(times)
    print(
        f"grid: {sweep.size} cells x {sweep.replicates} runs = {sweep.runs} runs of {PERSONA}: "
        f"median {med:.1f} s over {repeats} (all: {', '.join(f'{t:.1f}' for t in times)} s), "
        f"{sweep.runs / med:.0f} runs/s"
    )


def bench_cpu() -> None:
    """CPU seconds per run, serially in this process: much less sensitive to a shared machine's load.

    Projects the grid's wall time on two idle cores (CPU time / 2, no pool overhead counted).
    """
    sweep = build_sweep(PERSONA, GRID, replicates=20)
    subset = build_sweep(PERSONA, ["habits.posts_per_day=0.5,4.682,8.864,12", "habits.reply_rate=0.5"], replicates=20)
    start = time.process_time()
    list(run_sweep(subset, parallel=False))
    per_run = (time.process_time() - start) / subset.runs
    print(
        f"cpu: {per_run * 1000:.0f} ms CPU per run (serial, 4 cells x 20 runs across the grid's range); "
        f"the {sweep.runs}-run grid would take about {per_run * sweep.runs / 2:.0f} s on two idle cores"
    )


def bench_cell(repeats: int) -> None:
    cells = ["habits.posts_per_day=1,2,4,8", "habits.reply_rate=0.5"]
    sweep = build_sweep(PERSONA, cells, replicates=20)
    list(run_sweep(sweep))  # warm the pool, as a running app or a second command would find it
    scenarios = [c.scenario for c in sweep.cells()]
    per_cell, lone = [], []
    for _ in range(repeats):  # interleaved, so a change in the machine's load hits both alike
        per_cell.append(timed(lambda: list(run_sweep(sweep))) / sweep.size)
        lone.append(statistics.mean(timed(lambda s=s: run_many(s, 20, sweep.seed)) for s in scenarios))
    a, b = statistics.median(per_cell), statistics.median(lone)
    print(f"cell: per cell in a sweep {a:.2f} s, a lone run_many of the same cell {b:.2f} s (ratio {a / b:.2f})")


def _busy_share(address: str, sweep, workers: int) -> tuple[float, float]:
    """Wall time of a sweep on the cluster and the share of it the workers spent computing.

    The share is little affected by a loaded machine: it says whether the driver keeps every
    worker fed, which is what scaling needs once the cores are free.
    """
    from distributed import Client, get_task_stream

    with Client(address, set_as_default=False) as client, get_task_stream(client=client) as stream:
        wall = timed(lambda: list(run_sweep(sweep, scheduler=address)))
    busy = sum(
        part["stop"] - part["start"]
        for task in stream.data
        for part in task.get("startstops", ())
        if part.get("action") == "compute"
    )
    return wall, busy / (wall * workers)


def _warm_worker() -> None:
    from coach import Scenario, simulate

    simulate(Scenario(days=2), 0)


def bench_dask(repeats: int) -> None:
    from distributed import Client, LocalCluster

    sweep = build_sweep(PERSONA, ["habits.posts_per_day=1:8:8", "habits.reply_rate=0.2,0.8"], replicates=10)
    results: dict[int, float] = {}
    busy: dict[int, float] = {}
    for workers in (1, 2):
        with LocalCluster(
            processes=True, n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster:
            address = cluster.scheduler_address
            with Client(address) as client:
                client.run(_warm_worker)  # every worker imports coach and loads the compiled engine once
            runs = [_busy_share(address, sweep, workers) for _ in range(repeats)]
            results[workers] = statistics.median(w for w, _ in runs)
            busy[workers] = statistics.median(b for _, b in runs)
    print(
        f"dask: {sweep.size} cells x {sweep.replicates} runs: 1 worker x 1 thread {results[1]:.1f} s "
        f"(workers busy {busy[1]:.0%} of it), 2 x 1 {results[2]:.1f} s (busy {busy[2]:.0%}), "
        f"speed-up {results[1] / results[2]:.2f}x"
    )


def bench_memory() -> None:
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in (10, 40, 160, 640):
            sweep = build_sweep(
                PERSONA, [f"habits.posts_per_day=0.5:12:{count}"], replicates=2, days=3, sets=["audience.followers=200"]
            )
            out = SweepOutput(sweep, "csv", str(Path(tmp) / f"g{count}.csv"))
            tracemalloc.start()
            out.open()
            for result in run_sweep(sweep, parallel=False):
                out.add(result)
            out.close()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            figures.append(f"{count} cells {peak / 1024:.0f} KiB")
    print("memory (peak traced in the driver while streaming to CSV): " + ", ".join(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["grid", "cpu", "cell", "dask", "memory"])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    parts = {
        "grid": lambda: bench_grid(args.repeats),
        "cpu": bench_cpu,
        "cell": lambda: bench_cell(args.repeats),
        "dask": lambda: bench_dask(args.repeats),
        "memory": bench_memory,
    }
    for name, part in parts.items():
        if args.only in (None, name):
            part()


if __name__ == "__main__":
    main()
