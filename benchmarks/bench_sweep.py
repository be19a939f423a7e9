"""Sweep speed and memory: prints figures, asserts nothing (timings are noisy on shared machines).

    PYTHONPATH=. python benchmarks/bench_sweep.py              # everything (a few minutes)
    PYTHONPATH=. python benchmarks/bench_sweep.py --only grid  # one part: grid, cell, dask, memory

grid    the issue's 12 x 5 grid x 20 replicates (1,200 runs) of the default persona, locally
        (target: <= 15 s on two cores once the batched engine has landed)
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


def bench_dask(repeats: int) -> None:
    from distributed import LocalCluster

    sweep = build_sweep(PERSONA, ["habits.posts_per_day=1:8:8", "habits.reply_rate=0.2,0.8"], replicates=10)
    results = {}
    for workers in (1, 2):
        with LocalCluster(
            processes=True, n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        ) as cluster:
            address = cluster.scheduler_address
            warm = build_sweep(PERSONA, ["habits.posts_per_day=1,2"], replicates=1, days=2)
            list(run_sweep(warm, scheduler=address))  # warm: every worker imports coach once
            results[workers] = statistics.median(
                timed(lambda a=address: list(run_sweep(sweep, scheduler=a))) for _ in range(repeats)
            )
    print(
        f"dask: {sweep.size} cells x {sweep.replicates} runs: 1 worker x 1 thread {results[1]:.1f} s, "
        f"2 x 1 {results[2]:.1f} s, speed-up {results[1] / results[2]:.2f}x"
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
    parser.add_argument("--only", choices=["grid", "cell", "dask", "memory"])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    parts = {
        "grid": lambda: bench_grid(args.repeats),
        "cell": lambda: bench_cell(args.repeats),
        "dask": lambda: bench_dask(args.repeats),
        "memory": bench_memory,
    }
    for name, part in parts.items():
        if args.only in (None, name):
            part()


if __name__ == "__main__":
    main()
