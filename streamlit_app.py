"""Cadence Coach: the web app.

Launch with ``streamlit run streamlit_app.py``.

The page stays thin: widgets → one validated Scenario → cached calls into ``coach`` →
Altair charts from ``coach.plots``. Every number shown comes from the package; this file
only arranges widgets, keeps the session's state and formats results.

State lives in ``st.session_state``:

- ``base`` / ``base_key`` / ``base_label``: the loaded scenario (a persona, an uploaded
  file, a saved variant or your imported history) that deltas are measured against.
- one key per widget (``posts_per_day``, ``reply_rate`` ...), loaded from ``base`` by
  callbacks (persona change, reset, upload, "Apply" on a suggestion, import).
- ``variants``: saved settings for the Compare tab; ``notices``: messages to show once.
"""

from __future__ import annotations

import base64
import binascii
import math
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from coach import (
    CHANNEL_WORDS,
    CHANNELS,
    PRESETS,
    REASON_WORDS,
    REASONS,
    Audience,
    Ensemble,
    Habits,
    Mechanisms,
    ModelParams,
    Platform,
    Scenario,
    ScenarioError,
    Segment,
    __version__,
    bundled_scenarios,
    dump_scenario,
    estimated_seconds,
    parse_scenario,
    plots,
    run_many,
    scenario_from_data,
    worker_count,
)

DEFAULT_PERSONA = "steady_professional"
COMPARE_PERSONAS = ("billboard", "conversationalist")  # the Compare tab opens with these beside your settings
MAX_SECONDS = 20.0  # runs estimated longer than this (on all cores) are refused, like Covasim's web app
PROGRESS_SECONDS = 0.25  # runs estimated longer than this (engine estimate, seconds) show a progress bar
APP_RUNS = 10  # personas open with at most this many runs so a slider answers within a second
ROOT = Path(__file__).resolve().parent

# Habit sliders: key (= Habits field), label, step. Bounds and help come from the field.
MAIN_HABITS = [
    ("posts_per_day", "Posts per day", 0.5),
    ("reply_rate", "Reply rate", 0.05),
    ("link_share", "Link share", 0.05),
]
MORE_HABITS = [
    ("posts_per_session", "Posts per sitting", 1),
    ("promo_share", "Promotion share", 0.05),
    ("question_share", "Question share", 0.05),
    ("outreach_per_day", "Outreach replies per day", 1.0),
    ("follow_back_rate", "Follow-back rate", 0.05),
    ("reply_delay_hours", "Reply delay (hours)", 0.5),
    ("minutes_per_post", "Minutes per post", 0.5),
    ("minutes_per_reply", "Minutes per reply", 0.5),
]
HABIT_LABELS = {key: label for key, label, _ in MAIN_HABITS + MORE_HABITS} | {"active_hours": "Active hours"}
INT_HABITS = {"posts_per_session"}
RUN_FIELDS = {"days": "Horizon (days)", "replicates": "Runs (replicates)", "seed": "Random seed"}
PLATFORM_WORDS = {
    "x": "X (ranked feed; links reach far less)",
    "mastodon": "Mastodon (chronological; boosts only)",
    "bluesky": "Bluesky (chronological Following feed)",
}
URL_KEYS = (
    ["persona", "scenario", "active_hours", "followers", "mix", "platform"]
    + [k for k, _, _ in MAIN_HABITS + MORE_HABITS]
    + list(RUN_FIELDS)
)
TABS = ["Predictions", "Compare", "Coach", "Your history", "About the model"]


# ======================================================================================
# Field bounds → widget ranges (so UI and validation cannot disagree)
# ======================================================================================


def bounds(model: type, name: str) -> tuple[float | None, float | None, str]:
    """Lower and upper bound and description of a pydantic field."""
    info = model.model_fields[name]
    lo = hi = None
    for m in info.metadata:
        lo = getattr(m, "ge", getattr(m, "gt", lo))
        hi = getattr(m, "le", getattr(m, "lt", hi))
    return lo, hi, info.description or ""


def help_text(model: type, name: str) -> str:
    lo, hi, desc = bounds(model, name)
    allowed = f" Allowed: {lo:g} to {hi:,g}." if lo is not None and hi is not None else ""
    return f"{desc[:1].upper()}{desc[1:]}.{allowed}"


# ======================================================================================
# Library, cache and runs
# ======================================================================================


@st.cache_data(show_spinner=False)
def _load_library(stamp: tuple[tuple[str, float], ...]) -> tuple[dict[str, Scenario], list[str]]:
    personas, problems = {}, []
    for path_text, _ in stamp:
        path = Path(path_text)
        try:
            personas[path.stem] = parse_scenario(path.read_bytes(), source=f"scenarios/{path.name}")
        except ScenarioError as exc:
            problems.extend(exc.problems)
        except OSError as exc:
            problems.append(f"scenarios/{path.name}: cannot be read ({exc.strerror})")
    return personas, problems


def persona_library() -> tuple[dict[str, Scenario], list[str]]:
    """The bundled personas by file stem (re-read when a file changes) and any problems."""
    stamp = tuple((str(p), p.stat().st_mtime) for p in bundled_scenarios())
    return _load_library(stamp)


def as_opened(persona: Scenario) -> Scenario:
    """A bundled persona as the page opens it: at most APP_RUNS runs (raise them in the sidebar)."""
    return persona.model_copy(update={"replicates": min(persona.replicates, APP_RUNS)})


def default_persona(personas: dict[str, Scenario]) -> str | None:
    if DEFAULT_PERSONA in personas:
        return DEFAULT_PERSONA
    return next(iter(personas), None)


@st.cache_data(show_spinner=False, max_entries=64)
def run_ensemble(scenario_json: str, replicates: int, seed: int) -> Ensemble:
    """Replicates of one scenario, cached on its JSON, the replicates and the seed.

    A progress bar appears (and is removed) for runs expected to take a while; Streamlit
    replays it as an empty slot on cache hits.
    """
    scenario = Scenario.model_validate_json(scenario_json)
    workers = worker_count()
    expected = estimated_seconds(scenario, replicates) / max(1, min(workers, replicates))
    bar = st.progress(0.0, text=f"Simulating {replicates} runs…") if expected > PROGRESS_SECONDS else None

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.progress(done / total, text=f"Simulating run {done} of {total}…")

    ensemble = run_many(scenario, replicates, seed, parallel=workers > 1 and replicates > 1, progress=progress)
    if bar is not None:
        bar.empty()
    return ensemble


