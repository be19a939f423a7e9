"""Page layout for every screen size: compact header, no truncated labels, presenter mode.

Presenter mode (a toggle on the page, or ``?present=1`` in the link) is for a projector at
1280×720: the sidebar starts collapsed, type is larger, the header shrinks to one line so
the main chart is above the fold. The CSS below is our own constant text, never anything a
person typed, so injecting it as HTML is safe.
"""

from __future__ import annotations

import streamlit as st

from app.text import safe

# Streamlit truncates metric labels and deltas with an ellipsis ("Followers at d…",
# "+204 vs perso…") and data-frame cells at their column width; let them wrap instead.
BASE_CSS = """
<style>
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}
[data-testid="stMetricValue"] { font-size: 2rem; }
.block-container, [data-testid="stMainBlockContainer"] { padding-top: 2.2rem; padding-bottom: 2rem; }
</style>
"""

# Both layouts: the header bar is see-through and only its buttons take clicks, so its empty
# toolbar does not cover the Presenter-mode toggle under it (at 1280x720 it took every click).
HEADER_CSS = """
<style>
[data-testid="stHeader"] { background: transparent; }
[data-testid="stHeader"], [data-testid="stHeader"] * { pointer-events: none; }
[data-testid="stHeader"] :is(button, a, [role="button"]),
[data-testid="stHeader"] :is(button, a, [role="button"]) * { pointer-events: auto; }
</style>
"""

# The normal page at 1280x720 (a laptop, a projector): the followers chart must start on
# screen. The header bar is see-through (HEADER_CSS) so the page starts at the top; the
# title, tagline and toggle share one row; the story card, the cards and their captions are
# tighter. Nothing is hidden: every word stays on the page.
NORMAL_CSS = """
<style>
.block-container, [data-testid="stMainBlockContainer"] {
  padding-top: 0.6rem; padding-left: 3rem; padding-right: 3.5rem; max-width: 100%;
}
[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"] { gap: 0.7rem; }
[data-testid="stTabs"] [data-baseweb="tab-panel"] > [data-testid="stVerticalBlock"] { gap: 0.7rem; }
.st-key-page_head h2 { font-size: 1.6rem; padding: 0; line-height: 1.3; }
.st-key-page_head [data-testid="stCaptionContainer"] { font-size: 0.8rem; }
.st-key-cards [data-testid="stMetricLabel"] p { font-size: 0.82rem; }
.st-key-story_card { padding: 0.5rem 0.9rem !important; gap: 0.15rem; }
.st-key-story_card [data-testid="stText"] { font-size: 0.92rem; line-height: 1.45; }
.st-key-pred_intro [data-testid="stMarkdownContainer"] p { font-size: 0.92rem; margin-bottom: 0; }
.st-key-cards [data-testid="stMetric"] { padding: 0.25rem 0.55rem !important; }
.st-key-cards [data-testid="stMetric"] > div { padding: 0.3rem 0.1rem; }
.st-key-cards [data-testid="stMetricValue"] { font-size: 1.7rem; }
.st-key-cards [data-testid="stVerticalBlock"] { gap: 0.3rem; }
.st-key-cards [data-testid="stCaptionContainer"] { font-size: 0.78rem; line-height: 1.35; }
</style>
"""

PRESENT_CSS = """
<style>
html { font-size: 19px; }
/* The header bar keeps only its two buttons (open the sidebar, the menu); the page's first
   row sits between them instead of under a white bar, which saves ~70 px of a 720 px screen. */
.block-container, [data-testid="stMainBlockContainer"] {
  padding-top: 0.9rem; padding-left: 4rem; padding-right: 4rem; max-width: 100%;
}
[data-testid="stMetricValue"] { font-size: 2.1rem; }
</style>
"""

PRESENT_VALUES = ("1", "true", "yes", "on")


def escape_markdown(text: str) -> str:
    """Text shown inside Markdown (a name, a message quoting what someone typed) with every
    Markdown and HTML character taken literally."""
    return safe(text)  # one escaping rule for the whole page (app/text.py)


def presenting() -> bool:
    """Whether presenter mode is on (the toggle's state, first read from ``?present=``)."""
    ss = st.session_state
    if "present" not in ss:
        ss["present"] = str(st.query_params.get("present", "")).lower() in PRESENT_VALUES
    return bool(ss["present"])


def apply_layout(present: bool) -> None:
    st.html(BASE_CSS + HEADER_CSS + (PRESENT_CSS if present else NORMAL_CSS))


def present_param(present: bool) -> dict[str, str]:
    """The URL parameter that reopens the page in presenter mode."""
    return {"present": "1"} if present else {}
