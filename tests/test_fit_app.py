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


def with_archive(name: str = "posts.csv", data: bytes | None = None, mime: str = "text/csv") -> AppTest:
    """The Your history tab with an archive uploaded (by default a month of posts as CSV)."""
    at = open_history()
    return at.file_uploader(key="import_upload").set_value((name, archive_csv() if data is None else data, mime)).run()


def fit_with(at: AppTest, followers: int | None = None, history: bytes | None = None, trials: int | None = None):
    """Type today's count, give a history file and a number of trials (each if given), press Fit."""
    if followers is not None:
        at.number_input(key="import_followers").set_value(followers).run()
    if history is not None:
        at.file_uploader(key="fit_history_upload").set_value(("followers.csv", history, "text/csv")).run()
    if trials is not None:
        at.select_slider(key="fit_trials").set_value(trials).run()
    return at.button(key="fit_run").click().run()


def test_fit_needs_the_archive_first_and_says_nothing_leaves():
    at = open_history()
    assert not at.exception
    assert any("Upload your archive above first" in i.value for i in at.info)
    assert any("Nothing leaves this machine" in m.value and "fit runs here" in m.value for m in at.markdown)


def test_fit_runs_shows_the_report_and_loads_the_fitted_scenario():
    history = b"date,followers\n2024-03-01,500\n2024-03-10, 540\n2024-03-20,580\n"
    at = fit_with(with_archive(), 620, history, trials=16)
    assert not at.exception
    assert not at.session_state["fit_problem"], at.session_state["fit_problem"]
    report = at.session_state["fit_result"]
    assert report["fit"]["followers"]["observed"] == [500, 540, 580, 620]
    assert "audience.prospects_per_day" in report["fitted"]
    from app.text import safe  # the page escapes Markdown in every sentence it shows

    assert any(safe(report["fit"]["words"][0]) in m.value for m in at.markdown)
    assert at.get("vega_lite_chart"), "observed vs simulated history is charted"
    at.button(key="fit_load").click().run()
    assert at.session_state["base_key"] == "fit"
    assert at.session_state["followers"] == 620


def test_fit_with_a_bad_history_explains_and_changes_nothing():
    at = with_archive()
    base = at.session_state["base_key"]
    fit_with(at, 620, b"date,followers\n2024-03-01,50000\n2024-03-10,540\n")
    assert not at.exception
    assert any("order of magnitude" in p for p in at.session_state["fit_problem"])
    assert any("could not run" in e.value for e in at.error)
    assert at.session_state["base_key"] == base


def test_one_count_today_the_fit_the_sidebar_and_the_story_card_agree():
    """The count typed beside what the archive shows is the fit's count today (there is no
    second box with a default of its own), and every word on the page says that number."""
    at = with_archive()
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
    fit_with(at, history=b"date,followers\n2024-03-01,500\n2024-03-10, 540\n2024-03-20,580\n", trials=16)
    assert not at.exception and not at.session_state["fit_problem"], at.session_state["fit_problem"]
    assert at.session_state["fit_result"]["fit"]["followers"]["observed"] == [500, 540, 580, 596]


def test_a_typo_in_today_s_count_names_the_box_and_a_new_archive_clears_the_old_error():
    at = fit_with(with_archive(), 5_800, b"date,followers\n2024-03-01,500\n2024-03-20,580\n")
    assert not at.exception
    problems = at.session_state["fit_problem"]
    assert any(p.startswith("“Your followers today” 5,800 (today, 2024-03-30) against 580") for p in problems), problems
    assert any("could not run" in e.value for e in at.error)
    at.file_uploader(key="import_upload").set_value(("posts2.csv", archive_csv(20), "text/csv")).run()
    assert not at.exception
    assert not at.session_state["fit_problem"]
    assert not any("could not run" in e.value for e in at.error)


# ---- the report in the page's words (paths, flags, the chart, the engagement table) --------


def test_the_fit_s_paths_read_as_words_on_the_page_and_the_cli_keeps_them():
    from app.fitting import app_words, field_label

    assert field_label("audience.prospects_per_day") == "people who come across you per day (prospects_per_day)"
    assert field_label("audience.segments[0].churn_per_month") == (
        "share of followers who drift away per month (churn_per_month)"
    )
    # with two parts of the crowd: which part, and that attention and churn are one value for both
    assert field_label("audience.segments[1].link_appetite", 2).endswith(", the rest (link_appetite)")
    assert "both parts" in field_label("audience.segments[0].attention", 2)
    assert field_label("habits.follow_back_rate") == "follow-back rate"
    sentence = (
        "audience.prospects_per_day (people who come across you per day) is not pinned down by your data: "
        "anything from 4.15 to 246 fits about as well."
    )
    assert app_words(sentence) == (
        "People who come across you per day (prospects_per_day) is not pinned down by your data: "
        "anything from 4.15 to 246 fits about as well."
    )
    flags = "Give a follower history with two or more dates (--history, or typed-in counts in the app)"
    assert app_words(flags).endswith("(the follower history file or typed-in counts)")
    assert app_words("Assumed: a and the rest (see coach fit --format json).").count("coach fit") == 0


