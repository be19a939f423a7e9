"""The sidebar: persona, habit sliders, audience and platform, horizon and runs, files."""

from __future__ import annotations

import streamlit as st

from app.state import (
    APP_RUNS,
    INT_HABITS,
    MAIN_HABITS,
    MORE_HABITS,
    PLATFORM_WORDS,
    RUN_FIELDS,
    bounds,
    export_scenario,
    help_text,
    on_persona,
    on_reset,
    on_save_variant,
    on_upload,
    slug,
)
from app.text import safe
from app.timeline import timeline_editor
from coach import PRESETS, Audience, Habits, Scenario, __version__, dump_scenario

BOX_KEY = "posts_per_day_box"  # the exact-value box beside the slider; its key ends with the value drawn
BOX_DRAWN = "_posts_per_day_box_drawn"  # the key of the box last drawn
# Most people post 0 to 20 times a day: half-steps there take two thirds of the track; the
# rest of the allowed range (to 100) stays reachable in coarser steps and in the number box.
POSTS_GRID = [i / 2 for i in range(0, 41)] + [22.0, 25.0, 30.0, 35.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]


def _box_changed(key: str) -> None:
    ss = st.session_state
    if key == ss.get(BOX_DRAWN):  # the box on screen, typed into (not one of an earlier value)
        ss["posts_per_day"] = float(ss[key])


def posts_per_day_control(label: str) -> None:
    """Posts per day: a slider whose common range (0–20) has room, plus a box for any value.

    The box is a new widget for each value it is drawn with (its key holds the value). After
    quick slider moves the browser can still hold the box of a value or two ago (the run that
    would have replaced it was cut short by the next key press) and sends it back unchanged:
    under one key Streamlit would take that for an edit and move the slider back to it (seen
    in Chromium: two presses 0.05 s apart left the slider and the figures on the old value in
    about 1 of 10 tries). A box of an old value is another widget, and only the box last drawn
    moves the slider: Streamlit still calls an old box's callback when the browser sends it.
    """
    ss = st.session_state
    value = float(ss["posts_per_day"])
    options = sorted({*POSTS_GRID, value})  # a value from a file or import keeps its place
    left, right = st.columns([5, 2], vertical_alignment="bottom")
    left.select_slider(
        label,
        options,
        key="posts_per_day",
        format_func=lambda v: f"{v:g}",
        help=help_text(Habits, "posts_per_day") + " The scale gives 0–20 most of the room; type any value in the box.",
    )
    box = f"{BOX_KEY}:{value:g}"
    # No min or max here: the browser would refuse 1000 with only a red mark and keep the old
    # value, saying nothing on the page. The value goes through, and the page's check of the
    # settings names the allowed range (0 to 100) above the tabs, keeping the last valid run.
    right.number_input(
        "Posts per day, exact",
        value=value,
        step=0.5,
        key=box,
        on_change=_box_changed,
        args=(box,),
        label_visibility="collapsed",
        format="%g",
    )
    ss[BOX_DRAWN] = box


def slider_for(model: type, key: str, label: str, step: float) -> None:
    if key == "posts_per_day":
        posts_per_day_control(label)
        return
    lo, hi, _ = bounds(model, key)
    if key in INT_HABITS:
        st.slider(label, int(lo), int(hi), step=int(step), key=key, help=help_text(model, key))
    else:
        st.slider(label, float(lo), float(hi), step=float(step), key=key, help=help_text(model, key))