def refusal(scenario: Scenario, runs_needed: int = 1) -> str | None:
    """A clear message when a run would take too long for a web page, else None."""
    reps = scenario.replicates
    seconds = runs_needed * estimated_seconds(scenario, reps) / max(1, min(worker_count(), reps))
    if seconds <= MAX_SECONDS:
        return None
    a = scenario.audience
    shown = f"about {seconds / 60:.0f} minutes" if seconds >= 90 else f"about {seconds:.0f} seconds"
    return (
        f"These settings would take {shown} to simulate ({a.followers:,} followers × "
        f"{scenario.habits.posts_per_day:g} posts a day × {scenario.days} days × {reps} runs). "
        f"This page stops at about {MAX_SECONDS:.0f} seconds so it stays responsive. "
        "Reduce the starting followers, the horizon or the number of runs, "
        "or download the settings as YAML and run them from the command line: "
        "`coach run my-settings.yaml`."
    )


def simulate(scenario: Scenario) -> Ensemble | None:
    """Run (or fetch from the cache); show a readable message instead of any traceback."""
    try:
        return run_ensemble(scenario.model_dump_json(), scenario.replicates, scenario.seed)
    except Exception as exc:  # the page must never show a traceback
        st.error(
            f"The simulation could not run these settings ({type(exc).__name__}: {exc}). "
            "This is a fault in the model, not in your settings: please report it together with "
            "the YAML from “Download settings”."
        )
        return None


def with_run_settings(scenario: Scenario, days: int, replicates: int, seed: int) -> Scenario:
    """The scenario on a given horizon, runs and seed (timeline steps past the horizon dropped)."""
    data = scenario.model_dump(mode="json")
    data.update(days=days, replicates=replicates, seed=seed)
    data["timeline"] = [step for step in data.get("timeline", []) if step["day"] <= days]
    return Scenario.model_validate(data)


# ======================================================================================
# Session state: widgets ⇄ scenario
# ======================================================================================


def widget_values(s: Scenario) -> dict[str, Any]:
    """Widget key → value for a scenario (what the sidebar shows)."""
    h = s.habits
    values: dict[str, Any] = {}
    for key, _, _ in MAIN_HABITS + MORE_HABITS:
        values[key] = int(getattr(h, key)) if key in INT_HABITS else float(getattr(h, key))
    values["active_from"], values["active_until"] = int(h.active_hours[0]), int(h.active_hours[1])
    values["followers"] = int(s.audience.followers)
    values["platform"] = s.platform.name if PRESETS.get(s.platform.name) == s.platform else "custom"
    for i, seg in enumerate(s.audience.segments):
        values[f"mix_{i}"] = float(seg.share)
    values["days"], values["replicates"], values["seed"] = int(s.days), int(s.replicates), int(s.seed)
    return values


def load_base(scenario: Scenario, key: str, label: str) -> None:
    """Make ``scenario`` the reference and move every widget to it (call from callbacks)."""
    st.session_state["base"] = scenario
    st.session_state["base_key"] = key
    st.session_state["base_label"] = label
    st.session_state["persona"] = key.split(":", 1)[1] if key.startswith("persona:") else None
    for name, value in widget_values(scenario).items():
        st.session_state[name] = value


def settings_data(base: Scenario) -> dict[str, Any]:
    """Raw scenario data from the base and the current widget values (not yet validated)."""
    ss = st.session_state
    data = base.model_dump(mode="json")
    habits = data["habits"]
    for key, _, _ in MAIN_HABITS + MORE_HABITS:
        habits[key] = ss[key]
    habits["active_hours"] = [ss["active_from"], ss["active_until"]]
    audience = data["audience"]
    audience["followers"] = ss["followers"]
    weights = [max(0.0, float(ss.get(f"mix_{i}", seg["share"]))) for i, seg in enumerate(audience["segments"])]
    total = sum(weights)
    if total > 0 and abs(total - 1) > 1e-9:  # sliders are relative weights; the scenario wants shares
        weights = [round(w / total, 4) for w in weights]
    for seg, w in zip(audience["segments"], weights, strict=True):
        seg["share"] = w
    if ss["platform"] != "custom":
        data["platform"] = ss["platform"]
    data["days"], data["replicates"], data["seed"] = ss["days"], ss["replicates"], ss["seed"]
    data["timeline"] = [step for step in data.get("timeline", []) if step["day"] <= ss["days"]]
    return data


def current_scenario(base: Scenario) -> tuple[Scenario | None, list[str]]:
    """The validated scenario the widgets describe, or the problems with it."""
    try:
        return scenario_from_data(settings_data(base), source="your settings"), []
    except ScenarioError as exc:
        return None, exc.problems


# ---- callbacks ----------------------------------------------------------------------


def on_persona() -> None:
    personas, _ = persona_library()
    ss = st.session_state
    key = ss["persona"]
    if key in personas:  # None: the placeholder shown while your own scenario is loaded
        load_base(as_opened(personas[key]), f"persona:{key}", personas[key].name)
        st.session_state["upload_problems"] = []


def on_reset() -> None:
    ss = st.session_state
    load_base(ss["base"], ss["base_key"], ss["base_label"])
    ss["upload_problems"] = []


def on_upload() -> None:
    ss = st.session_state
    uploaded = ss.get("upload")
    if uploaded is None:
        return
    try:
        scenario = parse_scenario(uploaded.getvalue(), source=uploaded.name)
    except ScenarioError as exc:
        ss["upload_problems"] = [
            f"{uploaded.name}: {p}" if not p.startswith(uploaded.name) else p for p in exc.problems
        ]
        return
    except Exception as exc:  # never a traceback
        ss["upload_problems"] = [f"{uploaded.name}: cannot be read as a scenario ({exc})"]
        return
    ss["upload_problems"] = []
    load_base(scenario, f"file:{uploaded.name}", scenario.name)
    ss["notices"] = [*ss.get("notices", []), f"Loaded {uploaded.name}: “{scenario.name}”."]


def on_save_variant() -> None:
    ss = st.session_state
    scenario, _ = current_scenario(ss["base"])
    if scenario is None:
        ss["notices"] = [*ss.get("notices", []), "Fix the settings first: they are not valid, so they were not saved."]
        return
    name = (ss.get("variant_name") or "").strip() or f"Variant {len(ss['variants']) + 1}"
    ss["variants"][name] = scenario.model_copy(update={"name": name[:80]})
    picks = ss.get("_compare_pick", [])
    if f"variant:{name}" not in picks and len(picks) < 4:
        ss["_compare_pick"] = [*picks, f"variant:{name}"]
    ss["variant_name"] = ""
    ss["notices"] = [*ss.get("notices", []), f"Saved “{name}”; pick it in the Compare tab."]