def test_one_count_and_no_engagement_the_error_speaks_of_the_page_not_of_flags():
    at = fit_with(with_archive(), 620)
    assert not at.exception
    assert any("nothing to fit" in p for p in at.session_state["fit_problem"])  # the CLI's words, kept
    shown = "\n".join(t.value for t in at.text)
    assert "Nothing to fit" in shown and "the follower history file or typed-in counts" in shown
    assert "--history" not in shown


def x_fit() -> AppTest:
    """The fit of a synthetic X account (likes and reposts per post by kind) with its history, loaded."""
    from coach.fit.synthetic import START, synthetic_account
    from tests.test_fit import TRUTH, _x_zip

    account = synthetic_account(TRUTH, followers=400, days=90, seed=4242)
    rows = "\n".join(f"{d.isoformat()},{n}" for d, n in account.history if (d - START).days <= 56)
    at = with_archive("x.zip", _x_zip(account, 60), "application/zip")
    fit_with(at, 596, ("date,followers\n" + rows + "\n").encode(), trials=16)
    assert not at.exception and not at.session_state["fit_problem"], at.session_state["fit_problem"]
    return at


def test_the_x_fit_report_names_values_in_words_and_agrees_with_its_engagement_table():
    from app.fitting import CHART_WORDS

    at = x_fit()
    report = at.session_state["fit_result"]
    assert "audience.prospects_per_day" in report["fitted"]  # the JSON keeps the paths (CONTRACTS.md)
    bullets = [m.value for m in at.markdown if m.value.startswith("- ")]
    assumed = next(m.value for m in at.markdown if m.value.startswith("**Assumed (not fitted):**"))
    for text in [*bullets, assumed]:
        assert "audience" not in text and "habits\\." not in text and "segments\\[" not in text, text
    assert "people who could ever follow you \\(reachable\\)" in assumed
    assert "your habits as set in the sidebar for" in assumed and "follow\\-back rate" in assumed
    fitted, engagement = at.dataframe[-2].value, at.dataframe[-1].value
    assert list(fitted["value"])[:3] == [
        "people who come across you per day (prospects_per_day)",
        "share of followers who drift away per month (churn_per_month)",
        "chance a follower who is online sees a post (attention)",
    ]
    # The sentence names the kinds outside the model's 10-90% range; the table marks the same rows.
    marked = {row["kind"]: row["yours inside 10–90%"] for row in engagement.to_dict("records")}
    for row in engagement.to_dict("records"):
        inside = row["from"] <= row["yours"] <= row["to"]
        assert marked[row["kind"]] == ("yes" if inside else "no: above" if row["yours"] > row["to"] else "no: below")
    sentence = next(w for w in report["fit"]["words"] if w.startswith("Engagement per post"))
    assert "within 30% of the model's median" in sentence
    outside = [k for k, v in marked.items() if v != "yes"]
    if outside:
        assert f"outside the model's 10-90% range for {', '.join(outside)}" in sentence
    else:
        assert "every one inside the model's 10-90% range" in sentence
    assert any(c.value == CHART_WORDS for c in at.caption)

    at.button(key="fit_load").click().run()
    story = at.session_state["base"].description
    assert "coach fit" not in story and "audience." not in story and "segments[" not in story, story
    assert "people who come across you per day (prospects_per_day)" in story.lower()
    at.session_state["tab"] = "Predictions"
    at.run()
    text = "\n".join(m.value for m in at.markdown)
    assert "these are your fitted account's own habits" in text
    assert "the reference “" not in text


def test_the_fit_chart_has_a_legend_for_every_mark_an_axis_around_the_data_and_a_forecast_from_today():
    from app.fitting import AHEAD, FITTED, YOURS, _history_chart

    report = {
        "fit": {
            "followers": {"date": ["2025-01-01", "2025-01-11"], "observed": [400, 596]},
            "history": {
                "date": [f"2025-01-{d:02d}" for d in range(1, 12)],
                "median": [400 + 11 * k for k in range(11)],
                "p10": [400 + 9 * k for k in range(11)],
                "p90": [400 + 13 * k for k in range(11)],
            },
            "forecast": {"day": [1, 2], "date": ["2025-01-12", "2025-01-13"], "median": [600, 604],
                         "p10": [598, 600], "p90": [602, 608]},
        }
    }  # fmt: skip
    spec = _history_chart(report).to_dict()
    layers = spec["layer"]
    scale = layers[0]["encoding"]["color"]["scale"]
    assert scale["domain"] == [YOURS, FITTED, AHEAD] and scale["range"][0] == "black"
    assert all(layer["encoding"]["color"]["field"] == "part" for layer in layers)  # the dots are in the legend
    y = layers[0]["encoding"]["y"]["scale"]
    assert y["zero"] is False and 350 < y["domain"][0] < 400 and 608 < y["domain"][1] < 650
    rows = [r for data in spec["datasets"].values() for r in data]
    ahead = [r for r in rows if r["part"] == AHEAD]
    assert ahead[0]["date"].startswith("2025-01-11") and ahead[0]["median"] == ahead[0]["p10"] == 596


def test_an_imported_reference_is_named_as_your_own_habits_on_predictions():
    at = with_archive()
    assert at.session_state["base_key"] == "import"
    at.session_state["tab"] = "Predictions"
    text = "\n".join(m.value for m in at.run().markdown)
    assert "these are your own habits (imported); move a slider" in text
    assert "you (imported) “you”" not in text
