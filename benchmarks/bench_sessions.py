"""Fifteen people open the app at once: time from opening the page to its first chart.

Starts ``streamlit run streamlit_app.py`` on 127.0.0.1 (a free port), opens one Playwright
browser context per person in Debian's Chromium (separate cookies, separate Streamlit
sessions), navigates them all at the same moment and waits in each for the first
``[data-testid="stVegaLiteChart"]``. Prints each session's time, the median and the
slowest; nothing is asserted. The server is stopped by its PID at the end.

Times per session: when the server *sent* the first chart (the first websocket frame
holding a Vega-Lite spec, as Playwright hands it over), how much of that came after the tab
had loaded Streamlit's scripts and opened its websocket (the server's share: the session
starts there), and when the tab had *drawn* the chart.
Fifteen headless Chromium tabs on the server's two cores cost far more CPU than the server
(~8 s each against ~0.1-0.5 s), so "drawn" measures mostly the tabs; "sent" is what a
visitor on their own device waits for, plus their own drawing. ``--nice-browsers`` runs
Chromium at the lowest CPU priority (``nice 19``), so the server is served first, as if
the browsers were elsewhere.

``--protocol`` opens the sessions without browsers: each is a websocket client speaking
Streamlit's own protocol (the ``BackMsg``/``ForwardMsg`` protobufs the page's scripts send
and receive), all connecting in the same instant, timed to the first chart element the
server sends. That is fifteen visitors with their own devices, as the server sees them.

    python benchmarks/bench_sessions.py [--sessions 15] [--distinct] [--nice-browsers | --protocol]

``--distinct`` gives every session a different seed (no shared cache: the work queue alone),
the default opens the same default page (identical requests computed once).
Issue 10's target: 15 simultaneous first loads under 10 s on two cores.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from test_browser import CHROMIUM_ARGS  # noqa: E402  (the browser test's flags, as bench_browser uses)

# Records, in the page, the moment its first chart is in the DOM (epoch milliseconds).
FIRST_CHART = """
new MutationObserver((_, observer) => {
  if (document.querySelector('[data-testid="stVegaLiteChart"]')) {
    window.__firstChart = Date.now();
    observer.disconnect();
  }
}).observe(document, {subtree: true, childList: true});
"""


def cpu_seconds(processes: list) -> float:
    """User + system CPU seconds of these processes (psutil.Process), those still running."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except Exception:  # gone meanwhile
            continue
    return total


def tree(pid: int) -> list:
    import psutil

    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, log: Path) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
        "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    for _ in range(300):  # up to 30 s
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.read().decode().strip() == "ok":
                    return process
        except OSError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the server did not start; see {log}")


