"""The page address: a link reproduces the view (the base scenario, then only what differs).

A session's first run reads the link (:func:`init_session`); every run writes the current
settings back (:func:`write_url`).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import zlib
from typing import Any

import streamlit as st

from app.state import (
    COMPARE_PERSONAS,
    DEFAULT_PERSONA,
    INT_HABITS,
    MAIN_HABITS,
    MORE_HABITS,
    RUN_FIELDS,
    TABS,
    URL_KEYS,
    as_opened,
    bounds,
    default_persona,
    load_base,
    widget_values,
)
from coach import PRESETS, Audience, Habits, Scenario, ScenarioError, dump_scenario, parse_scenario
from coach.messages import format_number, quote, shorten


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
    if current.timeline != base.timeline:
        # The timeline was edited in the page: the link carries it inside the scenario.
        base = base.model_copy(update={"timeline": current.timeline, "days": current.days})
        params["scenario"] = encode_scenario(base)
    elif base_key.startswith("persona:"):
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


def session_params() -> dict[str, str]:
    """The Compare picks and saved variants, so a shared link reopens the same comparison.

    ``compare`` lists the picks (``current``, a persona's file stem, or ``variant:N``);
    ``variants`` holds the saved variants themselves (compressed YAML, like ``scenario``).
    """
    ss = st.session_state
    names = list(ss.get("variants", {}))
    params: dict[str, str] = {}
    if names:
        docs = [dump_scenario(ss["variants"][n]) for n in names]
        blob = json.dumps({"names": names, "yaml": docs}, ensure_ascii=False).encode()
        params["variants"] = base64.urlsafe_b64encode(zlib.compress(blob, 9)).decode().rstrip("=")
    picks = []
    for key in ss.get("compare_pick", ss.get("_compare_pick", [])):
        if key.startswith("persona:"):
            picks.append(key.split(":", 1)[1])
        elif key.startswith("variant:") and key.split(":", 1)[1] in names:
            picks.append(f"variant:{names.index(key.split(':', 1)[1])}")
        elif key == "current":
            picks.append(key)
    if picks:
        params["compare"] = ",".join(picks)
    return params


def read_session_params(personas: dict[str, Scenario]) -> list[str]:
    """Restore saved variants and Compare picks from the link; return problems found."""
    qp = st.query_params
    ss = st.session_state
    problems: list[str] = []
    names: list[str] = []
    if "variants" in qp:
        try:
            text = qp["variants"]
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            inflater = zlib.decompressobj()
            data = json.loads(inflater.decompress(raw, 2_000_000))
            names = [str(n)[:80] for n in data["names"]][:20]
            for name, doc in zip(names, data["yaml"], strict=False):
                ss["variants"][name] = parse_scenario(doc, source=f"the link's variant “{name}”")
        except ScenarioError as exc:
            problems.append("URL parameter variants: " + "; ".join(exc.problems) + " Some saved variants are missing.")
        except (binascii.Error, zlib.error, ValueError, KeyError, TypeError):
            problems.append(
                "URL parameter variants could not be decoded (the link may be cut short); no saved variants."
            )
    if "compare" in qp:
        picks, unknown = [], []
        for part in qp["compare"].split(",")[:4]:
            part = part.strip()
            if part == "current":
                picks.append("current")
            elif part in personas:
                picks.append(f"persona:{part}")
            elif part.startswith("variant:") and part[8:].isdigit() and int(part[8:]) < len(names):
                picks.append(f"variant:{names[int(part[8:])]}")
            else:
                unknown.append(part)
        if unknown:
            problems.append(
                f"URL parameter compare: {', '.join(repr(u) for u in unknown)} is not a persona or saved variant; "
                f"allowed: current, {', '.join(personas)} or variant:N. Left out of the comparison."
            )
        if picks:
            ss["_compare_pick"] = list(dict.fromkeys(picks))
    return problems


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
    allowed = f"allowed: {kind} from {format_number(lo)} to {format_number(hi)} ({desc})"
    shown = quote(text)
    try:
        value = float(text) if len(text) <= 40 else float("nan")  # 5,000 digits are not a setting
    except ValueError:
        return None, f"URL parameter {name}={shown} is not a number; {allowed}."
    if (
        not math.isfinite(value)
        or (whole and not value.is_integer())
        or (lo is not None and value < lo)
        or (hi is not None and value > hi)
    ):
        return None, f"URL parameter {name}={shown} is not allowed; {allowed}."
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
    fallback = f"Showing the default persona “{label}” instead." if default else "Showing the default account instead."
    if "scenario" in qp:
        try:
            base = decode_scenario(qp["scenario"])
            key, label = "link", base.name
        except ScenarioError as exc:
            problems.append("URL parameter scenario: " + "; ".join(exc.problems) + f" {fallback}")
        except (binascii.Error, zlib.error, ValueError):
            problems.append(f"URL parameter scenario could not be decoded (the link may be cut short). {fallback}")
        except Exception as exc:  # a link must never break the page
            problems.append(f"URL parameter scenario could not be read ({type(exc).__name__}). {fallback}")
    elif "persona" in qp:
        name = qp["persona"]
        if name in personas:
            base, key, label = as_opened(personas[name]), f"persona:{name}", personas[name].name
        else:
            problems.append(
                f"URL parameter persona={quote(name)} is not a bundled persona; allowed: {', '.join(personas) or 'none'}. {fallback}"
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
                f"URL parameter platform={quote(qp['platform'])} is not known; allowed: {', '.join(PRESETS)}. Using {ss['platform']} instead."
            )
    if "active_hours" in qp:
        text = qp["active_hours"]
        try:
            start, end = (int(part) for part in text.split("-"))
            Habits(active_hours=(start, end))
            ss["active_from"], ss["active_until"] = start, end
        except ValueError:
            problems.append(
                f"URL parameter active_hours={quote(text)} is not allowed; allowed: START-END local hours, START 0..23, END 1..24, e.g. 8-22. Using {ss['active_from']}-{ss['active_until']} instead."
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
                f"URL parameter mix={quote(qp['mix'])} is not allowed; allowed: {len(segs)} shares from 0 to 1, comma-separated, for {names}. Using the scenario's mix instead."
            )
    known = set(URL_KEYS) | {"tab", "compare", "variants"}
    unknown = [k for k in qp if k not in known]
    if unknown:
        problems.append(
            f"URL parameter {shorten(', '.join(unknown))} is not known and was ignored; known: {', '.join(sorted(known))}."
        )
    if "tab" in qp and qp["tab"] not in TABS:
        problems.append(
            f"URL parameter tab={quote(qp['tab'])} is not a tab; allowed: {', '.join(TABS)}. Showing {TABS[0]}."
        )
    return problems


def init_session(personas: dict[str, Scenario]) -> None:
    ss = st.session_state
    if "base" in ss:
        return
    ss["variants"] = {}
    ss["upload_problems"] = []
    ss["notices"] = []
    ss["url_problems"] = read_url(personas)
    # The workshop's classic pair, without the persona already loaded (it would hide under
    # "your current settings"); the default persona stands in for it.
    pair = [f"persona:{p}" for p in (*COMPARE_PERSONAS, DEFAULT_PERSONA) if p in personas]
    contrast = [key for key in pair if key != ss["base_key"]][:2]
    ss["_compare_pick"] = ["current", *contrast] if contrast else ["current", ss["base_key"]]
    ss["url_problems"] += read_session_params(personas)
    from app.explore import read_explore_params  # here: app.explore imports this module's neighbours

    ss["url_problems"] += read_explore_params()
