"""The last new-user fixes of issue 11, driven headless by ``streamlit.testing.v1.AppTest``:
the uploader takes Mastodon's ``.tar.gz``, the evidence speaks plain words, the follower
count reads with thousands separators, a mean sitting size survives the import, and a
rerun with nothing changed draws from the cache. No simulated number is hard-coded.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.elements.lib.file_uploader_utils import enforce_filename_restriction
from streamlit.errors import StreamlitAPIException
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parent.parent / "streamlit_app.py"
TIMEOUT = 240  # seconds per script run: generous for a loaded CI machine, never a speed assertion


@pytest.fixture(scope="module", autouse=True)
def fresh_cache():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def new_app(tab: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    if tab:
        at.session_state["tab"] = tab
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def unescaped(markdown: str) -> str:
    """What a Markdown body shows: text from a file or a person is backslash-escaped (app/text.py)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def mastodon_tar_gz() -> bytes:
    from importer_fixtures import STANDARD, mastodon_archive, tar_gz

    return tar_gz(mastodon_archive(STANDARD))


def test_the_uploader_takes_mastodon_tar_gz_and_tgz_and_imports_them():
    at = new_app("Your history")
    uploader = at.file_uploader(key="import_upload")
    # Streamlit's own check of a file name against the uploader's types (what the server enforces)
    for name in ("archive-20240301.tar.gz", "archive.tgz", "twitter.zip", "outbox.json", "repo.car", "mine.csv"):
        enforce_filename_restriction(name, uploader.allowed_type)
    with pytest.raises(StreamlitAPIException):
        enforce_filename_restriction("notes.txt", uploader.allowed_type)

    for name in ("archive-20240301.tar.gz", "archive.tgz"):
        at = new_app("Your history")
        at.file_uploader(key="import_upload").set_value((name, mastodon_tar_gz(), "application/gzip")).run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert at.session_state["base_key"] == "import"
        assert at.session_state["import_result"]["platform"] == "mastodon"


def test_the_evidence_speaks_plain_words_not_field_names():
    from importer_fixtures import STANDARD, x_archive, zip_bytes

    at = new_app("Your history")
    at.file_uploader(key="import_upload").set_value(
        ("twitter.zip", zip_bytes(x_archive(STANDARD)), "application/zip")
    ).run()
    assert not at.exception and not at.error
    evidence = at.session_state["import_result"]["evidence"]
    panel = next(e for e in at.expander if e.label.startswith("All the evidence"))
    text = "\n".join(unescaped(m.value) for m in panel.markdown)
    assert not panel.json, "the evidence is not dumped as raw JSON"
    for field in evidence:  # no raw key shows (all of this fixture's keys have a plain label)
        if "_" in field:
            assert field not in text, (field, text)
    assert f"Your own posts (new posts and thread continuations):** {evidence['originals']}" in text
    assert f"Sittings (runs of posts at most 30 minutes apart):** {evidence['sittings']}" in text
    assert f"Posts per sitting, exact mean:** {evidence['posts_per_session_mean']:.4g}" in text
    assert "Posts and replies by hour of day:** " in text and "8:00 " in text


def test_posts_per_sitting_keeps_the_imported_mean():
    from importer_fixtures import STANDARD, x_archive, zip_bytes

    at = new_app("Your history")
    at.file_uploader(key="import_upload").set_value(
        ("twitter.zip", zip_bytes(x_archive(STANDARD)), "application/zip")
    ).run()
    found = at.session_state["import_result"]
    mean = found["habits"]["posts_per_session"]
    assert mean != int(mean)  # the fixture's 7 originals in 5 sittings: a mean the old code rounded
    assert at.session_state["posts_per_session"] == pytest.approx(mean)
    assert at.session_state["base"].habits.posts_per_session == pytest.approx(mean)


def test_starting_followers_read_with_thousands_separators():
    at = new_app()
    at.number_input(key="followers").set_value(200_000).run()
    assert not at.exception
    sidebar = [c.value for c in at.sidebar.caption]
    assert "200,000 followers at the start" in sidebar, sidebar


def test_a_rerun_that_changes_no_chart_builds_no_chart(monkeypatch):
    """Altair charts are built once per kind of view (app/predictions.py): a rerun, a return to
    a setting seen before and a new setting reuse them; only a new setting's data changes."""
    import json

    from coach import plots

    built = []
    original = plots.followers_chart

    def counting(*args, **kwargs):
        built.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(plots, "followers_chart", counting)
    st.cache_data.clear()
    at = new_app()
    assert len(built) == 1

    def shown():
        charts = at.get("vega_lite_chart")
        return [json.loads(c.proto.spec) for c in charts], [chart_rows(c) for c in charts]

    first, first_data = shown()
    assert len(first) == 4 and "Followers over time" in json.dumps(first[0])
    at.run()  # nothing changed
    at.session_state["tab"] = "About the model"
    at.run()
    at.session_state["tab"] = "Predictions"
    at.run()
    assert shown() == (first, first_data)
    start = at.session_state["posts_per_day"]
    at.select_slider(key="posts_per_day").set_value(start + 0.5).run()
    assert not at.exception
    nudged_data = shown()[1]
    assert nudged_data != first_data  # the new runs are drawn …
    assert len(built) == 2  # … from one more build: the reference's dashed line joins the chart
    at.select_slider(key="posts_per_day").set_value(start + 1.0).run()
    assert shown()[1] not in (first_data, nudged_data)
    assert len(built) == 2  # another nudge: the same charts with new data, nothing built
    at.select_slider(key="posts_per_day").set_value(start).run()
    assert shown() == (first, first_data)


def chart_rows(chart) -> list[dict]:
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    return [convert_arrow_bytes_to_pandas_df(d.data.data).to_dict("records") for d in chart.proto.datasets]


@pytest.mark.parametrize(
    ("persona", "present", "changed"),
    [("steady_professional", False, True), ("turnaround", True, True), ("billboard", False, False)],
)
def test_charts_from_the_template_equal_charts_built_from_scratch(persona, present, changed):
    """The template holds only what does not depend on the runs: putting other runs' data in
    gives exactly the chart coach.plots would build for them (timeline markers included)."""
    from app.predictions import build_specs, tab_specs
    from coach import bundled_scenarios, parse_scenario, run_many

    base = parse_scenario(next(p for p in bundled_scenarios() if p.stem == persona).read_bytes())
    base = base.model_copy(update={"replicates": 4})
    reference = run_many(base, 4, base.seed, parallel=False) if changed else None
    label = f"persona: {base.name}"
    st.cache_data.clear()
    for posts in (base.habits.posts_per_day + 1, base.habits.posts_per_day + 3):  # the first makes the template
        current = base.with_habits(posts_per_day=posts)
        ensemble = run_many(current, 4, current.seed, parallel=False)
        got = tab_specs(ensemble, reference, current, label, present)
        want = build_specs(ensemble, reference, current, label, present)
        assert set(got) == set(want)
        for name in want:
            assert {k: v for k, v in got[name].items() if k != "datasets"} == {
                k: v for k, v in want[name].items() if k != "datasets"
            }, name
            assert list(got[name]["datasets"]) == list(want[name]["datasets"]), name
            for key, frame in want[name]["datasets"].items():
                pd.testing.assert_frame_equal(got[name]["datasets"][key], frame)
