"""How close the cost projection (coach/budget.py) comes to what runs really take.

For a few scenarios, from a bundled persona to crowds of hundreds of thousands, prints the
projection (bound and typical followers, prospects a day, seconds, bytes) beside one real
run: its largest crowd, wall time and peak traced memory (tracemalloc sees numpy's
arrays). Nothing is asserted; the machine is shared, so times are noisy.

    python benchmarks/bench_budget.py [--days 60]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from coach import budget
from coach.engine import simulate
from coach.scenario import SCENARIO_DIR, load_scenario, parse_scenario

CASES = {
    "steady_professional": None,
    "200,000 followers, 5 posts/day": "version: 1\nhabits: {posts_per_day: 5}\naudience: {followers: 200000}\n",
    "0 followers, 1,000,000 prospects/day": "version: 1\naudience: {followers: 0, prospects_per_day: 1000000}\n",
    "reshare-heavy, 20,000 followers": (
        "version: 1\nhabits: {posts_per_day: 10}\naudience: {followers: 20000}\n"
        "model: {reshare_probability: 0.02, prospects_per_reshare: 100}\n"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()
    print(f"{'scenario':38} {'bound':>11} {'typical':>10} {'reached':>10} {'est s':>7} {'real s':>7} "
          f"{'est MB':>7} {'real MB':>8}")  # fmt: skip
    for label, text in CASES.items():
        base = load_scenario(SCENARIO_DIR / f"{label}.yaml") if text is None else parse_scenario(text)
        scenario = base.model_copy(update={"days": args.days})
        projection = budget.project(scenario)
        start = time.perf_counter()
        results = simulate(scenario, 1, 0)
        seconds = time.perf_counter() - start
        tracemalloc.start()  # a second, traced run for memory (tracing slows it down)
        simulate(scenario, 1, 0)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        reached = float(np.max(results.daily["followers"]))
        print(
            f"{label:38} {projection.peak_followers:>11,.0f} {projection.typical_followers:>10,.0f} {reached:>10,.0f} "
            f"{projection.seconds_per_run:>7.2f} {seconds:>7.2f} {projection.bytes_per_run / 1e6:>7,.0f} {peak / 1e6:>8,.0f}"
        )


if __name__ == "__main__":
    main()
