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
from app.facilitator import workshop_opener
from app.history import history_tab
from app.predictions import predictions_tab
from app.sidebar import sidebar
from app.state import PLATFORM_WORDS, TABS, current_scenario, persona_library, reference_words
from app.urls import init_session, url_params, write_url
from coach import Scenario


def story_card(base: Scenario, label_kind: str) -> None:
    with st.container(border=True):
        st.markdown(f"#### {base.name}")
        platform = base.platform.name
        st.caption(
            f"{label_kind} · {PLATFORM_WORDS.get(platform, platform)} · {base.audience.followers:,} followers · "
            f"{len(base.audience.segments)} kind(s) of follower · {base.days} days"
            + (f" · habits change on day {', '.join(str(s.day) for s in base.timeline)}" if base.timeline else "")
        )
        if base.description:
            st.markdown(base.description)


def show_notices() -> None:
    ss = st.session_state
    for problem in ss.get("url_problems", []):
        st.warning(problem)
    ss["url_problems"] = []
    if ss.get("upload_problems"):
        st.error(
            "That file can't be used as a scenario, so nothing was changed — your current settings stay:\n\n"
            + "\n".join(f"- {p}" for p in ss["upload_problems"])
        )
    for notice in ss.get("notices", []):
        st.toast(notice)
    ss["notices"] = []


def main() -> None:
    if "room" in st.query_params:  # a workshop room (app/room.py): participant or facilitator page
        from app.room import room_page

        room_page()
        return
    st.set_page_config(page_title="Cadence Coach", page_icon="📈", layout="wide", initial_sidebar_state="expanded")
    personas, library_problems = persona_library()
    init_session(personas)
    ss = st.session_state
    base: Scenario = ss["base"]
    current, problems = current_scenario(base)  # once per rerun: the callbacks have already moved the widgets
    sidebar(personas, library_problems, current)
    with st.sidebar:
        workshop_opener()  # app/facilitator.py: open a workshop room, get its links

    st.title("Cadence Coach")
    st.caption("How your posting habits win and lose followers — a simulation with honest uncertainty.")
    show_notices()
    kind, _ = reference_words()
    story_card(base, kind.capitalize())

    if current is not None:
        write_url(url_params(ss["base_key"], base, current))

    tabs = st.tabs(TABS, key="tab", on_change="rerun", bind="query-params")
    views: list[Callable[[], None]] = [
        lambda: predictions_tab(current, problems),
        lambda: compare_tab(personas, current),
        lambda: coach_tab(current),
        history_tab,
        about_tab,
    ]
    for tab, view in zip(tabs, views, strict=True):
        if tab.open:
            with tab:
                view()


# Streamlit runs this file as ``__main__``. The simulation's worker processes import it as
# ``__mp_main__`` (multiprocessing re-imports the main module): they must not draw the page.
if __name__ == "__main__":
    main()
