"""One real-browser test: Playwright drives Debian's Chromium against ``streamlit run``.

It loads the page, moves "Posts per day" with the keyboard, sees the metrics change, uploads
a bad scenario and sees the message, and saves a screenshot to ``test-artifacts/``.

Chromium comes from the system (``apt-get install chromium``; ``.ci/run`` does it), never
from ``playwright install``. Without it the test is skipped locally, but with ``CI=true``
it fails: CI must exercise the browser.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BAD_SCENARIO = b"version: 1\nname: Typo\nhabits:\n  posts_per_day: 500\n  reply_rat: 0.5\n"


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}; with CI=true the browser test must run (.ci/run installs chromium)")
    pytest.skip(reason)


def find_chromium() -> str:
    """Debian's chromium; without it skip locally, fail under CI (a failed test, not a skip)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _unavailable("Debian's chromium is not installed (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the playwright Python package is not installed (pip install -e '.[test]')")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(log_path: Path, env: dict[str, str] | None = None, app: str = "streamlit_app.py"):
    """``streamlit run APP`` on a free port, yielding ``(url, process)`` once it answers its
    health check; terminated by its PID afterwards (killed if it does not stop)."""
    port = _free_port()
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", app,
                "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
                "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
            ],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start; its log:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)  # polling the health check, not waiting for a result
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@pytest.fixture(scope="module")
def app_url():
    """The app on a free port for this module's tests."""
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_server(ARTIFACTS / "streamlit-server.log") as (url, _process):
        yield url


def wait_until_idle(page, **url_params: str) -> None:
    """Until the script run in flight has finished (and, with ``url_params``, it is the run that
    wrote them to the URL). Streamlit keeps the previous run's elements on screen while a rerun
    computes, so figures read earlier are old ones. A finished run can still leave elements
    drawn as grey skeletons while the browser fetches their code (each kind of element loads
    lazily; on a busy machine a chart's can take seconds): wait for those too. One check
    inside the page, so the URL, the run state and the skeletons are seen at the same instant."""
    page.wait_for_function(
        """wanted => {
            const query = new URLSearchParams(location.search);
            const app = document.querySelector('[data-testid="stApp"]');
            return Object.entries(wanted).every(([k, v]) => query.get(k) === v)
                && app?.getAttribute("data-test-script-state") === "notRunning"
                && !document.querySelector('[data-testid="stSkeleton"]');
        }""",
        arg=url_params,
        timeout=90_000,
    )


def test_page_loads_slider_changes_metrics_bad_upload_explained(request, tmp_path):
    chromium = find_chromium()  # before the server starts: no server for a skipped test
    app_url = request.getfixturevalue("app_url")
    from playwright.sync_api import expect, sync_playwright

    bad = tmp_path / "typo.yaml"
    bad.write_bytes(BAD_SCENARIO)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1300})
            page.goto(app_url)

            # loaded: the persona's predictions, charts drawn, no exception
            followers = (
                page.locator('[data-testid="stMetric"]')
                .filter(has_text="Followers, day")
                .locator('[data-testid="stMetricValue"]')
            )
            expect(followers).to_be_visible(timeout=90_000)
            expect(page.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible(timeout=60_000)
            wait_until_idle(page)
            before = followers.inner_text()
            unfollows = (
                page.locator('[data-testid="stMetric"]')
                .filter(has_text="Unfollows")
                .locator('[data-testid="stMetricValue"]')
            )
            unfollows_before = unfollows.inner_text()

            # move "Posts per day" with the keyboard: two steps of 0.5 (the scale's steps up to 20;
            # the range input holds the step's index, its aria-valuetext the value shown)
            slider = page.get_by_role("slider", name="Posts per day")
            start = float(slider.get_attribute("aria-valuetext"))
            slider.focus()
            # One step, read, then two in a row (a person nudging, then hurrying): the second
            # press lands while the first's run is still drawing, and the page must end on it.
            slider.press("ArrowRight")
            expect(page).to_have_url(re.compile(rf"[?&]posts_per_day={start + 0.5:g}(&|$)"), timeout=90_000)
            wait_until_idle(page, posts_per_day=f"{start + 0.5:g}")
            slider.press("ArrowLeft")
            slider.press("ArrowRight")
            slider.press("ArrowRight")
            expect(slider).to_have_attribute("aria-valuetext", f"{start + 1:g}", timeout=10_000)

            # the predictions follow: a change against the persona appears, the figures move.
            # The app writes the URL as the run for the final value starts, so once the URL
            # shows that value and the app is idle, the figures on screen are that run's.
            expect(page.locator('[data-testid="stMetricDelta"]').first).to_contain_text("vs persona", timeout=90_000)
            expect(page).to_have_url(
                re.compile(rf"[?&]posts_per_day={start + 1:g}(&|$)"), timeout=10_000
            )  # a shareable link
            wait_until_idle(page, posts_per_day=f"{start + 1:g}")
            changed = followers.inner_text() != before or unfollows.inner_text() != unfollows_before
            assert changed, (before, unfollows_before)
            after = followers.inner_text()

            # a bad scenario: a readable message naming each field; the settings stay
            page.locator('[data-testid="stSidebar"] input[type="file"]').set_input_files(str(bad))
            alert = page.locator('[data-testid="stAlert"]').filter(has_text="can't be used as a scenario")
            expect(alert).to_be_visible(timeout=30_000)
            expect(alert).to_contain_text("habits.posts_per_day")
            expect(alert).to_contain_text("Did you mean 'reply_rate'?")
            wait_until_idle(page)
            expect(page.locator('[data-testid="stException"]')).to_have_count(0)
            assert float(slider.get_attribute("aria-valuetext")) == start + 1
            assert followers.inner_text() == after

            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "browser.png"))
        finally:
            browser.close()
    assert (ARTIFACTS / "browser.png").stat().st_size > 10_000