def on_apply(changes: dict[str, Any]) -> None:
    """Move the sliders to a suggestion (the reference stays, so deltas show the gain)."""
    ss = st.session_state
    for habit, value in changes.items():
        if habit == "active_hours":
            ss["active_from"], ss["active_until"] = int(value[0]), int(value[1])
        elif habit in ss:
            ss[habit] = int(value) if habit in INT_HABITS else float(value)
    words = ", ".join(
        f"{HABIT_LABELS.get(h, h).lower()} → {v:g}" if isinstance(v, int | float) else f"{h} → {v}"
        for h, v in changes.items()
    )
    ss["notices"] = [*ss.get("notices", []), f"Applied: {words}."]


# ======================================================================================
# The URL: a link reproduces the view
# ======================================================================================


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def encode_scenario(s: Scenario) -> str:
    return base64.urlsafe_b64encode(zlib.compress(dump_scenario(s).encode(), 9)).decode().rstrip("=")


def decode_scenario(text: str) -> Scenario:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    inflater = zlib.decompressobj()
    data = inflater.decompress(raw, 2_000_000)  # at most 2 MB, whatever the link claims
    if inflater.unconsumed_tail:
        raise ValueError("the scenario in the link is too large")
    return parse_scenario(data, source="the link's scenario")


def url_params(base_key: str, base: Scenario, current: Scenario) -> dict[str, str]:
    """Query parameters for the current settings: the base, then only what differs from it."""
    params: dict[str, str] = {}
    if base_key.startswith("persona:"):
        params["persona"] = base_key.split(":", 1)[1]
    else:
        params["scenario"] = encode_scenario(base)
    mine, theirs = widget_values(current), widget_values(base)
    for key in [k for k, _, _ in MAIN_HABITS + MORE_HABITS] + ["followers", "platform", *RUN_FIELDS]:
        if mine[key] != theirs[key]:
            params[key] = _fmt(mine[key])
    if (mine["active_from"], mine["active_until"]) != (theirs["active_from"], theirs["active_until"]):
        params["active_hours"] = f"{mine['active_from']}-{mine['active_until']}"
    shares = [_fmt(seg.share) for seg in current.audience.segments]
    if shares != [_fmt(seg.share) for seg in base.audience.segments]:
        params["mix"] = ",".join(shares)
    return params


def write_url(params: dict[str, str]) -> None:
    qp = st.query_params
    for key in URL_KEYS:
        if key in params:
            if qp.get(key) != params[key]:
                qp[key] = params[key]
        elif key in qp:
            del qp[key]


def _number_param(name: str, text: str, model: type, field: str, whole: bool) -> tuple[Any, str | None]:
    lo, hi, desc = bounds(model, field)
    kind = "a whole number" if whole else "a number"
    allowed = f"allowed: {kind} from {lo:g} to {hi:,g} ({desc})"
    try:
        value = float(text)
    except ValueError:
        return None, f"URL parameter {name}={text!r} is not a number; {allowed}."
    if (
        not math.isfinite(value)
        or (whole and not value.is_integer())
        or (lo is not None and value < lo)
        or (hi is not None and value > hi)
    ):
        return None, f"URL parameter {name}={text!r} is not allowed; {allowed}."
    return (int(value) if whole else value), None


def read_url(personas: dict[str, Scenario]) -> list[str]:
    """Load the base and widget values from the query parameters; return problems found."""
    qp = st.query_params
    problems: list[str] = []
    default = default_persona(personas)
    base, key, label = (
        (as_opened(personas[default]), f"persona:{default}", personas[default].name)
        if default
        else (Scenario(name="Default account"), "default", "Default account")
    )
    if "scenario" in qp:
        try:
            base = decode_scenario(qp["scenario"])
            key, label = "link", base.name
        except ScenarioError as exc:
            problems.append(
                "URL parameter scenario: " + "; ".join(exc.problems) + " Showing the default persona instead."
            )
        except (binascii.Error, zlib.error, ValueError):
            problems.append(
                "URL parameter scenario could not be decoded (the link may be cut short). Showing the default persona instead."
            )
    elif "persona" in qp:
        name = qp["persona"]
        if name in personas:
            base, key, label = as_opened(personas[name]), f"persona:{name}", personas[name].name
        else:
            problems.append(
                f"URL parameter persona={name!r} is not a bundled persona; allowed: {', '.join(personas) or 'none'}. Showing {label} instead."
            )
    load_base(base, key, label)
    ss = st.session_state
    for habit, _, _ in MAIN_HABITS + MORE_HABITS:
        if habit in qp:
            value, problem = _number_param(habit, qp[habit], Habits, habit, habit in INT_HABITS)
            if problem:
                problems.append(f"{problem} Using {ss[habit]:g} instead.")
            else:
                ss[habit] = value
    for name, model, field in (
        ("followers", Audience, "followers"),
        ("days", Scenario, "days"),
        ("replicates", Scenario, "replicates"),
        ("seed", Scenario, "seed"),
    ):
        if name in qp:
            value, problem = _number_param(name, qp[name], model, field, True)
            if problem:
                problems.append(f"{problem} Using {ss[name]} instead.")
            else:
                ss[name] = value
    if "platform" in qp:
        if qp["platform"] in PRESETS:
            ss["platform"] = qp["platform"]
        else:
            problems.append(
                f"URL parameter platform={qp['platform']!r} is not known; allowed: {', '.join(PRESETS)}. Using {ss['platform']} instead."
            )
    if "active_hours" in qp:
        text = qp["active_hours"]
        try:
            start, end = (int(part) for part in text.split("-"))
            Habits(active_hours=(start, end))
            ss["active_from"], ss["active_until"] = start, end
        except ValueError:
            problems.append(
                f"URL parameter active_hours={text!r} is not allowed; allowed: START-END local hours, START 0..23, END 1..24, e.g. 8-22. Using {ss['active_from']}-{ss['active_until']} instead."
            )
    if "mix" in qp:
        segs = base.audience.segments
        try:
            shares = [float(part) for part in qp["mix"].split(",")]
            if len(shares) != len(segs) or any(not (0 <= v <= 1) for v in shares):
                raise ValueError
            for i, v in enumerate(shares):
                ss[f"mix_{i}"] = v
        except ValueError:
            names = ", ".join(s.name for s in segs)
            problems.append(
                f"URL parameter mix={qp['mix']!r} is not allowed; allowed: {len(segs)} shares from 0 to 1, comma-separated, for {names}. Using the scenario's mix instead."
            )
    known = set(URL_KEYS) | {"tab"}
    unknown = [k for k in qp if k not in known]
    if unknown:
        problems.append(
            f"URL parameter {', '.join(unknown)} is not known and was ignored; known: {', '.join(sorted(known))}."
        )
    if "tab" in qp and qp["tab"] not in TABS:
        problems.append(f"URL parameter tab={qp['tab']!r} is not a tab; allowed: {', '.join(TABS)}. Showing {TABS[0]}.")
    return problems


