"""A workshop in a real browser: Playwright drives Debian's Chromium against ``streamlit run``.

One facilitator (a 1280×720 projector) and three participants (phones, one browser context
each, so separate sessions) join the same room, submit at the same time, are hidden until
the facilitator reveals ("predict, then reveal"), and then see their own prediction. The
server and the test share a temporary SQLite file; screenshots go to ``test-artifacts/``.
As for ``test_browser.py``: skipped locally without chromium, a failure with ``CI=true``.
"""

from __future__ import annotations

import os

import pytest

from coach.cli.workshop import open_room
from coach.workshop import Store
from tests.test_browser import ARTIFACTS, CHROMIUM_ARGS, ROOT, find_chromium, streamlit_server, wait_until_idle
from tests.workshop_fixtures import FAST_EXERCISE, write_exercise

pytestmark = pytest.mark.browser

PEOPLE = ["Ana", "<b>Ben</b>", "**Cy**"]
PROJECTOR = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def server(tmp_path):
    """``streamlit run`` on a free port with COACH_DB in tmp_path; stopped by its PID afterwards."""
    ARTIFACTS.mkdir(exist_ok=True)
    db = f"sqlite:///{tmp_path / 'browser.db'}"
    env = {**os.environ, "COACH_DB": db, "COACH_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    with streamlit_server(ARTIFACTS / "workshop-server.log", env=env) as (url, _process):
        yield url, db


def test_a_class_joins_submits_at_once_and_is_revealed(request, tmp_path):
    chromium = find_chromium()
    url, db = request.getfixturevalue("server")
    from playwright.sync_api import expect, sync_playwright

    hidden_first = FAST_EXERCISE.replace("reveal: live", "reveal: predict_then_reveal", 1)
    store = Store(db)
    room, key = open_room(store, str(write_exercise(tmp_path, hidden_first)))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            host = browser.new_context(viewport=PROJECTOR).new_page()
            host.goto(f"{url}/?room={room.code}&host={key}")
            expect(host.get_by_role("button", name="Reveal results")).to_be_visible(timeout=90_000)
            expect(
                host.get_by_role("heading", name=f"Join room {room.code}")
            ).to_be_visible()  # nobody yet: the join code, large
            expect(host.locator('[data-testid="stImage"] img').first).to_be_visible(timeout=90_000)  # the QR code
            wait_until_idle(host)
            host.screenshot(path=str(ARTIFACTS / "workshop-join.png"))

            phones = []
            for name in PEOPLE:
                page = browser.new_context(viewport=PHONE).new_page()
                page.goto(f"{url}/?room={room.code}")
                phones.append((name, page))
            for name, page in phones:
                box = page.get_by_role("textbox", name="Your name")
                expect(box).to_be_visible(timeout=90_000)
                box.fill(name)
                box.press("Enter")
                expect(page.get_by_role("slider", name="Reply rate")).to_be_visible(timeout=90_000)
            phones[0][1].screenshot(path=str(ARTIFACTS / "workshop-phone-joined.png"))
            for i, (_, page) in enumerate(phones):  # different habits, so different outcomes
                slider = page.get_by_role("slider", name="Reply rate")
                slider.focus()
                for _ in range(i + 1):
                    slider.press("ArrowRight")
            for _, page in phones:  # everyone presses Submit within the same moment
                page.get_by_role("button", name="Submit").click()
            for _, page in phones:
                expect(page.get_by_text("Your prediction is hidden until the facilitator reveals")).to_be_visible(
                    timeout=120_000
                )
                expect(page.locator('[data-testid="stMetricValue"]')).to_have_count(0)

            submitted = host.locator('[data-testid="stMetric"]').filter(has_text="Submitted")
            expect(submitted).to_contain_text(str(len(PEOPLE)), timeout=120_000)
            expect(host.locator('[data-testid="stMetric"]').filter(has_text="Simulated")).to_contain_text(
                str(len(PEOPLE)), timeout=120_000
            )
            host.get_by_role("button", name="Reveal results").click()
            chart = host.locator('[data-testid="stVegaLiteChart"]').first
            expect(chart).to_be_visible(timeout=120_000)
            expect(host.get_by_role("button", name="Reveal results")).to_be_disabled(timeout=90_000)
            box = chart.bounding_box()
            assert box is not None and box["y"] + box["height"] <= PROJECTOR["height"], box  # above the fold
            for name in PEOPLE:  # names reach the leaderboard verbatim
                expect(host.locator('[data-testid="stDataFrame"]').first).to_contain_text(name, timeout=90_000)
            expect(host.locator('[data-testid="stException"]')).to_have_count(0)
            host.screenshot(path=str(ARTIFACTS / "workshop-facilitator.png"))

            for _, page in phones:  # the reveal reaches the phones by their own refresh
                expect(page.locator('[data-testid="stMetricValue"]')).to_have_count(1, timeout=120_000)
                expect(page.locator('[data-testid="stException"]')).to_have_count(0)
            phones[0][1].screenshot(path=str(ARTIFACTS / "workshop-participant.png"), full_page=True)

            wrong = browser.new_context(viewport=PROJECTOR).new_page()
            wrong.goto(f"{url}/?room={room.code}&host={key}x")
            expect(wrong.get_by_text("is not the one for room")).to_be_visible(timeout=120_000)
            expect(wrong.get_by_role("button", name="Reveal results")).to_have_count(0)
        finally:
            browser.close()
    names = {s.name for s in store.latest_submissions(room.code)}
    assert names == set(PEOPLE)
    assert (ARTIFACTS / "workshop-facilitator.png").stat().st_size > 10_000
