"""Wall time of ``advise`` for the default persona (issue 4 asks for under 10 s on two cores).

Run: ``python benchmarks/bench_advisor.py [--replicates R] [--budget-minutes M]``. Uses
``scenarios/steady_professional.yaml`` when it exists, else ``Scenario()`` as a stand-in.
Prints the cold time (the worker pool starts inside it, as for a one-off ``coach advise``)
and the warm time (pool already running, as in the app), plus runs per second. On a shared
machine wall times swing with other load, so it also prints the load average and an idle
figure that load does not move: the CPU time of the same advice run in this process alone.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from coach import Scenario, advisor, load_scenario, simulate
from coach.advisor import advise
from coach.experiments import worker_count

PERSONA = Path(__file__).resolve().parent.parent / "scenarios" / "steady_professional.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=None)
    parser.add_argument("--budget-minutes", type=float, default=None)
    args = parser.parse_args()
    scenario = load_scenario(PERSONA) if PERSONA.exists() else Scenario(name="Scenario() stand-in")
    print(
        f"scenario: {scenario.name} ({scenario.audience.followers} followers, {scenario.days} days); workers: {worker_count()}"
    )

    simulate(scenario.model_copy(update={"days": 2}), scenario.seed)  # load the compiled engine first
    started = time.process_time()
    for r in range(3):
        simulate(scenario, scenario.seed, r)
    cpu_per_run = (time.process_time() - started) / 3
    print(f"one run: {cpu_per_run * 1000:.0f} ms CPU; load average now {os.getloadavg()[0]:.1f}")

    runs = {"n": 0}

    def progress(done: int, total: int) -> None:
        runs["n"] = done

    for label in ("cold (pool starts)", "warm (pool running)"):
        start = time.perf_counter()
        advice = advise(scenario, args.budget_minutes, args.replicates, progress=progress)
        seconds = time.perf_counter() - start
        print(f"{label:<22} {seconds:6.2f} s  {runs['n']} runs  {runs['n'] / seconds:5.1f} runs/s  "
              f"{advice.candidates_evaluated} candidates x {advice.replicates} replicates (+ fresh replicates for finalists)")  # fmt: skip
    # The same advice in this process alone: its CPU time is what the work costs on a quiet
    # machine (a candidate's replicates run as one batch, so not runs x one run).
    pooled = advisor.run_batch

    def here(*a, **k):  # every batch in this process, none to the pool
        return pooled(*a, **{**k, "parallel": False})

    advisor.run_batch = here
    try:
        started = time.process_time()
        advise(scenario, args.budget_minutes, args.replicates)
        serial = time.process_time() - started
    finally:
        advisor.run_batch = pooled
    print(
        f"serial in this process: {serial:.2f} s CPU = {serial / cpu_per_run:.0f} x one run; "
        f"over {worker_count()} workers at best {serial / worker_count():.2f} s"
    )
    for s in advice.suggestions:
        print(" ", s.text)
    if not advice.suggestions:
        print(" ", advice.message)


if __name__ == "__main__":  # the forkserver pool re-imports this module in its workers
    main()