# What the first chart draws: its SVG paths (a band, lines), one string.
CHART_JS = """() => [...(document.querySelector('[data-testid="stVegaLiteChart"]')?.querySelectorAll("svg path") ?? [])]
    .map(e => e.getAttribute("d")).join("|")"""
METRICS_JS = """() => [...document.querySelectorAll('[data-testid="stMetricValue"]')].map(e => e.innerText).join("|")"""


def test_a_nudge_shows_its_numbers_and_then_redraws_the_charts(request):
    """The run a nudge starts shows the new cards beside the charts already on screen and asks
    for a follow-up run (app/predictions.py): in a real browser that run must come and
    redraw the charts for the new setting, with nothing left over from the old one."""
    chromium = find_chromium()
    app_url = request.getfixturevalue("app_url")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1300})
            page.goto(app_url)
            expect(page.locator('[data-testid="stVegaLiteChart"] svg').first).to_be_visible(timeout=90_000)
            wait_until_idle(page)
            chart, figures = page.evaluate(CHART_JS), page.evaluate(METRICS_JS)
            assert chart and figures
            slider = page.get_by_role("slider", name="Posts per day")
            start = float(slider.get_attribute("aria-valuetext"))
            slider.focus()
            slider.press("ArrowRight")
            page.wait_for_function(f"b => ({METRICS_JS})() !== b", arg=figures, timeout=90_000)
            # the follow-up run redraws the first chart (the followers band) for the new setting
            page.wait_for_function(f"b => ({CHART_JS})() !== b", arg=chart, timeout=90_000)
            wait_until_idle(page, posts_per_day=f"{start + 0.5:g}")
            expect(page.locator('[data-testid="stVegaLiteChart"]')).to_have_count(4)
            expect(page.locator('[data-testid="stException"]')).to_have_count(0)
            assert page.evaluate(CHART_JS) != chart
        finally:
            browser.close()


# Text that the page cuts with an ellipsis: any element inside these whose own text overflows.
TRUNCATED_JS = """selectors => {
    const cut = [];
    for (const root of document.querySelectorAll(selectors)) {
        for (const e of [root, ...root.querySelectorAll("*")]) {
            const style = getComputedStyle(e);
            if (style.textOverflow === "ellipsis" && e.scrollWidth > e.clientWidth + 1 && e.innerText.trim())
                cut.push(e.innerText.trim().slice(0, 60));
        }
    }
    return cut;
}"""
LABELS = (
    '[data-testid="stMetricLabel"], [data-testid="stMetricDelta"], [data-testid="stWidgetLabel"], '
    '[role="tab"], [data-testid="stExpander"] summary, [data-testid="stMultiSelect"], button'
)


def test_views_at_projector_sizes_have_no_cut_labels_and_the_chart_above_the_fold(request):
    """1280x720 and 1400x900, normal and presenter mode: nothing cut; in presenter mode the
    main chart of Predictions and Compare is wholly on screen without scrolling."""
    chromium = find_chromium()
    app_url = request.getfixturevalue("app_url")
    from playwright.sync_api import expect, sync_playwright

    views = [("predictions", "posts_per_day=8"), ("compare", "tab=Compare"), ("coach", "tab=Coach")]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for width, height, present in ((1280, 720, False), (1280, 720, True), (1400, 900, False)):
                for name, query in views:
                    page = browser.new_page(viewport={"width": width, "height": height})
                    page.goto(f"{app_url}/?{query}" + ("&present=1" if present else ""))
                    if name != "coach":  # drawn: the chart's SVG is there, not only its frame
                        drawn = page.locator('[data-testid="stVegaLiteChart"] svg').first
                        expect(drawn).to_be_visible(timeout=90_000)
                    else:
                        expect(page.get_by_role("button", name="Coach me")).to_be_visible(timeout=90_000)
                    expect(page.get_by_text("Presenter mode")).to_be_visible(timeout=30_000)
                    wait_until_idle(page)
                    shot = f"view-{name}-{width}{'-present' if present else ''}.png"
                    page.screenshot(path=str(ARTIFACTS / shot))
                    cut = page.evaluate(TRUNCATED_JS, LABELS)
                    assert not cut, (shot, cut)
                    if present and name != "coach":
                        box = page.locator('[data-testid="stVegaLiteChart"]').first.bounding_box()
                        assert box and box["y"] >= 0 and box["y"] + box["height"] <= height, (shot, box)
                        side = page.locator('[data-testid="stSidebar"]').bounding_box()
                        assert side is None or side["x"] + side["width"] <= 1, (shot, side)  # folded away
                    page.close()
        finally:
            browser.close()


def test_bare_links_in_a_linked_scenarios_name_stay_text(request):
    """Streamlit's renderer links ``www.…``, ``https://…`` and ``me@…`` even with their
    punctuation escaped: app/text.py breaks them, so a name from a link is never a live link."""
    import base64
    import zlib

    chromium = find_chromium()
    app_url = request.getfixturevalue("app_url")
    from playwright.sync_api import expect, sync_playwright

    name = "Visit www.evil.example, https://evil.example/x or me@evil.example"
    yaml_text = f"version: 1\nname: '{name}'\ndays: 10\nreplicates: 2\n"
    blob = base64.urlsafe_b64encode(zlib.compress(yaml_text.encode(), 9)).decode().rstrip("=")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(f"{app_url}/?scenario={blob}")
            card = page.locator(".st-key-story_card")
            expect(card).to_be_visible(timeout=90_000)
            wait_until_idle(page)
            assert name in card.inner_text().replace("\u2060", "")  # shown as typed (the joiner is invisible)
            assert page.locator('a[href*="evil.example"]').count() == 0
        finally:
            browser.close()