def sidebar(personas: dict[str, Scenario], library_problems: list[str], current: Scenario | None) -> None:
    """The controls; ``current`` is the scenario they describe (None while they are not valid)."""
    ss = st.session_state
    base: Scenario = ss["base"]
    with st.sidebar:
        st.header("Persona")
        if personas:
            st.selectbox(
                "Start from a persona",
                list(personas),
                format_func=lambda k: personas[k].name,
                key="persona",
                on_change=on_persona,
                placeholder=f"Your own: {ss['base_label']}",
                help="A bundled scenario with a story. Moving the sliders below changes your copy; the persona stays as the reference.",
            )
        else:
            st.info("No bundled personas were found; using the default account.")
        for problem in library_problems:
            st.warning(safe(problem))
        reset_label = (
            "Reset to persona" if ss["base_key"].startswith("persona:") else f"Reset to “{safe(ss['base_label'])}”"
        )
        st.button(
            reset_label,
            key="reset",
            on_click=on_reset,
            width="stretch",
            help=f"Move every control back to “{safe(ss['base_label'])}”.",
        )

        st.header("Your habits")
        if ss.get("timeline_rows"):
            days = ", ".join(sorted({str(r["day"]) for r in ss["timeline_rows"]}, key=int))
            st.caption(
                f"These settings change habits on day {days} (see “Habits that change over time”); "
                "the sliders set the habits before that."
            )
        for key, label, step in MAIN_HABITS:
            slider_for(Habits, key, label, step)
        timeline_editor()
        with st.expander("More habits"):
            for key, label, step in MORE_HABITS:
                slider_for(Habits, key, label, step)
            st.slider(
                "Active from (hour)",
                0,
                23,
                step=1,
                key="active_from",
                help="Local hour your day starts; you post and answer only in active hours (they may wrap midnight).",
            )
            st.slider(
                "Active until (hour)",
                1,
                24,
                step=1,
                key="active_until",
                help="Local hour your day ends (exclusive): 22 means you stop at 10 p.m.",
            )

        st.header("Audience and platform")
        st.number_input(  # no min or max, as the posts box: an out-of-range count is named on the page
            "Starting followers", step=100, key="followers", help=help_text(Audience, "followers")
        )
        # Streamlit's number box cannot group digits (its format is printf-style, with no ","):
        # the count is repeated in words so 200000 reads as 200,000 at a glance.
        st.caption(f"{int(ss['followers']):,} followers at the start")
        segments = base.audience.segments
        if len(segments) > 1:
            st.caption("Who follows you now (relative weights; they are scaled to add up to 100%).")
            for i, seg in enumerate(segments):
                st.slider(
                    f"Share: {safe(seg.name.replace('_', ' '))}",
                    0.0,
                    1.0,
                    step=0.05,
                    key=f"mix_{i}",
                    help=f"{safe(seg.name)}: link appetite {seg.link_appetite:+g}, chat appetite {seg.chat_appetite:g}, tolerates about {seg.tolerance_posts_per_day:g} posts/day.",
                )
        else:
            st.caption(f"One kind of follower: {safe(segments[0].name.replace('_', ' '))}.")
        options = list(PRESETS) + (["custom"] if ss["platform"] == "custom" else [])
        st.selectbox(
            "Platform",
            options,
            key="platform",
            # The box shows the short name (the long words did not fit the sidebar and were cut);
            # what the feed does is said in full just below.
            format_func=lambda p: PLATFORM_WORDS.get(p, "").split(" (")[0] or f"{base.platform.name} (from the file)",
            help="How the feed treats your posts: link reach, ranking and reach to non-followers.",
        )
        if ss["platform"] in PLATFORM_WORDS:
            feed = PLATFORM_WORDS[ss["platform"]].split(" (", 1)[1].rstrip(")")
            st.caption(f"{feed[:1].upper()}{feed[1:]}.")

        st.header("Horizon and runs")
        lo, hi, _ = bounds(Scenario, "days")
        st.slider(RUN_FIELDS["days"], int(lo), int(hi), step=1, key="days", help=help_text(Scenario, "days"))
        lo, hi, _ = bounds(Scenario, "replicates")
        st.slider(
            RUN_FIELDS["replicates"],
            int(lo),
            int(hi),  # the scenario's own bound: a link, an upload or the YAML editor may set any allowed count
            step=1,
            key="replicates",
            help=help_text(Scenario, "replicates")
            + f" Personas open with {APP_RUNS} so the page answers quickly; more runs give smoother bands but take longer.",
        )
        lo, hi, _ = bounds(Scenario, "seed")
        st.number_input(
            RUN_FIELDS["seed"],
            int(lo),
            int(hi),
            step=1,
            key="seed",
            help=help_text(Scenario, "seed")
            + " The persona reference uses the same seed, so differences come from your changes, not luck.",
        )

        st.header("Scenario files")
        st.file_uploader(
            "Upload a scenario (YAML)",
            type=["yaml", "yml"],
            key="upload",
            max_upload_size=1,  # MB, as the widget says it; coach.scenario.MAX_FILE_BYTES (1,000,000) is checked after
            on_change=on_upload,
            help="A scenario file as written by “Download settings” or `coach`; see README for the format.",
        )
        if current is not None:
            yaml_text = dump_scenario(export_scenario(base, current))
            st.download_button(
                "Download settings (YAML)",
                data=yaml_text,
                file_name=f"{slug(export_scenario(base, current).name)}.yaml",
                mime="application/x-yaml",
                key="download_yaml",
                on_click="ignore",
                width="stretch",
            )
            with st.expander("Settings as YAML"):
                st.code(yaml_text, language="yaml")
        st.text_input("Name for a saved variant", key="variant_name", placeholder="e.g. fewer links")
        st.button("Save as variant for Compare", key="save_variant", on_click=on_save_variant, width="stretch")
        st.caption(f"Cadence Coach {__version__}")
