"""Slider latency in a real browser: key press on "Posts per day" to new metric figures.

Starts ``streamlit run streamlit_app.py`` on a free local port, opens it in Debian's
Chromium through Playwright (as tests/test_browser.py does), waits for the default persona,
then nudges "Posts per day" one step at a time (``ArrowRight``) and times from the key
press until the texts of ``[data-testid="stMetricValue"]`` change, until the first chart's
SVG is redrawn (the charts come one run after the cards: app/predictions.py) and until the
app is idle again. Prints each nudge and the median; asserts nothing. The server is stopped by
its PID at the end.

``--pause`` waits that many seconds after each answer before the next nudge, as a person
reading the new numbers does; the app uses that time to simulate the next step of the
slider (app/prefetch.py). With ``--pause 0`` each nudge follows as soon as the page is idle.

    python benchmarks/bench_browser.py [--nudges 7] [--pause 1.0]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from test_browser import CHROMIUM_ARGS, streamlit_server  # noqa: E402  (the browser test's server and flags)

CHART_JS = """() => [...(document.querySelector('[data-testid="stVegaLiteChart"]')?.querySelectorAll("svg path") ?? [])]
    .map(e => e.getAttribute("d")).join("|")"""
METRICS_JS = "() => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')].map(e => e.innerText).join('|')"
IDLE_JS = """() => document.querySelector('[data-testid="stApp"]')?.getAttribute("data-test-script-state") === "notRunning" """


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nudges", type=int, default=7, help="one-step slider nudges to time")
    parser.add_argument(
        "--pause", type=float, default=1.0, help="seconds spent reading each answer before the next nudge"
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, streamlit_server(Path(folder) / "server.log") as (url, _server):
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1300})
            t = time.perf_counter()
            page.goto(url)
            page.wait_for_selector('[data-testid="stVegaLiteChart"]', timeout=120_000)
            page.wait_for_function(IDLE_JS, timeout=120_000)
            print(f"first load to charts and idle: {time.perf_counter() - t:.2f} s")
            runs = page.get_by_role("slider", name="Runs (replicates)")  # in the sidebar
            print(f"runs per scenario on screen: {runs.first.get_attribute('aria-valuetext')}")
            slider = page.get_by_role("slider", name="Posts per day")
            times, charts, idle = [], [], []  # until new figures show; the chart redrawn; the reruns finished
            for i in range(args.nudges):
                time.sleep(args.pause)  # reading the numbers (a benchmark, not a test: no assertion waits on it)
                before, chart = page.evaluate(METRICS_JS), page.evaluate(CHART_JS)
                slider.focus()
                t = time.perf_counter()
                slider.press("ArrowRight")  # always a new value: nothing comes from the cache
                page.wait_for_function(f"b => ({METRICS_JS})() !== b", arg=before, timeout=120_000, polling=10)
                changed = time.perf_counter() - t
                page.wait_for_function(f"b => ({CHART_JS})() !== b", arg=chart, timeout=120_000, polling=10)
                drawn = time.perf_counter() - t
                page.wait_for_function(IDLE_JS, timeout=120_000)
                times.append(changed)
                charts.append(drawn)
                idle.append(time.perf_counter() - t)
                print(
                    f"nudge {i + 1}: new figures after {changed * 1e3:6.0f} ms, chart redrawn after {drawn * 1e3:6.0f} ms "
                    f"(idle after {idle[-1] * 1e3:6.0f} ms)"
                )
            print(
                f"median key press to new figures: {statistics.median(times) * 1e3:.0f} ms over {len(times)} nudges "
                f"({args.pause:g} s reading between nudges; load average {os.getloadavg()[0]:.1f})"
            )
            print(f"median key press to the first chart redrawn: {statistics.median(charts) * 1e3:.0f} ms")
            print(f"median key press to the reruns' end: {statistics.median(idle) * 1e3:.0f} ms")
            browser.close()


if __name__ == "__main__":
    main()
