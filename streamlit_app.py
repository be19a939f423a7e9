"""Cadence Coach: the web app.

Launch with ``streamlit run streamlit_app.py``.

The page stays thin: widgets → one validated Scenario → cached calls into ``coach`` →
Altair charts from ``coach.plots``. Every number shown comes from the package; the page
only arranges widgets, keeps the session's state and formats results. This file wires the
page together; the sidebar, each tab, the session's state and the URL live in ``app/``
(see ``app/__init__.py``; the state kept in ``st.session_state`` is described in
``app/state.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app.about import about_tab
from app.coaching import coach_tab
from app.compare import compare_tab
from app.explore import explore_params, explore_tab
from app.facilitator import workshop_opener
from app.history import history_tab
from app.layout import apply_layout, escape_markdown, present_param, presenting
from app.predictions import finish_page, predictions_tab
from app.sidebar import sidebar
from app.state import (
    PLATFORM_WORDS,
    TABS,
    current_scenario,
    engine_ready,
    persona_library,
    plain_problem,
    reference_words,
)
from app.text import safe
from app.urls import init_session, session_params, url_params, write_url
from app.yaml_editor import yaml_editor
from coach import Scenario


def kinds_of_follower(n: int) -> str:
    return "1 kind of follower" if n == 1 else f"{n:,} kinds of follower"


def story_card(base: Scenario, label_kind: str, present: bool = False) -> None:
    """The loaded scenario's name, facts and story (its text shown as text, never as Markdown)."""
    platform = base.platform.name
    facts = (
        f"{label_kind} · {PLATFORM_WORDS.get(platform, platform)} · {base.audience.followers:,} followers · "
        f"{kinds_of_follower(len(base.audience.segments))} · {base.days} days"
        + (f" · habits change on day {', '.join(str(s.day) for s in base.timeline)}" if base.timeline else "")
    )
    if present:  # one line, the story folded away: the chart must fit above the fold
        with st.expander(f"{escape_markdown(base.name)} — {escape_markdown(facts)}"):
            st.text(base.description or "(no story)")
        return
    with st.container(border=True, key="story_card"):  # compact (app/layout.py): the chart must start on screen
        with st.container(horizontal=True, gap="small", vertical_alignment="center"):  # name and facts: one line
            st.markdown(f"**{escape_markdown(base.name)}**", width="content")
            st.caption(escape_markdown(facts), width="content")  # a custom platform's name comes from the file
        if base.description:
            st.text(base.description)


def show_notices() -> None:
    ss = st.session_state
    for problem in ss.get("url_problems", []):
        st.warning(safe(problem))
    ss["url_problems"] = []
    if ss.get("upload_problems"):
        st.error(
            "That file can't be used as a scenario, so nothing was changed — your current settings stay:\n\n"
            + "\n".join(f"- {safe(p)}" for p in ss["upload_problems"])
        )
    for notice in ss.get("notices", []):
        st.toast(safe(notice))
    ss["notices"] = []


def main() -> None:
    if "room" in st.query_params:  # a workshop room (app/room.py): participant or facilitator page
        from app.room import room_page

        room_page()
        return
    present = presenting()
    st.set_page_config(
        page_title="Cadence Coach",
        page_icon="📈",
        layout="wide",
        initial_sidebar_state="collapsed" if present else "expanded",
    )
    apply_layout(present)
    personas, library_problems = persona_library()
    init_session(personas)
    ss = st.session_state
    base: Scenario = ss["base"]
    current, problems = current_scenario(base)  # once per rerun: the callbacks have already moved the widgets

    kind, _ = reference_words()
    with st.container(key="page_head"):  # one row: title, tagline, toggle (app/layout.py styles it)
        if present:
            head, toggle = st.columns([4, 1], vertical_alignment="top")
            with head:
                story_card(base, kind.capitalize(), present)
        else:
            head, tagline, toggle = st.columns([2.1, 5.1, 1.8], vertical_alignment="center")
            head.markdown("## Cadence Coach")
            tagline.caption("How your posting habits win and lose followers — a simulation with honest uncertainty.")
        toggle.toggle(
            "Presenter mode", key="present", help="Large type, sidebar folded away, the main chart on screen."
        )
    show_notices()
    if not present:
        story_card(base, kind.capitalize(), present)
        yaml_editor(current if current is not None else ss.get("last_valid"))

    shown = current
    if current is None:
        # One bad combination of controls must not blank the page: say what is wrong, in the
        # page's words, and keep showing the last valid settings.
        shown = ss.get("last_valid")
        st.error(
            "These settings are not valid, so they were not simulated"
            + (" (the page shows your last valid settings)" if shown is not None else "")
            + ". Change the controls in the sidebar:\n\n"
            + "\n".join(f"- {plain_problem(p)}" for p in problems)
        )
    else:
        ss["last_valid"] = current
        write_url(
            url_params(ss["base_key"], base, current) | present_param(present) | session_params() | explore_params()
        )

    engine_ready()  # the first start after installing: compile here, under the page's head, saying why
    tabs = st.tabs(TABS, key="tab", on_change="rerun", bind="query-params")
    views: list[Callable[[], None]] = [
        lambda: predictions_tab(shown, problems),
        lambda: compare_tab(personas, shown),
        lambda: explore_tab(shown),
        lambda: coach_tab(shown),
        history_tab,
        about_tab,
    ]
    try:
        for tab, view in zip(tabs, views, strict=True):
            if tab.open:
                with tab:
                    view()
    finally:
        # The sidebar after the page: its widgets' values are already in the session's state
        # (the scenario above is made from them), so drawing it last sends a nudge's new cards
        # before the sidebar's sixty-odd unchanged elements (docs/app.md); even if a view
        # fails, the controls are drawn.
        sidebar(personas, library_problems, current)
        with st.sidebar:
            workshop_opener()  # app/facilitator.py: open a workshop room, get its links
    finish_page()  # last: a run that brought new numbers draws its new charts in a follow-up run


# Streamlit runs this file as ``__main__``. The simulation's worker processes import it as
# ``__mp_main__`` (multiprocessing re-imports the main module): they must not draw the page.
if __name__ == "__main__":
    main()
