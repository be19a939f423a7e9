"""The Your history tab: import an archive and move the sliders to your own habits."""

from __future__ import annotations

import streamlit as st

from app.state import HABIT_LABELS, current_scenario, keep, load_base, remember
from app.text import safe
from coach import PRESETS, ScenarioError
from coach.importers import ArchiveError, import_history

# What the importer reads (coach/importers/archive.py tells a gzip by its bytes, not its
# name). Streamlit matches the end of the file name, so "gz" admits "archive.tar.gz".
ARCHIVE_TYPES = ["zip", "gz", "tgz", "json", "js", "car", "csv"]


def _problem_text(problems: list[str]) -> str:
    """One problem inline; several as a list (shown after “could not be imported …:”)."""
    return problems[0] if len(problems) == 1 else "\n\n" + "\n".join(f"- {p}" for p in problems)


def on_import() -> None:
    ss = st.session_state
    ss["fit_problem"] = None  # the fit's last error was about the inputs before this upload
    uploaded = ss.get("import_upload")
    if uploaded is None:
        return
    try:
        result = import_history(uploaded.getvalue(), filename=uploaded.name, tz=ss.get("import_tz", "UTC"))
        base, _ = current_scenario(ss["base"])
        scenario = result.to_scenario(base or ss["base"])
        # The export says where the posts were published: use that platform's feed (as the
        # CLI does), not the persona's. A CSV does not say, so it keeps the current one.
        if result.platform in PRESETS:
            scenario = scenario.model_copy(update={"platform": PRESETS[result.platform]})
        scenario = scenario.model_copy(update={"description": plain_words(scenario.description)})
    except ArchiveError as exc:  # names the file and what was expected
        ss["import_problem"] = exc.message
        return
    except ScenarioError as exc:  # the derived scenario is not valid: one sentence per problem
        ss["import_problem"] = _problem_text(exc.problems)
        return
    except ValueError as exc:  # a bad time zone says so in plain words
        ss["import_problem"] = str(exc)
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
    ss["import_result"]["platform"] = scenario.platform.name
    ss["import_result"]["platform_from_export"] = result.platform in PRESETS  # a CSV does not say
    ss["import_result"]["followers"] = scenario.audience.followers
    load_base(scenario, "import", "you")
    ss["notices"] = [*ss.get("notices", []), f"The sliders now show your habits from {uploaded.name}."]


def plain_words(text: str) -> str:
    """The importer's story with the page's labels instead of field names (posts_per_day …)."""
    for key in sorted(HABIT_LABELS, key=len, reverse=True):
        text = text.replace(key, HABIT_LABELS[key].lower())
    return text


# The importer's evidence keys (coach/importers/derive.py) in the page's words; the field
# names stay in `coach import --format json` and in YAML help.
EVIDENCE_WORDS = {
    "platform": "Platform",
    "source": "File",
    "files": "Files read in it",
    "posts": "Posts in the export (every kind)",
    "originals": "Your own posts (new posts and thread continuations)",
    "self_replies": "Replies to yourself (threads), counted as your own posts",
    "replies": "Replies to other people",
    "reposts": "Reposts of other people's posts",
    "first": "First post",
    "last": "Last post",
    "days": "Days covered",
    "tz": "Time zone",
    "since": "Counted from",
    "excluded": "Left out",
    "link_posts": "Your posts with an external link",
    "question_posts": "Your posts asking a question",
    "posts_per_day": "Posts per day, exact",
    "outreach_per_day": "Replies to other people per day, exact",
    "sittings": "Sittings (runs of posts at most 30 minutes apart)",
    "posts_per_session_mean": "Posts per sitting, exact mean",
    "link_share": "Link share, exact",
    "question_share": "Question share, exact",
    "hour_histogram": "Posts and replies by hour of day",
    "active_hours_share": "Posts and replies inside your active hours",
    "engagement_by_hour": "Likes and reposts per post, by hour of day",
    "best_hours": "Best hours",
    "notes": "Notes",
}


