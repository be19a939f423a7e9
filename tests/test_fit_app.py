"""The fit in the app's Your history tab: archive + follower count + history file -> report -> load."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parent.parent / "streamlit_app.py"


def archive_csv(days: int = 30) -> bytes:
    lines = ["timestamp,is_reply,has_link,text"]
    for d in range(days):
        for k in range(2):
            lines.append(f"2024-03-{d + 1:02d}T{9 + 6 * k:02d}:00:00+00:00,false,{'yes' if k else 'no'},post {d}-{k}")
    return ("\n".join(lines) + "\n").encode()


def open_history() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    at.session_state["tab"] = "Your history"
    return at.run()


def test_fit_needs_the_archive_first_and_says_nothing_leaves():
    at = open_history()
    assert not at.exception
    assert any("Upload your archive above first" in i.value for i in at.info)
    assert any("Nothing leaves this machine" in m.value and "fit runs here" in m.value for m in at.markdown)


def test_fit_runs_shows_the_report_and_loads_the_fitted_scenario():
    at = open_history()
    at.file_uploader(key="import_upload").set_value(("posts.csv", archive_csv(), "text/csv")).run()
    at.number_input(key="import_followers").set_value(620).run()
    history = b"date,followers\n2024-03-01,500\n2024-03-10, 540\n2024-03-20,580\n"
    at.file_uploader(key="fit_history_upload").set_value(("followers.csv", history, "text/csv")).run()
    at.select_slider(key="fit_trials").set_value(16).run()
    at.button(key="fit_run").click().run()
    assert not at.exception
    assert not at.session_state["fit_problem"], at.session_state["fit_problem"]
    report = at.session_state["fit_result"]
    assert report["fit"]["followers"]["observed"] == [500, 540, 580, 620]
    assert "audience.prospects_per_day" in report["fitted"]
    from app.fitting import plain  # the page escapes Markdown in every sentence it shows

    assert any(plain(report["fit"]["words"][0]) in m.value for m in at.markdown)
    assert at.get("vega_lite_chart"), "observed vs simulated history is charted"
    at.button(key="fit_load").click().run()
    assert at.session_state["base_key"] == "fit"
    assert at.session_state["followers"] == 620


def test_fit_with_a_bad_history_explains_and_changes_nothing():
    at = open_history()
    at.file_uploader(key="import_upload").set_value(("posts.csv", archive_csv(), "text/csv")).run()
    base = at.session_state["base_key"]
    at.number_input(key="import_followers").set_value(620).run()
    bad = b"date,followers\n2024-03-01,50000\n2024-03-10,540\n"
    at.file_uploader(key="fit_history_upload").set_value(("followers.csv", bad, "text/csv")).run()
    at.button(key="fit_run").click().run()
    assert not at.exception
    assert any("order of magnitude" in p for p in at.session_state["fit_problem"])
    assert any("could not run" in e.value for e in at.error)
    assert at.session_state["base_key"] == base


def test_one_count_today_the_fit_the_sidebar_and_the_story_card_agree():
    """The count typed beside what the archive shows is the fit's count today (there is no
    second box with a default of its own), and every word on the page says that number."""
    at = open_history()
    at.file_uploader(key="import_upload").set_value(("posts.csv", archive_csv(), "text/csv")).run()
    kept = at.session_state["followers"]
    text = "\n".join(m.value for m in at.markdown)
    assert f"starts from {kept:,} (kept from before)" in text
    assert [n.key for n in at.number_input if n.label == "Your followers today"] == ["import_followers"]
    at.number_input(key="import_followers").set_value(596).run()
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown)
    assert "starts from your count today, 596" in text and "kept from before" not in text
    assert "**Your followers today:** 596" in text
    assert at.session_state["base"].audience.followers == 596  # the story card's facts
    captions = [c.value for c in at.caption]
    assert any("596 followers ·" in c for c in captions), captions
    assert any(c.value == "596 followers at the start" for c in at.sidebar.caption)
    assert [n.key for n in at.number_input if n.label == "Your followers today"] == ["import_followers"]
    history = b"date,followers\n2024-03-01,500\n2024-03-10, 540\n2024-03-20,580\n"
    at.file_uploader(key="fit_history_upload").set_value(("followers.csv", history, "text/csv")).run()
    at.select_slider(key="fit_trials").set_value(16).run()
    at.button(key="fit_run").click().run()
    assert not at.exception and not at.session_state["fit_problem"], at.session_state["fit_problem"]
    assert at.session_state["fit_result"]["fit"]["followers"]["observed"] == [500, 540, 580, 596]


def test_a_typo_in_today_s_count_names_the_box_and_a_new_archive_clears_the_old_error():
    at = open_history()
    at.file_uploader(key="import_upload").set_value(("posts.csv", archive_csv(), "text/csv")).run()
    at.number_input(key="import_followers").set_value(5_800).run()
    history = b"date,followers\n2024-03-01,500\n2024-03-20,580\n"
    at.file_uploader(key="fit_history_upload").set_value(("followers.csv", history, "text/csv")).run()
    at.button(key="fit_run").click().run()
    assert not at.exception
    problems = at.session_state["fit_problem"]
    assert any(p.startswith("“Your followers today” 5,800 (today, 2024-03-30) against 580") for p in problems), problems
    assert any("could not run" in e.value for e in at.error)
    at.file_uploader(key="import_upload").set_value(("posts2.csv", archive_csv(20), "text/csv")).run()
    assert not at.exception
    assert not at.session_state["fit_problem"]
    assert not any("could not run" in e.value for e in at.error)
