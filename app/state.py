"""The page's state: constants, field bounds, the persona library, cached runs, the widgets.

State lives in ``st.session_state``:

- ``base`` / ``base_key`` / ``base_label``: the loaded scenario (a persona, an uploaded
  file, a shared link's scenario or your imported history) that deltas are measured against.
- one key per widget (``posts_per_day``, ``reply_rate`` ...), loaded from ``base`` by
  callbacks (persona change, reset, upload, "Apply" on a suggestion, import).
- ``variants``: saved settings for the Compare tab; ``notices``: messages to show once.

The ``st.cache_data`` functions live here only, so every module shares their caches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from app.guard import APP_LIMITS, guarded, refusal_message
from app.guard import MAX_SECONDS as MAX_SECONDS  # re-exported: app/coaching.py reads it here
from app.text import safe
from coach import (
    PRESETS,
    Ensemble,
    Scenario,
    ScenarioError,
    bundled_scenarios,
    estimated_seconds,
    parse_scenario,
    plots,
    run_many,
    scenario_from_data,
    worker_count,
)
from coach.budget import check
from coach.engine import COMPILE_NOTE, RunCancelled, compiled, prepare
from coach.messages import format_number
from coach.workqueue import Busy

DEFAULT_PERSONA = "steady_professional"
_ENGINE_READY: list[bool] = []  # set once this server process has the engine's compiled passes loaded
COMPARE_PERSONAS = ("billboard", "conversationalist")  # the Compare tab opens with these beside your settings
PROGRESS_SECONDS = 0.25  # runs estimated longer than this (engine estimate, seconds) show a progress bar
APP_RUNS = 30  # personas open with at most this many runs (one batched pass: a slider answers in well under a second)

# Habit sliders: key (= Habits field), label, step. Bounds and help come from the field.
MAIN_HABITS = [
    ("posts_per_day", "Posts per day", 0.5),
    ("reply_rate", "Reply rate", 0.05),
    ("link_share", "Link share", 0.05),
]
MORE_HABITS = [
    ("posts_per_session", "Posts per sitting", 0.5),
    ("promo_share", "Promotion share", 0.05),
    ("question_share", "Question share", 0.05),
    ("outreach_per_day", "Outreach replies per day", 1.0),
    ("follow_back_rate", "Follow-back rate", 0.05),
    ("reply_delay_hours", "Reply delay (hours)", 0.5),
    ("minutes_per_post", "Minutes per post", 0.5),
    ("minutes_per_reply", "Minutes per reply", 0.5),
]
HABIT_LABELS = {key: label for key, label, _ in MAIN_HABITS + MORE_HABITS} | {"active_hours": "Active hours"}
# Habits with whole-number controls. None now: posts per sitting is a mean sitting size (the
# engine takes any number >= 1), so an imported 2.37 is not cut to 2.
INT_HABITS: set[str] = set()
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
    + ["present", "compare", "variants"]
    + ["explore", "explore_range", "explore_values", "explore_outcome"]  # app/explore.py URL_PARAMS
)
TABS = ["Predictions", "Compare", "Explore", "Coach", "Your history", "About the model"]


def engine_ready() -> None:
    """Before the page's first simulation in this server process: if the engine's passes are
    not compiled for this machine yet (the first start after installing), compile them now
    under a spinner that says why the page waits, instead of a silent 10 s first answer."""
    if _ENGINE_READY:
        return
    if not compiled():
        with st.spinner(f"Preparing the simulator — {COMPILE_NOTE}…"):
            prepare()
    _ENGINE_READY.append(True)


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
    allowed = f" Allowed: {format_number(lo)} to {format_number(hi)}." if lo is not None and hi is not None else ""
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
def run_ensemble(scenario_json: str) -> Ensemble:
    """The scenario's replicates on its seed, cached on its JSON (which holds both).

    A progress bar appears (and is removed) for runs expected to take a while; Streamlit
    replays it as an empty slot on cache hits.
    """
    from app import prefetch  # it imports this module

    ready = prefetch.take(scenario_json)  # the next slider step, simulated while the page was read
    if ready is not None:
        return ready
    scenario = Scenario.model_validate_json(scenario_json)
    replicates, seed = scenario.replicates, scenario.seed
    workers = worker_count()
    expected = estimated_seconds(scenario, replicates) / max(1, min(workers, replicates))
    bar = st.progress(0.0, text=f"Simulating {replicates} runs…") if expected > PROGRESS_SECONDS else None

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.progress(done / total, text=f"Simulating run {done} of {total}…")

    # The replicates run as one batched pass; the worker pool only pays off for big crowds
    # or long horizons (parallel=None decides from the estimate), not for a slider nudge.
    ensemble = guarded(  # in the server's queue, under a time and memory budget (app/guard.py)
        lambda stop: run_many(scenario, replicates, seed, parallel=None, progress=progress, should_stop=stop)
    )
    if bar is not None:
        bar.empty()
    return ensemble


def refusal(scenario: Scenario, runs_needed: int = 1) -> str | None:
    """A clear message when a job is too big for a web page (time, or the projected crowd's memory), else None."""
    reps = scenario.replicates
    problems = check(scenario, APP_LIMITS, runs=runs_needed * reps, workers=worker_count())
    return refusal_message(problems) if problems else None


def simulate(scenario: Scenario) -> Ensemble | None:
    """Run (or fetch from the cache); show a readable message instead of any traceback."""
    try:
        return run_ensemble(scenario.model_dump_json())
    except (RunCancelled, Busy) as exc:  # over its budget, or the server's queue is full
        st.warning(safe(str(exc)))
        return None
    except Exception as exc:  # the page must never show a traceback
        st.error(
            safe(
                f"The simulation could not run these settings ({type(exc).__name__}: {str(exc)[:300]}). "
                "This is a fault in the model, not in your settings: please report it together with "
                "the YAML from “Download settings”."
            )
        )
        return None


def set_run_settings(data: dict[str, Any], days: int, replicates: int, seed: int) -> dict[str, Any]:
    """Put a horizon, runs and seed into raw scenario data, dropping timeline steps past the horizon."""
    data.update(days=days, replicates=replicates, seed=seed)
    data["timeline"] = [step for step in data.get("timeline", []) if step["day"] <= days]
    return data


def with_run_settings(scenario: Scenario, days: int, replicates: int, seed: int) -> Scenario:
    """The scenario on a given horizon, runs and seed (timeline steps past the horizon dropped)."""
    return Scenario.model_validate(set_run_settings(scenario.model_dump(mode="json"), days, replicates, seed))


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
    _unrepeat_compare(st.session_state.get("base_key", ""), key)
    st.session_state["base"] = scenario
    st.session_state["base_key"] = key
    st.session_state["base_label"] = label
    st.session_state["persona"] = key.split(":", 1)[1] if key.startswith("persona:") else None
    for name, value in widget_values(scenario).items():
        st.session_state[name] = value
    st.session_state["timeline_rows"] = timeline_rows(scenario)


def _unrepeat_compare(old_key: str, new_key: str) -> None:
    """Compare must not show the newly loaded persona twice: beside "your current settings"
    (which are that persona now) it would be the same card. It gives its place to the
    persona loaded before, or leaves the comparison."""
    ss = st.session_state
    picks = list(ss.get("compare_pick", ss.get("_compare_pick", [])))
    if old_key == new_key or "current" not in picks or new_key not in picks:
        return
    at = picks.index(new_key)
    if old_key.startswith("persona:") and old_key not in picks:
        picks[at] = old_key
    else:  # loaded from an upload, an import or the editor: nothing to swap in, so say what left
        del picks[at]
        ss["notices"] = [
            *ss.get("notices", []),
            "Compare: that persona is your current settings now, so it left the comparison.",
        ]
    ss["_compare_pick"] = picks
    if "compare_pick" in ss:  # the widget's own state, when the tab is open (a callback may set it)
        ss["compare_pick"] = picks


def timeline_rows(scenario: Scenario) -> list[dict[str, Any]]:
    """The scenario's timeline as one row per habit change (the page's timeline editor)."""
    rows = []
    for step in sorted(scenario.timeline, key=lambda s: s.day):
        for habit, value in step.habits.model_dump(exclude_none=True).items():
            rows.append({"day": int(step.day), "habit": habit, "value": value})
    return rows


def timeline_data(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the timeline editor → the scenario's ``timeline`` (one step per day)."""
    steps: dict[int, dict[str, Any]] = {}
    for row in rows:
        steps.setdefault(int(row["day"]), {})[row["habit"]] = row["value"]
    return [{"day": day, "habits": habits} for day, habits in sorted(steps.items())]


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
    if "timeline_rows" in ss:  # the page's timeline editor (rows of "from day N, habit value")
        data["timeline"] = timeline_data(ss["timeline_rows"])
    return set_run_settings(data, ss["days"], ss["replicates"], ss["seed"])


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
    applied, skipped = {}, []
    for habit, value in changes.items():
        if habit == "active_hours":
            ss["active_from"], ss["active_until"] = int(value[0]), int(value[1])
        elif habit in ss:
            ss[habit] = int(value) if habit in INT_HABITS else float(value)
        else:  # no control for it on this page
            skipped.append(HABIT_LABELS.get(habit, habit).lower())
            continue
        applied[habit] = value
    words = ", ".join(
        f"{HABIT_LABELS.get(h, h).lower()} → {v:g}" if isinstance(v, int | float) else f"{h} → {v}"
        for h, v in applied.items()
    )
    notice = f"Applied: {words}." if applied else "Nothing was applied."
    if skipped:
        notice += f" Not applied (this page has no control for it): {', '.join(skipped)}."
    ss["notices"] = [*ss.get("notices", []), notice]


# ---- shared by the sidebar and the tabs ----------------------------------------------


def keep(key: str, default: Any) -> None:
    """Restore a widget's value that Streamlit dropped while its tab was hidden."""
    ss = st.session_state
    if key not in ss:
        ss[key] = ss.get(f"_{key}", default)


def remember(key: str) -> None:
    st.session_state[f"_{key}"] = st.session_state[key]


PLAIN_FIELDS = {
    "link_share + promo_share + question_share": "Link share + promotion share + question share",
    "audience.segments": "Who follows you now",
    "audience.followers": "Starting followers",
    "audience.": "audience: ",
    "habits.": "",
    "timeline": "habit changes",
} | {key: label for key, label in HABIT_LABELS.items() if "_" in key}


def plain_problem(problem: str) -> str:
    """A validation message in the page's words: labels, not YAML field names.

    Field names stay in the YAML editor's messages (where the learner types them); the
    sidebar speaks of "Link share", not ``habits.link_share``.
    """
    text = problem.removeprefix("your settings: ")
    if "shares sum to 0" in text:
        return "Who follows you now: every share is 0; give at least one kind of follower a share above 0."
    text = text.replace("habits: link_share", "link_share")
    for field in sorted(PLAIN_FIELDS, key=len, reverse=True):
        text = text.replace(field, PLAIN_FIELDS[field])
    text = text.replace(" = ", " add up to ", 1) if "share + " in text else text
    text = text.replace("[start, end) with start 0..23, end 1..24, start != end", "a start hour and a later end hour")
    return text[:1].upper() + text[1:]


def reference_words() -> tuple[str, str]:
    """('persona', 'The Steady Professional') style words for the reference scenario."""
    key = st.session_state["base_key"]
    kinds = {
        "persona": "persona",
        "file": "your file",
        "import": "you (imported)",
        "link": "the linked scenario",
        "edit": "your edited YAML",
    }
    kind = kinds.get(key.split(":", 1)[0], "the reference")
    return kind, st.session_state["base_label"]


# References that are your own account: a sentence names them as such, not as kind “label”
# ("the reference “your fitted account”'s own habits" read badly).
OWN_REFERENCES = {
    "fit": ("your fitted account", "your fitted account's own habits"),
    "import": ("your imported habits", "your own habits (imported)"),
}


def reference_phrases(name: str) -> tuple[str, str]:
    """How a sentence names the reference: what changes are against, and whose habits these are.

    ``name`` is the reference's label, already made safe for where it is shown.
    """
    key = st.session_state["base_key"]
    if key in OWN_REFERENCES:
        return OWN_REFERENCES[key]
    kind, _ = reference_words()
    return f"{kind} “{name}”", f"{kind} “{name}”'s own habits"


CHANGE_WORDS = HABIT_LABELS | {
    "followers": "Starting followers",
    "platform": "Platform",
    "days": "Horizon (days)",
    "replicates": "Runs",
    "seed": "Seed",
}


def changes_from(base: Scenario, current: Scenario) -> list[str]:
    """What the controls changed, in words: ["reply rate 0 → 0.7", …] (empty if nothing)."""
    mine, theirs = widget_values(current), widget_values(base)
    out = []
    for key, label in CHANGE_WORDS.items():
        if key == "active_hours":
            a = (theirs["active_from"], theirs["active_until"])
            b = (mine["active_from"], mine["active_until"])
            if a != b:
                out.append(f"active hours {a[0]}–{a[1]} → {b[0]}–{b[1]}")
        elif key in mine and mine[key] != theirs.get(key):
            old, new = theirs.get(key), mine[key]
            fmt = (lambda v: f"{v:,g}") if isinstance(new, int | float) else str
            out.append(f"{label.lower()} {fmt(old)} → {fmt(new)}")
    if [seg.share for seg in base.audience.segments] != [seg.share for seg in current.audience.segments]:
        out.append("the mix of followers")
    return out


def export_scenario(base: Scenario, current: Scenario) -> Scenario:
    """The settings as they should be downloaded: a changed persona says it was changed.

    Its name gains "(changed)" and its story starts with what changed, so a file called
    "the-billboard.yaml" no longer claims "never answers anyone" with a reply rate of 0.7.
    """
    changes = changes_from(base, current)
    if not changes:
        return current
    note = f"Changed from “{base.name}”: {', '.join(changes)}."
    story = f"{note} The original story: {base.description}" if base.description else note
    name = current.name if current.name.endswith("(changed)") else f"{current.name} (changed)"
    return current.model_copy(update={"name": name[:80], "description": story[:2000]})


def slug(text: str) -> str:
    out = "".join(c.lower() if c.isalnum() else "-" for c in text).strip("-")
    return "-".join(part for part in out.split("-") if part) or "scenario"


def png_download(
    where: Any, label: str, chart: Any, file_name: str, key: str, context: list[str] | None = None, **options: Any
) -> None:
    """A button that exports a chart as PNG for slides (rendered only when clicked).

    ``context`` lines (scenario and settings) are printed under the chart's title, so the
    image still says what it shows once it is pasted into a slide. ``chart`` may be a
    function that builds it (built only on a click).
    """
    where.download_button(
        label,
        data=lambda: plots.chart_png(chart() if callable(chart) else chart, context=context or ()),
        file_name=file_name,
        mime="image/png",
        key=key,
        on_click="ignore",
        **options,
    )