def niced(chromium: str) -> str:
    """A wrapper script that starts Chromium at the lowest CPU priority."""
    wrapper = Path(tempfile.gettempdir()) / "bench-sessions-nice-chromium"
    wrapper.write_text(f'#!/bin/sh\nexec nice -n 19 "{chromium}" "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


async def _protocol_session(port: int, query: str, start: float) -> tuple[float, float]:
    """One session as the page's scripts open it: (seconds to the first chart, to the script's end)."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    chart = finished = float("nan")
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/_stcore/stream",
        subprotocols=["streamlit"],
        origin=f"http://127.0.0.1:{port}",
        max_size=None,
    ) as ws:
        message = BackMsg()
        message.rerun_script.query_string = query
        await ws.send(message.SerializeToString())
        async for frame in ws:
            msg = ForwardMsg.FromString(frame)
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                if msg.delta.new_element.WhichOneof("type") == "vega_lite_chart" and chart != chart:
                    chart = time.time() - start
            elif kind == "script_finished":
                finished = time.time() - start
                break
    return chart, finished


def protocol_run(port: int, sessions: int, distinct: bool, warm: bool = False) -> tuple[list[float], list[float]]:
    import asyncio

    async def all_at_once() -> list[tuple[float, float]]:
        start = time.time()
        # The warm-up's seed is nobody's: the default page stays uncached, as in the browser run.
        queries = ["seed=999"] if warm else [f"seed={100 + i}" if distinct else "" for i in range(sessions)]
        return await asyncio.gather(*(_protocol_session(port, q, start) for q in queries))

    results = asyncio.run(all_at_once())
    return sorted(r[0] for r in results), sorted(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=15)
    parser.add_argument("--distinct", action="store_true", help="a different seed per session (no shared cache)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for each first chart")
    parser.add_argument("--nice-browsers", action="store_true", help="Chromium at the lowest CPU priority (nice 19)")
    parser.add_argument("--protocol", action="store_true", help="no browsers: Streamlit's websocket protocol")
    args = parser.parse_args()
    if args.protocol:
        port = free_port()
        log = Path(tempfile.gettempdir()) / f"bench-sessions-{port}.log"
        server = start_server(port, log)
        try:
            protocol_run(port, 1, False, warm=True)  # the server's imports, as a server up for a while
            server_tree = tree(server.pid)
            before = cpu_seconds(server_tree)
            charts, ends = protocol_run(port, args.sessions, args.distinct)
            cpu = cpu_seconds(tree(server.pid)) - before
        finally:
            server.terminate()
            server.wait(timeout=30)
        kind = "distinct seeds" if args.distinct else "the same default page"
        print(f"{args.sessions} sessions opened at once ({kind}, no browsers: Streamlit's protocol):")
        print("  seconds to the first chart: " + ", ".join(f"{t:.1f}" for t in charts))
        print(f"    median {statistics.median(charts):.1f} s, slowest {charts[-1]:.1f} s (machine shared; noisy)")
        print(f"  to the end of the page: median {statistics.median(ends):.1f} s, slowest {ends[-1]:.1f} s")
        print(f"  server CPU (with its pool workers): {cpu:.1f} s")
        return

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Debian's chromium is not installed (apt-get install chromium)")
    if args.nice_browsers:
        chromium = niced(chromium)
    port = free_port()
    log = Path(tempfile.gettempdir()) / f"bench-sessions-{port}.log"
    server = start_server(port, log)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            # Warm the server's imports with one page first, as a real server has been up a while;
            # its chart is cached only for the default page, so --distinct stays cold.
            warm = browser.new_context().new_page()
            warm.goto(f"http://127.0.0.1:{port}/?seed=999", timeout=args.timeout * 1000)
            warm.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=args.timeout * 1000)
            warm.context.close()

            pages = []
            sent: dict[int, float] = {}  # page index -> epoch seconds the first chart's frame arrived
            opened: dict[int, float] = {}  # page index -> epoch seconds its websocket opened

            def watch(index: int):
                def on_socket(ws) -> None:
                    opened.setdefault(index, time.time())

                    def on_frame(payload) -> None:
                        data = payload if isinstance(payload, bytes) else payload.encode()
                        if index not in sent and b"vega-lite" in data:
                            sent[index] = time.time()

                    ws.on("framereceived", on_frame)

                return on_socket

            for index in range(args.sessions):
                page = browser.new_context().new_page()
                page.add_init_script(FIRST_CHART)
                page.on("websocket", watch(index))
                pages.append(page)
            urls = [
                f"http://127.0.0.1:{port}/" + (f"?seed={100 + i}" if args.distinct else "") for i in range(len(pages))
            ]
            import os

            server_tree = tree(server.pid)
            server_pids = {p.pid for p in server_tree}
            browser_tree = [p for p in tree(os.getpid())[1:] if p.pid not in server_pids]
            server_cpu, browser_cpu = cpu_seconds(server_tree), cpu_seconds(browser_tree)
            start = time.time()  # epoch seconds: the pages record their first chart on the same clock
            for page, url in zip(pages, urls, strict=True):  # returns at the first response byte
                page.goto(url, wait_until="commit", timeout=args.timeout * 1000)
            times: list[float] = []
            for page in pages:
                page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=args.timeout * 1000)
                page.wait_for_function("window.__firstChart !== undefined", timeout=args.timeout * 1000)
                times.append(page.evaluate("window.__firstChart") / 1000 - start)
            sent_times = sorted(sent[i] - start for i in sent)
            server_times = sorted(sent[i] - opened[i] for i in sent if i in opened)
            server_tree = tree(server.pid)  # pool workers started meanwhile count too
            server_cpu = cpu_seconds(server_tree) - server_cpu
            browser_tree = [p for p in tree(os.getpid())[1:] if p.pid not in {q.pid for q in server_tree}]
            browser_cpu = cpu_seconds(browser_tree) - browser_cpu
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    times.sort()
    kind = "distinct seeds" if args.distinct else "the same default page"
    niceness = ", browsers at nice 19" if args.nice_browsers else ""
    print(f"{args.sessions} sessions opened at once ({kind}{niceness}), seconds to the first chart:")
    if sent_times:
        print(f"  sent by the server ({len(sent_times)} seen): " + ", ".join(f"{t:.1f}" for t in sent_times))
        print(f"    median {statistics.median(sent_times):.1f} s, slowest {sent_times[-1]:.1f} s")
        print(
            "  of which after the tab had connected (the server's share): "
            + ", ".join(f"{t:.1f}" for t in server_times)
        )
        print(f"    median {statistics.median(server_times):.1f} s, slowest {server_times[-1]:.1f} s")
    print("  drawn in the tab: " + ", ".join(f"{t:.1f}" for t in times))
    print(f"    median {statistics.median(times):.1f} s, slowest {times[-1]:.1f} s (machine shared; noisy)")
    print(
        f"  CPU meanwhile: server and its workers {server_cpu:.1f} s, the {args.sessions} browser tabs "
        f"{browser_cpu:.1f} s (on the same two cores; real visitors bring their own)"
    )


if __name__ == "__main__":
    main()
