"""Edit the settings as YAML in the page: the product's second way in.

The text starts as the current settings and follows the sliders until you type. "Apply"
validates it like a file: every problem is listed with its line and field; nothing changes
until the whole text is valid. Then the sliders move to the applied file. When only habits,
followers, mix, platform or run settings changed, the reference (persona or file) stays, so
the page shows what your edit changed; an edit the sliders cannot show (the story, the kinds
of follower, a timeline) makes the edited text the new reference. "Reset" puts the current
settings back into the box.
"""

from __future__ import annotations

import re
from typing import Any

import streamlit as st
import yaml

from app.layout import escape_markdown
from app.state import current_scenario, load_base, widget_values
from coach import Scenario, ScenarioError, dump_scenario, parse_scenario

SOURCE = "edited YAML"
_FIELD = re.compile(r"^edited YAML(?: \(line (\d+), column \d+\))?: ([A-Za-z_][\w.\[\]]*):")
_STEP = re.compile(r"([A-Za-z_]\w*)|\[(\d+)\]")


def field_line(text: str, path: str) -> int | None:
    """The 1-based line where ``path`` (``audience.segments[1].share``) is written, or the
    line of the closest parent that is (an unknown key's own line, when it exists)."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for name, index in _STEP.findall(path):
        if node is None:
            break
        if name and isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if getattr(k, "value", None) == name), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif index and isinstance(node, yaml.SequenceNode) and int(index) < len(node.value):
            node = node.value[int(index)]
            line = node.start_mark.line + 1
        else:
            break
    return line


def pinned(text: str, problems: list[str]) -> list[str]:
    """Problems as "line N, field: what is wrong" (field names are right here: it is YAML)."""
    out = []
    for problem in problems:
        match = _FIELD.match(problem)
        if match:
            line = int(match.group(1)) if match.group(1) else field_line(text, match.group(2))
            rest = problem[match.end() :].strip()
            out.append(f"Line {line}, {match.group(2)}: {rest}" if line else f"{match.group(2)}: {rest}")
        else:
            out.append(problem.removeprefix(f"{SOURCE}: ").removeprefix(SOURCE))
    return out


def _only_widgets_differ(parsed: Scenario) -> bool:
    """Whether the sliders alone can express ``parsed`` on top of the current reference."""
    ss = st.session_state
    saved = {k: ss.get(k) for k in widget_values(parsed)}
    for key, value in widget_values(parsed).items():
        ss[key] = value
    try:
        candidate, _ = current_scenario(ss["base"])
    finally:
        for key, value in saved.items():
            ss[key] = value
    return candidate is not None and candidate == parsed


def on_apply_yaml() -> None:
    ss = st.session_state
    text = ss.get("yaml_text", "")
    try:
        parsed = parse_scenario(text, source=SOURCE)
    except ScenarioError as exc:
        ss["yaml_problems"] = pinned(text, exc.problems)
        return
    ss["yaml_problems"] = []
    ss["yaml_dirty"] = False
    if _only_widgets_differ(parsed):
        for key, value in widget_values(parsed).items():
            ss[key] = value
        ss["notices"] = [*ss.get("notices", []), "Applied the edited YAML: the sliders moved to it."]
    else:
        load_base(parsed, f"edit:{parsed.name}", parsed.name)
        ss["notices"] = [
            *ss.get("notices", []),
            f"Applied the edited YAML: “{parsed.name}” is now the reference and the sliders show it.",
        ]
    ss.pop("yaml_synced", None)  # show the applied settings, as the page now has them


def on_reset_yaml() -> None:
    ss = st.session_state
    ss["yaml_dirty"] = False
    ss["yaml_problems"] = []
    ss.pop("yaml_synced", None)


ECHOES = 20  # texts this page wrote into the box lately, recognised when a browser sends one back


def _typed() -> None:
    """The box changed. A text this page itself wrote there lately is not typing: when the
    sliders rerun the page faster than the browser takes each new text in (an arrow key held
    on a slider), the browser sends a stale one back. That text goes, and the box follows
    the sliders again; anything else is the learner's edit."""
    ss = st.session_state
    if ss.get("yaml_text") in ss.get("yaml_written", ()):
        ss["yaml_text"] = ss.get("yaml_synced", ss["yaml_text"])
        return
    ss["yaml_dirty"] = True


def yaml_editor(current: Scenario | None, **expander: Any) -> None:
    """The editor, in an expander (closed unless there is something to fix)."""
    ss = st.session_state
    if current is not None:
        fresh = dump_scenario(current)
        if not ss.get("yaml_dirty") and ss.get("yaml_synced") != fresh:
            ss["yaml_text"] = fresh  # follow the sliders until the learner types
            ss["yaml_synced"] = fresh
            ss["yaml_written"] = [*ss.get("yaml_written", [])[-(ECHOES - 1) :], fresh]
    problems = ss.get("yaml_problems") or []
    with st.expander("Edit the settings as YAML", expanded=bool(problems) or bool(ss.get("yaml_dirty")), **expander):
        left, right = st.columns([3, 2])
        left.text_area(
            "Scenario YAML",
            key="yaml_text",
            height=420,
            on_change=_typed,
            help="The same format as a scenario file; field names and allowed values: README or `coach schema`.",
        )
        b1, b2 = left.columns(2)
        b1.button("Apply", key="yaml_apply", on_click=on_apply_yaml, type="primary", width="stretch")
        b2.button(
            "Reset", key="yaml_reset", on_click=on_reset_yaml, width="stretch", help="Back to the current settings."
        )
        with right:
            if problems:
                st.error(
                    "Not applied — fix these first (nothing changed):\n\n"
                    + "\n".join(f"- {escape_markdown(p)}" for p in problems)
                )
            elif ss.get("yaml_dirty"):
                st.info("Edited, not applied yet: press Apply.")
            st.caption(
                "Habits, starting followers, the mix of followers, the platform and the run settings move the "
                "sliders. Changing the story, the kinds of follower or the timeline makes your text the new "
                "reference. Each problem names its line and field."
            )
