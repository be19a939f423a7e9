"""How fast the app answers: a cold first load and a warm slider change on the default persona.

Drives ``streamlit_app.py`` with ``streamlit.testing.v1.AppTest`` (the same script runner
as ``streamlit run``, without a browser) and prints wall-clock figures; nothing is
asserted. The warm figure is what a person feels after moving "Posts per day": the
persona's reference run is cached, so only the new setting is simulated and drawn.

    python benchmarks/bench_app.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "streamlit_app.py"
# The app's package (app/) beside the script, as `streamlit run` has it: also for the worker
# pool, which starts from this process's path.
sys.path.insert(0, str(APP.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="slider changes to time (each a new value)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from coach.experiments import worker_count

    imports = time.perf_counter() - t0
    st.cache_data.clear()

    at = AppTest.from_file(str(APP), default_timeout=300)
    t = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t
    if at.exception:
        raise SystemExit(f"the app raised: {at.exception[0].value}")
    runs = at.session_state["replicates"]
    persona = at.session_state["base_label"]

    # The engine's time inside each script run (app.state calls run_many): what is left of a
    # run is the page's own share (widgets, summaries, charts).
    import app.state

    engine_calls: list[float] = []
    engine_cpu: list[float] = []
    run_many_in_page = app.state.run_many

    def timed_run_many(*a, **k):
        t, c = time.perf_counter(), time.process_time()
        try:
            return run_many_in_page(*a, **k)
        finally:
            engine_calls.append(time.perf_counter() - t)
            engine_cpu.append(time.process_time() - c)

    app.state.run_many = timed_run_many

    start = float(at.session_state["posts_per_day"])
    warm, noop, page_share, page_cpu = [], [], [], []
    for i in range(1, args.repeat + 1):
        value = start + 0.5 * i
        engine_calls.clear()
        engine_cpu.clear()
        t, c = time.perf_counter(), time.process_time()
        at.select_slider(key="posts_per_day").set_value(value).run()
        warm.append(time.perf_counter() - t)
        page_share.append(warm[-1] - sum(engine_calls))
        page_cpu.append(time.process_time() - c - sum(engine_cpu))  # in-process runs only (serial)
        if at.exception:
            raise SystemExit(f"the app raised: {at.exception[0].value}")
        t = time.perf_counter()
        at.run()  # the same settings again: everything from the cache
        noop.append(time.perf_counter() - t)

    # The same slider values again: the page is drawn from cached runs only.
    cached = []
    for i in range(1, args.repeat + 1):
        t = time.perf_counter()
        at.select_slider(key="posts_per_day").set_value(start + 0.5 * i).run()
        cached.append(time.perf_counter() - t)

    # The simulation alone for one new value, as the page calls it (warm worker pool).
    from coach import Scenario, run_many

    scenario = Scenario.model_validate_json(at.session_state["results"]["scenario"])
    sim = []
    for i in range(1, args.repeat + 1):
        variant = scenario.with_habits(posts_per_day=start + 0.25 + 0.5 * i)  # values the page never ran
        t = time.perf_counter()
        run_many(variant, runs, scenario.seed, parallel=worker_count() > 1)
        sim.append(time.perf_counter() - t)

    # CPU seconds, which a busy machine does not inflate: one run in this process, and a
    # cached rerun of the page. Their sum over the workers estimates an idle machine.
    cpu_run = []
    for i in range(3):
        t = time.process_time()
        run_many(scenario.with_habits(posts_per_day=start + 0.3 + 0.5 * i), 1, scenario.seed, parallel=False)
        cpu_run.append(time.process_time() - t)
    t = time.process_time()
    at.run()
    cpu_page = time.process_time() - t
    idle = runs * statistics.median(cpu_run) / min(worker_count(), runs) + cpu_page

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"persona: {persona}; {runs} runs per setting; {worker_count()} worker processes; load average {load:.1f}")
    print(f"imports (streamlit, coach):           {imports:6.2f} s")
    print(f"cold first load (pool start + 1 run): {cold:6.2f} s")
    print(
        f"slider change, new value (1 run):     median {statistics.median(warm):5.2f} s  (min {min(warm):.2f}, max {max(warm):.2f}, n={len(warm)})"
    )
    print(
        f"  of which the simulation ({runs} runs):  median {statistics.median(sim):5.2f} s  (min {min(sim):.2f}, max {max(sim):.2f})"
    )
    print(
        f"  of which the page itself (no engine): median {statistics.median(page_share):5.2f} s  (min {min(page_share):.2f}, max {max(page_share):.2f}); "
        f"CPU {statistics.median(page_cpu):.3f} s"
    )
    print(
        f"slider back to a seen value (cached): median {statistics.median(cached):5.2f} s  (min {min(cached):.2f}, max {max(cached):.2f})"
    )
    print(
        f"rerun, nothing changed (cached):      median {statistics.median(noop):5.2f} s  (min {min(noop):.2f}, max {max(noop):.2f})"
    )
    print(f"CPU time: one run {statistics.median(cpu_run):.3f} s; a cached page rerun {cpu_page:.3f} s")
    print(
        f"=> a slider change on an idle machine: about {idle:.2f} s ({runs} runs on {min(worker_count(), runs)} cores + the page)"
    )


if __name__ == "__main__":  # the process pool re-imports this module in its workers
    main()
