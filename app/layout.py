"""Page layout for every screen size: compact header, no truncated labels, presenter mode.

Presenter mode (a toggle on the page, or ``?present=1`` in the link) is for a projector at
1280×720: the sidebar starts collapsed, type is larger, the header shrinks to one line so
the main chart is above the fold. The CSS below is our own constant text, never anything a
person typed, so injecting it as HTML is safe.
"""

from __future__ import annotations

import streamlit as st

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

PRESENT_CSS = """
<style>
html { font-size: 19px; }
/* The header bar keeps only its two buttons (open the sidebar, the menu); the page's first
   row sits between them instead of under a white bar, which saves ~70 px of a 720 px screen. */
.block-container, [data-testid="stMainBlockContainer"] {
  padding-top: 0.9rem; padding-left: 4rem; padding-right: 4rem; max-width: 100%;
}
[data-testid="stHeader"] { background: transparent; pointer-events: none; }
[data-testid="stHeader"] * { pointer-events: auto; }
[data-testid="stMetricValue"] { font-size: 2.1rem; }
</style>
"""

PRESENT_VALUES = ("1", "true", "yes", "on")


def escape_markdown(text: str) -> str:
    """Text shown inside Markdown (a name, a message quoting what someone typed) with every
    Markdown and HTML character taken literally."""
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!|<>~$:" else c for c in text)


def presenting() -> bool:
    """Whether presenter mode is on (the toggle's state, first read from ``?present=``)."""
    ss = st.session_state
    if "present" not in ss:
        ss["present"] = str(st.query_params.get("present", "")).lower() in PRESENT_VALUES
    return bool(ss["present"])


def apply_layout(present: bool) -> None:
    st.html(BASE_CSS + (PRESENT_CSS if present else ""))


def present_param(present: bool) -> dict[str, str]:
    """The URL parameter that reopens the page in presenter mode."""
    return {"present": "1"} if present else {}
