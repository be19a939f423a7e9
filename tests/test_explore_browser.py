"""The Explore tab in a real browser: Playwright drives Debian's Chromium against ``streamlit run``.

Open the page, go to Explore, pick one habit and see its curve (band and median drawn, the
best value stated, the pick in the link), add a second habit and see a heatmap, download
the CSV of every run and check it against the page: its header, one row per value and run,
and the best value it implies is the one the page states. Small runs (a newcomer, 20 days,
3 runs) keep it to seconds of simulation. As for ``test_browser.py``: skipped locally
without chromium, a failure with ``CI=true``. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict

import numpy as np
import pytest

from coach.results import quantiles
from coach.sweep import METRICS
from tests.test_browser import ARTIFACTS, CHROMIUM_ARGS, find_chromium, streamlit_server, wait_until_idle

pytestmark = pytest.mark.browser

SMALL = "persona=newcomer&days=20&replicates=3"
RUNS = 3
HABITS_BOX = "Habits to vary (one or two)"


@pytest.fixture
def app_url():
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_server(ARTIFACTS / "explore-server.log") as (url, _process):
        yield url


def marks(page, kind: str) -> list[int]:
    """Per chart layer of a Vega mark kind (``rect``, ``area``, ``line``), how many marks its SVG draws."""
    return page.evaluate(
        """kind => [...document.querySelectorAll(
               `[data-testid="stVegaLiteChart"] svg g.mark-${kind}.role-mark`)].map(g => g.children.length)""",
        kind,
    )


def pick(page, label: str) -> None:
    """Add a habit in the multiselect: open its list and click the option."""
    page.get_by_role("combobox", name=HABITS_BOX).click()
    page.get_by_role("option", name=label, exact=True).click()
    page.keyboard.press("Escape")  # close the list so it does not cover the chart


def best_text(page) -> str:
    box = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="Best in this range")
    return box.first.inner_text()


def test_explore_curve_then_heatmap_then_the_csv(request, tmp_path):
    chromium = find_chromium()  # before the server starts: no server for a skipped test
    url = request.getfixturevalue("app_url")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True).new_page()
            page.goto(f"{url}/?{SMALL}")
            expect(page.locator('[data-testid="stVegaLiteChart"] svg').first).to_be_visible(timeout=90_000)
            wait_until_idle(page)

            page.get_by_role("tab", name="Explore").click()
            wait_until_idle(page, tab="Explore")
            expect(page.get_by_role("combobox", name=HABITS_BOX)).to_be_visible(timeout=60_000)

            # one habit: swap the default (posts per day) for reply rate
            page.get_by_role("button", name="Remove Posts per day").click()
            expect(page.get_by_text("Pick a habit to vary")).to_be_visible(timeout=60_000)
            pick(page, "Reply rate")
            expect(page).to_have_url(re.compile(r"[?&]explore=reply_rate(&|$)"), timeout=30_000)  # in the link
            wait_until_idle(page, explore="reply_rate")
            expect(page.locator('[data-testid="stVegaLiteChart"] svg').first).to_be_visible(timeout=60_000)
            expect(page.get_by_text("Best in this range: reply rate")).to_be_visible(timeout=60_000)
            assert marks(page, "area") == [1] and marks(page, "line") == [1]  # the 10-90% band and the median
            assert marks(page, "rect") == []
            page.screenshot(path=str(ARTIFACTS / "explore-curve.png"))

            # two habits: a heatmap, one cell per pair of values
            pick(page, "Posts per day")
            wait_until_idle(page, explore="reply_rate,posts_per_day")
            expect(page.get_by_text("Best in this range: reply rate")).to_contain_text("posts per day", timeout=60_000)
            rects = marks(page, "rect")
            assert len(rects) == 2 and rects[0] >= 4 and rects[1] == 1, rects  # >= 2 x 2 cells, your setting outlined
            assert marks(page, "area") == []
            cells = rects[0]
            expect(page.locator('[data-testid="stException"]')).to_have_count(0)
            stated = best_text(page)
            page.screenshot(path=str(ARTIFACTS / "explore-heatmap.png"))

            # the CSV: every run of every cell, with both habits on every row
            with page.expect_download(timeout=60_000) as info:
                page.get_by_role("button", name="Every run (CSV)").click()
            download = info.value
            assert download.suggested_filename.endswith(".csv")
            saved = tmp_path / download.suggested_filename
            download.save_as(saved)
        finally:
            browser.close()

    with open(saved, newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    assert header == ["habits.reply_rate", "habits.posts_per_day", "replicate", "seed", *METRICS]
    runs: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for row in body:
        assert len(row) == len(header)
        record = dict(zip(header, row, strict=True))
        runs[(record["habits.reply_rate"], record["habits.posts_per_day"])].append(record)
    assert len(runs) == cells, "one cell of the heatmap per pair of values in the CSV"
    assert all(sorted(int(r["replicate"]) for r in group) == list(range(RUNS)) for group in runs.values())
    assert len({row[header.index("seed")] for row in body}) == 1, "every value on the page's one seed"

    # the best value the CSV implies (highest median net change, first in grid order) is the page's
    medians = {key: quantiles(np.array([float(r["net"]) for r in group]))["median"] for key, group in runs.items()}
    (reply, posts), median = max(medians.items(), key=lambda item: item[1])  # max keeps the first of ties
    assert f"reply rate {float(reply):g}, posts per day {float(posts):g}" in stated, stated
    assert f"{median:,.0f}" in stated, stated
