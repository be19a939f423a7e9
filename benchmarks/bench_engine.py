"""Speed and memory of the engine. Prints figures; asserts nothing.

Usage: python benchmarks/bench_engine.py [--quick]

- follower-post exposures per second on one core at 10k, 200k and 1M followers (set-up of
  the crowd included), beside a bare numpy loop that only draws, compares, gathers and
  updates once per post: a lower bound on the cost, far less work than a post of the model.
  A run of a few days is mostly set-up, so each line also gives the rate of the days
  themselves: the extra exposures of a run three times as long over its extra time
- the default persona (scenarios/steady_professional.yaml): one replicate, and 30 and 200
  replicates in batched passes, as CPU seconds of this process (medians; the machine is
  shared, CPU time is steadier than wall time) and as a multiple of one replicate
- the same 30 replicates on all cores with the worker pool cold and warm (wall time)
- 1,000,000 followers x 90 days x 10 posts/day: wall time and peak memory (child process)
"""

from __future__ import annotations

import multiprocessing
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from coach import Audience, Habits, Scenario, load_scenario, run_many, simulate
from coach.engine import simulate_batch
from coach.experiments import worker_count

ROOT = Path(__file__).resolve().parent.parent


def crowd(followers: int, days: int, posts: float = 10) -> Scenario:
    return Scenario(days=days, habits=Habits(posts_per_day=posts), audience=Audience(followers=followers))


def exposures_and_seconds(followers: int, days: int, repeat: int = 3) -> tuple[float, float]:
    """One run's exposures and its median wall time (of ``repeat`` runs on the same seed)."""
    s = crowd(followers, days)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        r = simulate(s, 1)
        times.append(time.perf_counter() - start)
    # Every post is offered to every follower: one exposure draw per follower per post.
    return float((r.daily["posts"] * r.daily["followers"]).sum()), statistics.median(times)


def exposures_per_second(followers: int, days: int) -> tuple[float, float]:
    """Exposures/s of a whole run of ``days`` (set-up included), and of the days alone."""
    simulate(crowd(followers, 1), 0)  # warm up imports and caches
    exposures, seconds = exposures_and_seconds(followers, days)
    longer, longer_seconds = exposures_and_seconds(followers, 3 * days)
    return exposures / seconds, (longer - exposures) / (longer_seconds - seconds)


def numpy_limit(followers: int, posts: int = 100) -> float:
    """Exposures/s of a bare numpy loop: per post, draw, compare, gather and update the seen."""
    rng = np.random.default_rng(0)
    attention = np.full(followers, 0.25, np.float32)
    tolerance = np.full(followers, 5.0, np.float32)
    sat = np.zeros(followers, np.float32)
    start = time.perf_counter()
    for _ in range(posts):
        u = rng.random(followers, dtype=np.float32)
        seen = np.flatnonzero(u < attention * np.float32(0.9))
        ratio = np.float32(4.0) / tolerance[seen]
        sat[seen] += np.float32(0.05) / (1 + ratio * ratio)
    return followers * posts / (time.perf_counter() - start)


def cpu_seconds(scenario: Scenario, replicates: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        simulate_batch(scenario, 7, range(replicates))
        times.append(time.process_time() - start)
    return statistics.median(times)


def big_run(queue) -> None:
    start = time.perf_counter()
    r = simulate(crowd(1_000_000, 90), 1)
    elapsed = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put((elapsed, peak_kib, int(r.daily["followers"][-1])))


def main() -> None:
    quick = "--quick" in sys.argv
    print(f"cores available: {worker_count()}")
    for followers, days in ((10_000, 30), (200_000, 5), (1_000_000, 2)):
        rate, daily = exposures_per_second(followers, days)
        limit = numpy_limit(followers, posts=40 if followers > 100_000 else 200)
        print(
            f"exposures/s on one core at {followers:>9,} followers, {days} days: {rate / 1e6:6.1f} M/s "
            f"(bare numpy loop {limit / 1e6:6.1f} M/s, ratio {rate / limit:4.2f}); "
            f"the days alone {daily / 1e6:6.1f} M/s (ratio {daily / limit:4.2f})"
        )

    persona = load_scenario(ROOT / "scenarios" / "steady_professional.yaml")
    simulate_batch(persona, 7, range(2))  # warm up
    one = cpu_seconds(persona, 1, 7)
    print(f"default persona ({persona.audience.followers:,} followers, {persona.days} days), CPU time:")
    print(f"    1 replicate  {one * 1e3:7.0f} ms")
    for reps, repeat in ((30, 3), (200, 1 if quick else 3)):
        t = cpu_seconds(persona, reps, repeat)
        print(f"  {reps:3d} replicates {t * 1e3:7.0f} ms = {t / one:5.1f} x one replicate")
    start = time.perf_counter()
    run_many(persona, 30, parallel=False)
    print(f"  30 replicates via run_many, serial, wall: {time.perf_counter() - start:5.2f} s")
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
