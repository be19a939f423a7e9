"""Fit the engine's unit costs (coach.experiments.COST_PER_*) to measured runs. Prints; asserts nothing.

Usage: python benchmarks/bench_costs.py [--quick]

The up-front estimates (``coach run``/``advise``/``sweep`` announcing a long job, the app's
time limits, whether the worker pool starts) come from
:func:`coach.experiments.estimated_seconds`, a sum of unit costs::

    days x (batches x (DAY + posts x POST) + replicates x (REPLICATE_DAY + followers x (posts x EXPOSURE + FOLLOWER_DAY)))
    + replicates x followers x START_FOLLOWER

This measures CPU seconds (medians; steadier than wall time on a shared machine) of bundled
personas at 1 and 6 replicates, the default persona up to 200, four of them over a year (crowds
that grow and shrink: the estimate reckons on :func:`coach.experiments.cost_followers`), and
crowds of 200,000 and 1,000,000 followers; fits the six costs by least squares on relative error; and prints the
fit beside the costs in the code, with each case's estimate over its measured time. Run it
on an idle machine after the engine changes, and copy the fitted costs into
coach/experiments.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from bench_engine import cpu_seconds  # this folder is on the path when a script in it runs

from coach import Audience, Habits, Scenario, load_scenario
from coach import experiments as ex
from coach.engine import batch_size, simulate_batch

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
NAMES = ("COST_PER_DAY", "COST_PER_POST", "COST_PER_REPLICATE_DAY", "COST_PER_EXPOSURE", "COST_PER_FOLLOWER_DAY",
         "COST_PER_START_FOLLOWER")  # fmt: skip


def terms(s: Scenario, replicates: int) -> list[float]:
    """What each unit cost is multiplied by in estimated_seconds, for this job."""
    posts = max(h.posts_per_day for _, h in s.habit_schedule())
    batches = -(-replicates // batch_size(s))
    n = ex.cost_followers(s)  # the crowd the estimate reckons on: the start, or more where it may grow
    return [s.days * batches, s.days * batches * posts, s.days * replicates, s.days * replicates * n * posts,
            s.days * replicates * n, replicates * s.audience.followers]  # fmt: skip


def cpu(s: Scenario, replicates: int, repeat: int) -> float:
    simulate_batch(s, 7, range(replicates))  # a first run loads the compiled engine and warms the caches
    return cpu_seconds(s, replicates, repeat)


def main() -> None:
    quick = "--quick" in sys.argv
    cases: list[tuple[str, Scenario, int]] = []
    for name, counts in (("steady_professional", (1, 6, 30, 200)), ("over_poster", (1, 6)), ("news_curator", (1, 6)),
                         ("too_big", (1, 6)), ("billboard", (1, 6)), ("scheduled_bot", (1, 6))):  # fmt: skip
        s = load_scenario(SCENARIOS / f"{name}.yaml")
        cases += [(name, s, r) for r in counts if not (quick and r > 30)]
    for name in ("news_curator", "too_big", "over_poster", "conversationalist"):  # a year: crowds that grow or shrink
        cases.append((f"{name} 365 d", load_scenario(SCENARIOS / f"{name}.yaml").model_copy(update={"days": 365}), 6))
    for n in (200_000,) if quick else (200_000, 1_000_000):
        cases.append(
            (f"{n:,} followers", Scenario(days=10, habits=Habits(posts_per_day=10), audience=Audience(followers=n)), 1)
        )
    rows, seconds = [], []
    for label, s, r in cases:
        rows.append(terms(s, r))
        seconds.append(cpu(s, r, 2 if s.audience.followers > 10_000 else 5))
        print(f"measured {label:<22} x {r:<3} {seconds[-1] * 1000:8.1f} ms CPU", flush=True)
    a, y = np.array(rows), np.array(seconds)
    fit = np.linalg.lstsq(a / y[:, None], np.ones(len(y)), rcond=None)[0]  # relative error: each row over its time
    now = np.array([getattr(ex, name) for name in NAMES])
    print("\ncost                      in the code     fitted")
    for name, old, new in zip(NAMES, now, fit, strict=True):
        print(f"{name:<25} {old:11.2e} {new:10.2e}{'   (negative: refit with more cases)' if new < 0 else ''}")
    print("\ncase                         measured   estimate now   with the fit")
    for (label, _, r), real, row in zip(cases, y, a, strict=True):
        print(f"{label:<22} x {r:<3} {real * 1000:8.1f} ms  {row @ now / real:8.2f}x  {row @ fit / real:12.2f}x")


if __name__ == "__main__":
    main()