def _evidence_value(key: str, value: object) -> str:
    """One evidence value as a person reads it: dates, percentages, hours, counts with commas."""
    if key in ("first", "last", "since") and isinstance(value, str):
        return value[:16].replace("T", " ")
    if key == "active_hours_share" and isinstance(value, int | float):
        return f"{value:.0%}"
    if key in ("hour_histogram", "engagement_by_hour") and isinstance(value, list):
        hours = [f"{h}:00 {v:,.3g}" for h, v in enumerate(value) if v]  # hours with nothing are left out
        return ", ".join(hours) or "none"
    if key == "best_hours" and isinstance(value, list):
        return ", ".join(f"{h}:00" for h in value)
    if key == "excluded" and isinstance(value, dict):
        return ", ".join(f"{n:,} {reason.replace('_', ' ')}" for reason, n in value.items()) or "nothing"
    if key == "notes" and isinstance(value, list):
        return " ".join(plain_words(str(note)) for note in value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return plain_words(str(value))


def evidence_lines(evidence: dict) -> list[tuple[str, str]]:
    """(label, value) for every piece of evidence that says something (empty ones are skipped)."""
    lines = []
    for key, value in evidence.items():
        if value is None or value == [] or (key == "excluded" and not value):
            continue
        label = EVIDENCE_WORDS.get(key, key.replace("_", " ").capitalize())
        lines.append((label, _evidence_value(key, value)))
    return lines


def on_followers_today() -> None:
    """Today's count is the simulation's start (the sidebar's) and the fit's last point.

    While the imported account is the reference, the count becomes part of it, so the
    story card says what will be simulated.
    """
    ss = st.session_state
    count = int(ss["import_followers"])
    ss["followers"] = count
    ss["fit_problem"] = None
    if ss.get("import_result"):
        ss["import_result"]["followers_today"] = count
    if ss.get("base_key") == "import":
        base = ss["base"]
        ss["base"] = base.model_copy(update={"audience": base.audience.model_copy(update={"followers": count})})


def followers_today_input() -> None:
    """The one "Your followers today" box: it shows, and sets, the sidebar's starting followers."""
    ss = st.session_state
    ss["import_followers"] = int(ss["followers"])
    st.number_input(
        "Your followers today", 0, 10_000_000, step=10, key="import_followers", on_change=on_followers_today
    )


def followers_words(found: dict, followers: int) -> str:
    """Where the simulation's starting count came from, in words that match the sidebar."""
    if found.get("followers_today") == followers:
        return f"the simulation starts from your count today, {followers:,}. Change it here if it has moved:"
    if found.get("followers") == followers:
        return f"the simulation starts from {followers:,} (kept from before). Type your count today:"
    return f"the simulation starts from {followers:,} (the sidebar's starting followers). Type your count today:"


def history_tab() -> None:
    import zoneinfo

    ss = st.session_state
    st.markdown(
        "Upload the archive you downloaded from your platform — an **X archive** (.zip), a "
        "**Mastodon archive** (.zip, .tar.gz or outbox.json), a **Bluesky repository** (.car) or a **CSV** "
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
    st.file_uploader(
        "Your archive",
        type=ARCHIVE_TYPES,
        key="import_upload",
        on_change=on_import,
        help="X: .zip · Mastodon: .zip, .tar.gz, .tgz or outbox.json · Bluesky: .car · any platform: .csv",
    )
    if ss.get("import_problem"):
        st.error(f"That archive could not be imported, so nothing was changed: {safe(ss['import_problem'])}")
    found = ss.get("import_result")
    if not found:
        _fitting()
        return
    st.subheader(f"What {safe(found['file'])} shows")  # a file name is the uploader's text
    platform = found.get("platform")
    if platform and found.get("platform_from_export", True):
        st.markdown(f"**Platform:** set to **{platform}**, where these posts were published.")
    elif platform:  # a CSV says nothing of where its posts were published
        st.markdown(
            f"**Platform:** a CSV does not say where these posts were published, so it stays "
            f"**{safe(platform)}**; choose yours in the sidebar."
        )
    st.markdown(
        "**Followers:** an export does not say how many followers you have, so "
        + followers_words(found, int(ss["followers"]))
    )
    followers_today_input()
    ev = found["evidence"]
    if ev.get("first") and ev.get("last"):
        st.caption(
            f"{ev.get('posts', 0):,} posts from {str(ev['first'])[:10]} to {str(ev['last'])[:10]} ({ev.get('days', '?')} days), hours in {ev.get('tz', 'UTC')}."
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
        st.markdown("\n".join(f"- **{label}:** {safe(value)}" for label, value in evidence_lines(ev)))
    _fitting()


def _fitting() -> None:
    """The fit (app/fitting.py): kept in its own module so importer-page edits merge cleanly."""
    from app.fitting import fitting_section

    fitting_section()
