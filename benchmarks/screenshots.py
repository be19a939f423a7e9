"""Screenshots of every tab at projector and laptop sizes, for a person to look at.

Starts ``streamlit run streamlit_app.py`` on a free local port (the browser test's
``streamlit_server()``), opens each tab in Debian's Chromium at 1280x720 and 1400x900 (and
presenter mode at 1280x720), waits until the page is drawn and idle, and saves the visible
viewport (what a person sees without scrolling) and the whole page (a 4000 px tall
viewport of the same width) to ``test-artifacts/shots/``.
For each shot it prints where the first chart's top is (px from the top of the viewport)
and any text cut with an ellipsis; it asserts nothing.

    python benchmarks/screenshots.py [--out test-artifacts/shots]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from test_browser import (  # noqa: E402  (the browser test's server, flags and checks)
    CHROMIUM_ARGS,
    LABELS,
    TRUNCATED_JS,
    streamlit_server,
    wait_until_idle,
)

# Text clipped without an ellipsis: an element holding text directly, narrower than that text,
# that hides what overflows (a select box's value, a table cell).
CLIPPED_JS = """() => {
    const out = [];
    for (const e of document.querySelectorAll("[data-testid=stApp] *")) {
        const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        const box = e.getBoundingClientRect();  // skip what is not on screen (a folded sidebar, a11y links)
        if (!own || !e.offsetParent || box.width < 2 || box.right <= 0) continue;
        const style = getComputedStyle(e);
        if (["hidden", "clip"].includes(style.overflowX) && e.scrollWidth > e.clientWidth + 1)
            out.push(e.innerText.trim().slice(0, 60));
    }
    return out;
}"""
TABS = ["Predictions", "Compare", "Explore", "Coach", "Your history", "About the model"]
SIZES = [(1280, 720, False), (1400, 900, False), (1280, 720, True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "shots")
    parser.add_argument("--tabs", nargs="*", default=TABS, help="tab names to shoot (default: all)")
    parser.add_argument("--query", default="", help="more of the link, e.g. posts_per_day=8 (a changed setting)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, streamlit_server(Path(folder) / "server.log") as (url, _server):
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
            for width, height, present in SIZES:
                for tab in args.tabs:
                    page = browser.new_page(viewport={"width": width, "height": height})
                    query = f"?tab={tab.replace(' ', '+')}" + ("&present=1" if present else "")
                    query += f"&{args.query}" if args.query else ""
                    page.goto(url + "/" + query)
                    page.get_by_text("Presenter mode").wait_for(timeout=120_000)
                    if tab in ("Predictions", "Compare"):
                        page.locator('[data-testid="stVegaLiteChart"] svg').first.wait_for(timeout=120_000)
                    wait_until_idle(page)
                    page.wait_for_timeout(500)  # let Vega finish laying out before the picture
                    stem = f"{tab.lower().replace(' ', '-')}-{width}x{height}{'-present' if present else ''}"
                    stem += "-" + args.query.replace("=", "-").replace("&", "-") if args.query else ""
                    page.screenshot(path=str(args.out / f"{stem}.png"))
                    chart = page.locator('[data-testid="stVegaLiteChart"]')
                    box = chart.first.bounding_box() if chart.count() else None
                    cut = page.evaluate(TRUNCATED_JS, LABELS) + page.evaluate(CLIPPED_JS)
                    # The whole page: Streamlit scrolls inside its own container, so a "full page"
                    # screenshot shows only the viewport; a tall viewport of the same width does.
                    page.set_viewport_size({"width": width, "height": 4000})
                    page.wait_for_timeout(800)
                    page.screenshot(path=str(args.out / f"{stem}-full.png"))
                    top = (
                        f"first chart top {box['y']:.0f} px, bottom {box['y'] + box['height']:.0f} px"
                        if box
                        else "no chart"
                    )
                    print(f"{stem}: {top}; cut labels: {cut or 'none'}")
                    page.close()
            browser.close()


if __name__ == "__main__":
    main()
