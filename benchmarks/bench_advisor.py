"""Wall time of ``advise`` for bundled personas (issue 9 asks for at most 3 s and 60 x one run).

Run: ``python benchmarks/bench_advisor.py [PERSONA ... | all] [--replicates R] [--budget-minutes M]``.
Personas are names of ``scenarios/*.yaml`` (default ``steady_professional``; ``all`` for
every bundled one), else ``Scenario()`` as a stand-in when the folder is missing.
Prints, per persona, the cold time (the worker pool starts inside it, as for a one-off ``coach advise``)
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
from coach.experiments import shutdown_pool, worker_count

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("personas", nargs="*", default=["steady_professional"], help="names in scenarios/, or all")
    parser.add_argument("--replicates", type=int, default=None)
    parser.add_argument("--budget-minutes", type=float, default=None)
    args = parser.parse_args()
    bundled = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))
    names = bundled if args.personas == ["all"] else args.personas
    unknown = sorted(set(names) - set(bundled))
    if bundled and unknown:
        parser.error(f"no bundled persona {', '.join(unknown)}; choose from {', '.join(bundled)} or all")
    table = []
    for name in names if bundled else [None]:
        scenario = load_scenario(SCENARIOS / f"{name}.yaml") if name else Scenario(name="Scenario() stand-in")
        table.append(bench(scenario, args))
    if len(table) > 1:
        print("\npersona                    cold s  warm s  serial CPU s  x one run")
        for name, cold, warm, serial, ratio in table:
            print(f"{name:<26} {cold:6.2f}  {warm:6.2f}  {serial:12.2f}  {ratio:9.0f}")


def bench(scenario: Scenario, args: argparse.Namespace) -> tuple[str, float, float, float, float]:
    """Print one persona's figures; return (name, cold s, warm s, serial CPU s, serial / one run)."""
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

    walls = []
    for label in ("cold (pool starts)", "warm (pool running)"):
        if label.startswith("cold"):
            shutdown_pool()  # each persona's cold figure starts its own pool, as a one-off command does
        start = time.perf_counter()
        advice = advise(scenario, args.budget_minutes, args.replicates, progress=progress)
        seconds = time.perf_counter() - start
        walls.append(seconds)
        print(f"{label:<22} {seconds:6.2f} s  {runs['n']} runs  {runs['n'] / seconds:5.1f} runs/s  "
              f"{advice.candidates_evaluated} candidates x {advice.search_replicates} replicates "
              f"(+ {advice.replicates} fresh for the baseline and each finalist)")  # fmt: skip
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
    return scenario.name, walls[0], walls[1], serial, serial / cpu_per_run


if __name__ == "__main__":  # the forkserver pool re-imports this module in its workers
    main()
