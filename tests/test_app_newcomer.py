"""The last new-user fixes of issue 11, driven headless by ``streamlit.testing.v1.AppTest``:
the uploader takes Mastodon's ``.tar.gz``, the evidence speaks plain words, the follower
count reads with thousands separators, a mean sitting size survives the import, and a
rerun with nothing changed draws from the cache. No simulated number is hard-coded.
"""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path

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
    from importer_fixtures import STANDARD, mastodon_archive

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in mastodon_archive(STANDARD).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


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
    """Charts are built once per setting (app/predictions.py caches their specs on the scenario):
    a rerun, or a return to a setting seen before, draws the same charts without building them."""
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
    first = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert len(first) == 4 and "Followers over time" in json.dumps(first[0])
    at.run()  # nothing changed
    at.session_state["tab"] = "About the model"
    at.run()
    at.session_state["tab"] = "Predictions"
    at.run()
    assert len(built) == 1
    assert [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")] == first
    start = at.session_state["posts_per_day"]
    at.select_slider(key="posts_per_day").set_value(start + 0.5).run()
    assert len(built) == 2  # a new setting: new charts
    at.select_slider(key="posts_per_day").set_value(start).run()
    assert len(built) == 2 and [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")] == first
