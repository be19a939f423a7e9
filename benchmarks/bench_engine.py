"""Speed and memory of the engine. Prints figures; asserts nothing.

Usage: python benchmarks/bench_engine.py [--quick]

- follower-post exposures per second on one core at 10k, 100k and 1M followers
- wall time of the default persona (scenarios/steady_professional.yaml), 30 replicates,
  serially, and on all cores with the worker pool cold and warm
- 1,000,000 followers x 90 days x 10 posts/day: wall time and peak memory (child process)
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import time
from pathlib import Path

from coach import Audience, Habits, Scenario, load_scenario, run_many, simulate
from coach.experiments import worker_count

ROOT = Path(__file__).resolve().parent.parent


def crowd(followers: int, days: int, posts: float = 10) -> Scenario:
    return Scenario(days=days, habits=Habits(posts_per_day=posts), audience=Audience(followers=followers))


def exposures_per_second(followers: int, days: int) -> float:
    s = crowd(followers, days)
    simulate(s.model_copy(update={"days": 1}), 0)  # warm up imports and caches
    start = time.perf_counter()
    r = simulate(s, 1)
    elapsed = time.perf_counter() - start
    # Every post is offered to every follower: one exposure draw per follower per post.
    exposures = float((r.daily["posts"] * r.daily["followers"]).sum())
    return exposures / elapsed


def big_run(queue) -> None:
    start = time.perf_counter()
    r = simulate(crowd(1_000_000, 90), 1)
    elapsed = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put((elapsed, peak_kib, int(r.daily["followers"][-1])))


def main() -> None:
    quick = "--quick" in sys.argv
    print(f"cores available: {worker_count()}")
    for followers, days in ((10_000, 30), (100_000, 10), (1_000_000, 2)):
        rate = exposures_per_second(followers, days)
        print(f"exposures/s on one core at {followers:>9,} followers: {rate / 1e6:6.1f} M/s")

    persona = load_scenario(ROOT / "scenarios" / "steady_professional.yaml")
    start = time.perf_counter()
    run_many(persona, 30, parallel=False)
    print(
        f"default persona ({persona.audience.followers:,} followers, {persona.days} days), 30 replicates, serial: {time.perf_counter() - start:5.2f} s"
    )
    for label in ("cold", "warm"):
        start = time.perf_counter()
        run_many(persona, 30, parallel=True)
        print(f"  same on {worker_count()} cores, pool {label}: {time.perf_counter() - start:5.2f} s")

    if quick:
        return
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = ctx.Process(target=big_run, args=(queue,))
    proc.start()
    elapsed, peak_kib, end = queue.get()
    proc.join()
    print(
        f"1,000,000 followers x 90 days x 10 posts/day: {elapsed:5.1f} s, peak memory {peak_kib / 1024:,.0f} MiB "
        f"({peak_kib * 1024 / 1_000_000:,.0f} bytes per follower, whole process), ends with {end:,} followers"
    )
    del before


if __name__ == "__main__":
    main()