def init_session(personas: dict[str, Scenario]) -> None:
    ss = st.session_state
    if "base" in ss:
        return
    ss["variants"] = {}
    ss["upload_problems"] = []
    ss["notices"] = []
    ss["url_problems"] = read_url(personas)
    contrast = [f"persona:{p}" for p in COMPARE_PERSONAS if p in personas]  # the workshop's classic pair
    ss["_compare_pick"] = ["current", *contrast] if contrast else ["current", ss["base_key"]]


# ======================================================================================
# Sidebar
# ======================================================================================


def slider_for(model: type, key: str, label: str, step: float) -> None:
    lo, hi, _ = bounds(model, key)
    if key in INT_HABITS:
        st.slider(label, int(lo), int(hi), step=int(step), key=key, help=help_text(model, key))
    else:
        st.slider(label, float(lo), float(hi), step=float(step), key=key, help=help_text(model, key))


def sidebar(personas: dict[str, Scenario], library_problems: list[str]) -> None:
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
            st.warning(problem)
        reset_label = "Reset to persona" if ss["base_key"].startswith("persona:") else f"Reset to “{ss['base_label']}”"
        st.button(
            reset_label,
            key="reset",
            on_click=on_reset,
            width="stretch",
            help=f"Move every control back to “{ss['base_label']}”.",
        )

        st.header("Your habits")
        if base.timeline:
            days = ", ".join(str(step.day) for step in base.timeline)
            st.caption(
                f"This scenario changes its habits on day {days} (see its story); the sliders set the habits before that."
            )
        for key, label, step in MAIN_HABITS:
            slider_for(Habits, key, label, step)
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
        lo, hi, _ = bounds(Audience, "followers")
        st.number_input(
            "Starting followers", int(lo), int(hi), step=100, key="followers", help=help_text(Audience, "followers")
        )
        segments = base.audience.segments
        if len(segments) > 1:
            st.caption("Who follows you now (relative weights; they are scaled to add up to 100%).")
            for i, seg in enumerate(segments):
                st.slider(
                    f"Share: {seg.name.replace('_', ' ')}",
                    0.0,
                    1.0,
                    step=0.05,
                    key=f"mix_{i}",
                    help=f"{seg.name}: link appetite {seg.link_appetite:+g}, chat appetite {seg.chat_appetite:g}, tolerates about {seg.tolerance_posts_per_day:g} posts/day.",
                )
        else:
            st.caption(f"One kind of follower: {segments[0].name.replace('_', ' ')}.")
        options = list(PRESETS) + (["custom"] if ss["platform"] == "custom" else [])
        st.selectbox(
            "Platform",
            options,
            key="platform",
            format_func=lambda p: PLATFORM_WORDS.get(p, f"{base.platform.name} (from the file)"),
            help="How the feed treats your posts: link reach, ranking and reach to non-followers.",
        )

        st.header("Horizon and runs")
        lo, hi, _ = bounds(Scenario, "days")
        st.slider(RUN_FIELDS["days"], int(lo), int(hi), step=1, key="days", help=help_text(Scenario, "days"))
        lo, hi, _ = bounds(Scenario, "replicates")
        st.slider(
            RUN_FIELDS["replicates"],
            int(lo),
            min(int(hi), 200),
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
            on_change=on_upload,
            help="A scenario file as written by “Download settings” or `coach`; see README for the format.",
        )
        scenario, _ = current_scenario(base)
        if scenario is not None:
            yaml_text = dump_scenario(scenario)
            st.download_button(
                "Download settings (YAML)",
                data=yaml_text,
                file_name=f"{slug(scenario.name)}.yaml",
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


def slug(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "-" for c in text).strip("-")
    return "-".join(part for part in out.split("-") if part) or "scenario"


# ======================================================================================
# Main area
# ======================================================================================


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


def reference_words() -> tuple[str, str]:
    """('persona', 'The Steady Professional') style words for the reference scenario."""
    key = st.session_state["base_key"]
    kinds = {"persona": "persona", "file": "your file", "import": "you (imported)", "link": "the linked scenario"}
    kind = kinds.get(key.split(":", 1)[0], "the reference")
    return kind, st.session_state["base_label"]


def metric(
    col: Any,
    label: str,
    q: dict[str, float],
    delta: float | None,
    *,
    ref: str,
    digits: int = 0,
    inverse: bool = False,
    help: str = "",
) -> None:
    fmt = f"{{:,.{digits}f}}"
    delta_text = None if delta is None else f"{round(delta, digits) + 0.0:+,.{digits}f} vs {ref}"
    col.metric(
        label,
        fmt.format(q["median"]),
        delta_text,
        delta_color="inverse" if inverse else "normal",
        help=help,
        border=True,
    )
    if "p10" in q:
        col.caption(f"80% of runs: {fmt.format(q['p10'])} to {fmt.format(q['p90'])}")


def predictions_tab(current: Scenario | None, problems: list[str]) -> None:
    ss = st.session_state
    if current is None:
        st.error(
            "These settings are not valid, so nothing was simulated. Change the controls in the sidebar:\n\n"
            + "\n".join(f"- {p}" for p in problems)
        )
        return
    base = with_run_settings(ss["base"], current.days, current.replicates, current.seed)
    changed = base.model_dump_json() != current.model_dump_json()
    message = refusal(current, 2 if changed else 1)
    if message:
        st.warning(message)
        return
    ensemble = simulate(current)
    reference = simulate(base) if changed else ensemble
    if ensemble is None or reference is None:
        return
    kind, name = reference_words()
    summary, ref_summary = ensemble.summary(), reference.summary()
    changes = plots.paired_changes(reference, ensemble) if changed else {}
    ss["results"] = {
        "scenario": current.model_dump_json(),
        "summary": summary,
        "reference": ref_summary,
        "changed": changed,
        "changes": changes,
    }

    def delta(figure: str) -> float | None:
        return changes[figure]["median"] if changed else None

    st.markdown(
        f"**After {current.days} days**, median of {current.replicates} runs (seed {current.seed}); "
        + (
            f"changes are against {kind} “{name}” on the same seeds."
            if changed
            else f"these are {kind} “{name}”'s own settings; move a slider to see what changes."
        )
    )
    c1, c2, c3, c4, c5 = st.columns(5)
    metric(
        c1,
        f"Followers at day {current.days}",
        summary["followers_end"],
        delta("followers_end"),
        ref=kind,
        help=f"Started with {summary['followers_start']:,}.",
    )
    metric(
        c2,
        "New follows",
        summary["follows"],
        delta("follows"),
        ref=kind,
        help="People who followed during the horizon.",
    )
    metric(
        c3,
        "Unfollows",
        summary["unfollows"],
        delta("unfollows"),
        ref=kind,
        inverse=True,
        help="People who left during the horizon (see why below).",
    )
    metric(
        c4,
        "Minutes per day",
        {"median": summary["minutes_per_day"]},
        delta("minutes_per_day"),
        ref=kind,
        inverse=True,
        help="Time your habits cost: posts × minutes per post + replies and outreach × minutes per reply.",
    )
    c4.caption("what these habits cost you")
    metric(
        c5,
        "Engagement per post",
        summary["engagement_per_post"],
        delta("engagement_per_post"),
        ref=kind,
        digits=1,
        help="Replies, reshares and likes per post.",
    )

    followers = plots.followers_chart(
        ensemble, reference if changed else None, current_label="your settings", baseline_label=f"{kind}: {name}"
    )
    st.altair_chart(followers, width="stretch", theme=None)
    left, right = st.columns(2)
    channels = plots.daily_mix_chart(ensemble, "channel")
    reasons = plots.daily_mix_chart(ensemble, "reason")
    left.altair_chart(channels, width="stretch", theme=None)
    right.altair_chart(reasons, width="stretch", theme=None)
    with left:
        st.markdown("**Where new followers came from** (total over the horizon)")
        rows = [
            {"how they found you": CHANNEL_WORDS[c], "people (median)": summary["follows_by_channel"][c]["median"]}
            for c in CHANNELS
        ]
        st.dataframe(rows, hide_index=True, width="stretch")
    with right:
        st.markdown("**Why people left** (total over the horizon)")
        table = plots.reason_table(ensemble, reference if changed else None, baseline_label=kind).drop(columns="reason")
        st.dataframe(table, hide_index=True, width="stretch")
    top = max(REASONS, key=lambda r: summary["unfollows_by_reason"][r]["median"])
    if summary["unfollows"]["median"] > 0:
        st.caption(f"The most common reason to leave: **{REASON_WORDS[top]}**.")

    st.markdown("**Export**")
    d1, d2, d3, d4 = st.columns(4)
    stem = slug(current.name)
    d1.download_button(
        "Results per day (CSV)",
        data=ensemble.to_csv,
        file_name=f"{stem}-daily.csv",
        mime="text/csv",
        key="dl_csv",
        on_click="ignore",
        width="stretch",
    )
    d2.download_button(
        "Followers chart (PNG)",
        data=lambda: plots.chart_png(followers),
        file_name=f"{stem}-followers.png",
        mime="image/png",
        key="dl_png_followers",
        on_click="ignore",
        width="stretch",
    )
    d3.download_button(
        "Follows chart (PNG)",
        data=lambda: plots.chart_png(channels),
        file_name=f"{stem}-follows.png",
        mime="image/png",
        key="dl_png_channels",
        on_click="ignore",
        width="stretch",
    )
    d4.download_button(
        "Unfollows chart (PNG)",
        data=lambda: plots.chart_png(reasons),
        file_name=f"{stem}-unfollows.png",
        mime="image/png",
        key="dl_png_reasons",
        on_click="ignore",
        width="stretch",
    )
    st.caption("The page address holds these settings: copy it to share exactly this view.")


def compare_options(personas: dict[str, Scenario]) -> dict[str, tuple[str, Scenario | None]]:
    """Option key → (label, scenario); ``current`` is resolved by the caller."""
    options: dict[str, tuple[str, Scenario | None]] = {"current": ("Your current settings", None)}
    for key, s in personas.items():
        options[f"persona:{key}"] = (s.name, s)
    for name, s in st.session_state["variants"].items():
        options[f"variant:{name}"] = (f"{name} (saved)", s)
    return options


def on_compare_pick() -> None:
    st.session_state["_compare_pick"] = list(st.session_state["compare_pick"])


def compare_tab(personas: dict[str, Scenario], current: Scenario | None) -> None:
    ss = st.session_state
    options = compare_options(personas)
    if "compare_pick" not in ss:  # widget state is dropped while the tab is hidden; restore it
        ss["compare_pick"] = [k for k in ss["_compare_pick"] if k in options]
    st.multiselect(
        "Scenarios to compare (two to four)",
        list(options),
        format_func=lambda k: options[k][0],
        max_selections=4,
        key="compare_pick",
        on_change=on_compare_pick,
        help="Personas, your current settings, and variants saved with “Save as variant” in the sidebar.",
    )
    picks = list(ss["compare_pick"])
    if len(picks) < 2:
        st.info("Pick at least two scenarios. Save your own variants with “Save as variant” in the sidebar.")
        return
    if current is None and "current" in picks:
        st.error("Your current settings are not valid; fix them in the sidebar or remove them from the comparison.")
        return
    days, reps, seed = (current.days, current.replicates, current.seed) if current is not None else (90, APP_RUNS, 7)
    scenarios, labels = [], []
    for key in picks:
        label, scenario = options[key]
        scenario = current if key == "current" else scenario
        scenarios.append(with_run_settings(scenario, days, reps, seed))
        labels.append(label if label not in labels else f"{label} ({len(labels) + 1})")
    message = next((m for m in (refusal(s, len(scenarios)) for s in scenarios) if m), None)
    if message:
        st.warning(message)
        return
    ensembles = [simulate(s) for s in scenarios]
    if any(e is None for e in ensembles):
        return
    st.caption(
        f"All scenarios ran {days} days, {reps} runs each, on the same seeds ({seed}), so differences come from the settings, not luck."
    )
    chart = plots.compare_chart(ensembles, labels)
    st.altair_chart(chart, width="stretch", theme=None)
    st.markdown(f"**Side by side** — each column after the first: median (paired change vs “{labels[0]}”; 80% of runs)")
    table = plots.compare_table(ensembles, labels)
    st.dataframe(table, width="stretch", height=35 * (len(table) + 1) + 3)  # every row, no inner scrolling
    d1, d2 = st.columns(2)

    def csv() -> str:  # one table: the header once, then every scenario's days
        return "".join(e.to_csv() if i == 0 else e.to_csv().split("\n", 1)[1] for i, e in enumerate(ensembles))

    d1.download_button(
        "Comparison per day (CSV)",
        data=csv,
        file_name="comparison-daily.csv",
        mime="text/csv",
        key="dl_compare_csv",
        on_click="ignore",
        width="stretch",
    )
    d2.download_button(
        "Comparison chart (PNG)",
        data=lambda: plots.chart_png(chart),
        file_name="comparison.png",
        mime="image/png",
        key="dl_compare_png",
        on_click="ignore",
        width="stretch",
    )


def keep(key: str, default: Any) -> None:
    """Restore a widget's value that Streamlit dropped while its tab was hidden."""
    ss = st.session_state
    if key not in ss:
        ss[key] = ss.get(f"_{key}", default)


def remember(key: str) -> None:
    st.session_state[f"_{key}"] = st.session_state[key]


def coach_tab(current: Scenario | None) -> None:
    ss = st.session_state
    try:
        from coach.advisor import ADVICE_REPLICATES, advise
    except ImportError as exc:
        st.info(f"The coach is not available in this installation ({exc}).")
        return
    st.markdown(
        "The coach runs your current settings, says what it sees, then tries realistic changes of one "
        "or two habits — every candidate on the same seeds — and keeps those that gain followers "
        "within your time budget. It checks its favourites again on fresh runs before suggesting them."
    )
    if current is None:
        st.error("Your current settings are not valid; fix them in the sidebar first.")
        return
    keep("budget", None)
    st.number_input(
        "Time budget (minutes per day)",
        min_value=0.0,
        max_value=1440.0,
        step=5.0,
        key="budget",
        on_change=remember,
        args=("budget",),
        placeholder="empty: a little more than now",
        help="The most time a day you want to spend. Empty: your current minutes × 1.25 or + 10 minutes, whichever is more.",
    )
    # About 40 candidate habit sets of ADVICE_REPLICATES runs each, plus fresh runs for the finalists.
    expected = 40 * estimated_seconds(current, ADVICE_REPLICATES) / max(1, worker_count())
    too_long = expected > 15 * MAX_SECONDS
    if too_long:
        st.warning(
            f"Coaching these settings would take about {expected / 60:.0f} minutes, too long for this page. "
            "Reduce the starting followers or the horizon, or run `coach advise` from the command line."
        )
    if st.button("Coach me", key="coach_me", type="primary", disabled=too_long):
        bar = st.progress(0.0, text="Running your settings…")

        def progress(done: int, total: int) -> None:
            bar.progress(min(1.0, done / max(total, 1)), text=f"Trying changes: {done} of about {total} runs…")

        try:
            advice = advise(current, budget_minutes=ss.get("budget"), progress=progress)
        except Exception as exc:  # never a traceback
            bar.empty()
            st.error(f"The coach could not finish ({type(exc).__name__}: {exc}).")
            return
        bar.empty()
        ss["advice"] = {"scenario": current.model_dump_json(), "result": advice.to_dict()}
    stored = ss.get("advice")
    if not stored:
        st.caption("Coaching takes a few seconds to a minute; the result stays here while you try its suggestions.")
        return
    result = stored["result"]
    if stored["scenario"] != current.model_dump_json():
        st.info(
            "This advice was worked out for your settings before the latest change (an applied suggestion counts). Press “Coach me” again to coach the new settings."
        )
    st.subheader("What the coach sees")
    for finding in result.get("diagnosis", []):
        st.markdown(f"**{finding['finding']}**")
        st.caption(finding["evidence"])
    st.subheader("What to try")
    budget = result.get("budget_minutes_per_day")
    if result.get("message"):
        st.markdown(result["message"])
    for i, suggestion in enumerate(result.get("suggestions", [])):
        with st.container(border=True):
            st.markdown(f"**{suggestion['text']}**")
            c1, c2, c3, c4 = st.columns([1, 1, 1, 1])
            gain = suggestion["gain"]
            c1.metric("Followers at the end", f"{suggestion['followers_end']['median']:,.0f}")
            c2.metric("Gain", f"{gain['median']:+,.0f}", help="Median over fresh paired runs.")
            c2.caption(f"80% of runs: {gain['p10']:+,.0f} to {gain['p90']:+,.0f}")
            c3.metric(
                "Minutes per day",
                f"{suggestion['minutes_per_day']:,.0f}",
                help=f"Your budget: {budget:,.0f} minutes a day." if budget else None,
            )
            c4.button(
                "Apply",
                key=f"apply_{i}",
                on_click=on_apply,
                args=(dict(suggestion["changes"]),),
                width="stretch",
                help="Move the sliders to this suggestion (the predictions then show the change).",
            )
    if result.get("sensitivity"):
        st.subheader("Which habit matters most")
        chart = plots.tornado_chart(result["sensitivity"], labels=HABIT_LABELS)
        st.altair_chart(chart, width="stretch", theme=None)
        st.download_button(
            "Chart (PNG)",
            data=lambda: plots.chart_png(chart),
            file_name="what-matters-most.png",
            mime="image/png",
            key="dl_tornado_png",
            on_click="ignore",
        )


def on_import() -> None:
    ss = st.session_state
    uploaded = ss.get("import_upload")
    if uploaded is None:
        return
    try:
        from coach.importers import import_history

        result = import_history(uploaded.getvalue(), filename=uploaded.name, tz=ss.get("import_tz", "UTC"))
        base, _ = current_scenario(ss["base"])
        scenario = result.to_scenario(base or ss["base"])
    except ValueError as exc:  # ArchiveError (a ValueError) and bad time zones carry readable messages
        ss["import_problem"] = getattr(exc, "message", None) or str(exc)
        return
    except Exception as exc:  # never a traceback
        ss["import_problem"] = f"{uploaded.name}: could not be read ({type(exc).__name__}: {exc})."
        return
    ss["import_problem"] = None
    ss["import_result"] = {
        "file": uploaded.name,
        "habits": dict(result.habits),
        "evidence": dict(result.evidence),
        "assumed": list(result.assumed),
        "best_hours": result.best_hours,
        "warnings": list(getattr(result, "warnings", [])),
    }
    load_base(scenario, "import", "you")
    ss["notices"] = [*ss.get("notices", []), f"The sliders now show your habits from {uploaded.name}."]


def history_tab() -> None:
    import zoneinfo

    ss = st.session_state
    st.markdown(
        "Upload the archive you downloaded from your platform — an **X archive** (.zip), a "
        "**Mastodon archive** (.zip or outbox.json), a **Bluesky repository** (.car) or a **CSV** "
        "(`timestamp, is_reply, has_link, text`) — and the sliders move to *you*: your posts per day, "
        "replies, links, questions and hours, measured from what you actually did."
    )
    st.success(
        "**Nothing leaves this machine.** The file is read in memory by this app, on the computer that runs it; "
        "only the derived habit numbers are kept for this session, and nothing is stored or sent anywhere. "
        "(On a copy of the app hosted by someone else, the file goes to their server: run "
        "`streamlit run streamlit_app.py` on your own computer for full privacy.)"
    )
    keep("import_tz", "UTC")
    st.selectbox(
        "Your time zone",
        sorted(zoneinfo.available_timezones()),
        key="import_tz",
        on_change=remember,
        args=("import_tz",),
        help="Hours and days are counted in this zone (for your active hours).",
    )
    st.file_uploader("Your archive", type=["zip", "json", "js", "car", "csv"], key="import_upload", on_change=on_import)
    if ss.get("import_problem"):
        st.error(f"That archive could not be imported, so nothing was changed: {ss['import_problem']}")
    found = ss.get("import_result")
    if not found:
        return
    st.subheader(f"What {found['file']} shows")
    ev = found["evidence"]
    if ev.get("first") and ev.get("last"):
        st.caption(
            f"{ev.get('posts', '?')} posts from {str(ev['first'])[:10]} to {str(ev['last'])[:10]} ({ev.get('days', '?')} days), hours in {ev.get('tz', 'UTC')}."
        )
    rows = [
        {
            "habit": HABIT_LABELS.get(k, k),
            "from your archive": ", ".join(str(x) for x in v)
            if isinstance(v, list | tuple)
            else f"{v:g}"
            if isinstance(v, float)
            else str(v),
        }
        for k, v in found["habits"].items()
    ]
    st.dataframe(rows, hide_index=True, width="stretch")
    if found["assumed"]:
        st.markdown(
            "**Not in the archive, so kept as they were:** "
            + ", ".join(HABIT_LABELS.get(k, k).lower() for k in found["assumed"])
            + ". Set them in the sidebar."
        )
    if found.get("best_hours"):
        st.markdown(
            "**Your best hours** (most engagement per post): " + ", ".join(f"{h}:00" for h in found["best_hours"])
        )
    for warning in found.get("warnings", []):
        st.warning(warning)
    with st.expander("All the evidence (counts, dates, exact values)"):
        st.json(ev, expanded=False)


# ---- About ----------------------------------------------------------------------------

SOURCES = {
    "A2": "Kwak, Chun & Moon, “Fragile online relationship” (CHI 2011): one-way ties break far more often",
    "A3": "Kwak, Chun & Moon (CHI 2011): newer ties are more fragile; many posts in a short time and mundane posts drive unfollows",
    "A5": "Kwak, Moon & Lee, “More of a receiver than a giver” (ICWSM 2012): people who get replies unfollow less",
    "A9": "Buzzstream & Fractl survey (c. 2015): 19% unfollow a brand that posts more than 6 times a day",
    "A10": "Sprout Social Index 2016: too much promotion (46%), irrelevance (41%), too many posts (35%); non-response annoys",
    "A11": "Sprout Social consumer survey: irrelevant content (51%) and poor responsiveness (56%)",
    "A12": "Industry rule of thumb: 1–3% of followers leave per month (a soft prior, not a study)",
    "A14": "An account that stopped posting kept losing followers slowly for years (blog case)",
    "B1": "Hutto, Yardi & Gilbert, “A longitudinal study of follow predictors on Twitter” (CHI 2013): engaging beats broadcasting",
    "B3": "Naaman, Boase & Lai (CSCW 2010): information sharers have 2–3× the followers of “meformers”",
    "B4": "Antoniades & Dovrolis (2015): follow odds ×2.01 per extra post seen, ×27.3 if you already follow them, ×0.989 per post a day",
    "B6": "Myers & Leskovec (WWW 2014): follower growth is steady with sudden bursts",
    "B7": "Freitas et al., socialbot infiltration (ASONAM 2015): activity level drives follower acquisition",
    "B8": "Fronetics (2016): cutting 40 to 15 posts a day cut new followers by 39%",
    "C1": "Kwak, Lee, Park & Moon, “What is Twitter…?” (WWW 2010): 22% of ties are reciprocal",
    "C4": "Suh, Hong, Pirolli & Chi, “Want to be retweeted?” (SocialCom 2010): links and hashtags raise retweeting",
    "C5": "Gonçalves, Perra & Vespignani (2011): people keep 100–200 stable conversational ties",
    "D1": "Track Social brand study (2012): engagement per post drops after about 5 posts a day",
    "D1-D4": "Brand studies (Track Social, Socialbakers, Dashburst, Inntopia): engagement per post falls after 3–5 posts a day",
    "D6": "Rival IQ benchmark 2023: median engagement ≈0.035% per post per follower",
    "E1": "Pfeffer et al., “The half-life of a tweet” (ICWSM 2023): half the impressions within ≈80 minutes",
    "E9": "Sprout Social best-times reports 2023–2025: audiences are online mostly on weekday daytime",
    "F2": "X's open-sourced ranker (AuthorDiversityDiscountProvider): 1, 0.625, 0.44 … floor 0.25",
    "F3": "X's open-sourced ranker (OONTweetScalingScorer): out-of-network posts ×0.75",
    "F5": "Buffer analysis of X (2025): link posts from non-Premium accounts reach far less",
    "G1": "Bass (1969) diffusion: a market fills up, so prospects thin out",
}


def _codes(text: str) -> list[str]:
    return sorted(
        {word.strip(" ,);.")[2:] for word in text.replace("(", " ").replace(",", " ").split() if word.startswith("E:")}
    )


def parameter_rows() -> list[dict[str, str]]:
    """Every number of the model with its value and basis: evidence (E:xx) or assumption."""
    rows = []
    groups = [
        ("model constant", ModelParams, ModelParams()),
        ("follower default", Segment, Segment(name="general", share=1.0)),
        ("platform", Platform, PRESETS["x"]),
    ]
    for group, model, instance in groups:
        for name, info in model.model_fields.items():
            desc = info.description or ""
            codes = _codes(desc)
            if name in ("mechanisms", "name", "share") or (group != "model constant" and not codes):
                continue
            if "assumed" in desc:
                basis = "assumption, guided by evidence" if codes else "assumption"
            else:
                basis = "evidence" if codes else "—"
            value = getattr(instance, name)
            shown = f"{value:g}" if isinstance(value, int | float) and not isinstance(value, bool) else str(value)
            if group == "platform":
                shown = ", ".join(f"{p}: {getattr(PRESETS[p], name)}" for p in PRESETS)
                basis = "evidence for x; assumption for the others"
            rows.append(
                {
                    "number": name,
                    "value": shown,
                    "basis": basis,
                    "sources": ", ".join(f"E:{c}" for c in codes),
                    "meaning": desc,
                    "kind": group,
                }
            )
    return rows


def about_tab() -> None:
    st.markdown(
        """
### What is it?
Cadence Coach simulates **one social-media account** — its habits, its followers and the
people who might follow it — day by day, and shows how many people are likely to follow
and unfollow it over the coming weeks, **why** they come and go, and how that changes when
the habits change. It is a teaching and planning instrument, not an oracle: it turns
well-known advice ("it's a cocktail party, not a billboard") into numbers you can argue with.

### How it works
Every run follows the account hour by hour. Each follower is a row in a table; each post,
reply and day's end acts on all of them at once. The same settings are run many times with
different luck, and the page shows the **median** and the range covering **80% of runs**.

- **Exposure.** A post is seen by some of your followers: those online at that hour, paying
  attention, on a feed that may show links less or hide your third post in a row.
  Posts at 3 a.m. for a daytime audience reach fewer people.
- **Fatigue.** Each follower keeps a short memory of how many of your posts they saw.
  Past their own tolerance (a few posts a day for most people) they start to leave —
  and bursts hurt more than the same posts spread out.
- **Content fit.** Every post nudges each follower's satisfaction: links please people who
  came for news and tire people who came to talk; self-promotion annoys almost everyone;
  questions please the chatty. Long dissatisfaction makes people leave ("not for me").
- **Conversation.** Followers reply. Answer them and they are pleased and stay longer (a bond
  that lasts weeks); ignore them and they sour. Public answers are seen by others too.
- **Outreach.** Replies you leave on other people's posts put you in front of new people.
- **Discovery and the follow decision.** New people find you through reshares, your
  answers, your outreach and search. They glance at your recent posts: do they fit, do you
  talk with people, have they seen you before, do you already follow them?
- **Neglect.** A quiet account slowly loses people and almost stops gaining them.
- **Ordinary churn.** Some people leave anyway; newer one-way ties leave more than old or
  mutual ones.

Every unfollow gets **one reason** and every follow **one channel**, which is how the page
can say *why* people left.

### Things to notice
- The band is wide for small accounts: a single reshare can bring a burst of followers.
- More posts bring more reach **and** more fatigue: the best rate sits in the middle, and it
  is higher for an audience that came for news.
- Answering replies barely shows in the first weeks, then keeps people for months.
- The same number of posts in one scheduled burst loses more people than spread out.

### Things to try
- On **The Steady Professional**, raise *Posts per day* step by step and watch
  "too many posts" grow in *Why people left*.
- Compare **The Billboard** with **The Conversationalist** in the Compare tab.
- Raise *Link share* on a chatty audience, then on **The Niche News Curator**.
- Set *Posts per sitting* to 5 with the same posts per day (a scheduler's dump).
- Switch the platform between X and Mastodon with many links.

### Limits
- One account, an audience described by a few kinds of follower, no network of who
  follows whom, no viral content quality, no news events, no paid promotion.
- Most strengths of effects are **assumptions** (see the table below), chosen so the
  model reproduces published patterns; directions are better supported than sizes.
- The surveys behind fatigue and content effects were mostly about brands.
- Treat differences between settings (on the same seeds) as more trustworthy than the
  absolute numbers.
"""
    )
    st.markdown("### Which numbers rest on evidence, and which are assumptions")
    st.caption(
        "Every constant of the model, its value and its basis: **evidence** (a published figure), or an **assumption** "
        "(our calibrated guess, sometimes with its direction from evidence). Codes refer to the sources listed below."
    )
    st.dataframe(parameter_rows(), hide_index=True, width="stretch")
    st.markdown("**Mechanisms** (each can be switched off in a scenario's `model.mechanisms` for experiments)")
    st.dataframe(
        [{"mechanism": k, "what it does": v.description} for k, v in Mechanisms.model_fields.items()],
        hide_index=True,
        width="stretch",
    )
    st.markdown("**Platforms**")
    st.dataframe(
        [
            {
                "platform": p.name,
                "link reach vs text": p.link_reach,
                "ranked feed": p.ranked_feed,
                "reach to non-followers": p.out_of_network,
            }
            for p in PRESETS.values()
        ],
        hide_index=True,
        width="stretch",
    )
    st.markdown("**Sources** (evidence codes in the table)")
    used = {code[2:] for row in parameter_rows() for code in row["sources"].split(", ") if code}
    st.markdown("\n".join(f"- **E:{code}** — {text}" for code, text in SOURCES.items() if code in used or not used))
    model_doc = ROOT / "docs" / "model.md"
    if model_doc.exists():
        with st.expander("The full model documentation (docs/model.md)"):
            st.markdown(model_doc.read_text(encoding="utf-8"))


# ======================================================================================
# Page
# ======================================================================================


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
    st.set_page_config(page_title="Cadence Coach", page_icon="📈", layout="wide", initial_sidebar_state="expanded")
    personas, library_problems = persona_library()
    init_session(personas)
    ss = st.session_state
    sidebar(personas, library_problems)

    st.title("Cadence Coach")
    st.caption("How your posting habits win and lose followers — a simulation with honest uncertainty.")
    show_notices()
    base: Scenario = ss["base"]
    kind, _ = reference_words()
    story_card(base, kind.capitalize())

    current, problems = current_scenario(base)
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
