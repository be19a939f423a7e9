"""The scenario format: validation, friendly errors, YAML round trips (CONTRACTS.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coach import Habits, Scenario, ScenarioError, bundled_scenarios, dump_scenario, load_scenario, parse_scenario


def problems(text: str | bytes, source: str = "f.yaml") -> list[str]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, source)
    return info.value.problems


def test_minimal_file_gets_documented_defaults():
    s = parse_scenario("version: 1\n")
    assert s == Scenario()
    assert s.platform.name == "mastodon" and s.days == 90 and s.replicates == 30


def test_platform_preset_names_load_their_values():
    assert parse_scenario("version: 1\nplatform: x\n").platform.link_reach < 0.5
    assert parse_scenario("version: 1\nplatform: {link_reach: 0.5, ranked_feed: true}\n").platform.ranked_feed


def test_typo_names_field_path_and_suggests_the_key():
    (msg,) = problems("version: 1\nhabits:\n  posts_per_dya: 3\n")
    assert "f.yaml" in msg and "habits.posts_per_dya" in msg and "'posts_per_day'" in msg


def test_out_of_range_names_value_and_allowed_range():
    (msg,) = problems("version: 1\nhabits: {reply_rate: 1.5}\n")
    assert "habits.reply_rate" in msg and "1.5" in msg and "0 to 1" in msg


def test_wrong_type_is_not_coerced():
    (msg,) = problems("version: 1\nhabits: {posts_per_day: lots}\n")
    assert "'lots'" in msg and "a number" in msg
    (msg,) = problems("version: 1\nhabits: {link_share: yes}\n")
    assert "link_share: true is not allowed" in msg  # a YAML boolean (yes) is not a share, said in YAML's words


def test_every_problem_is_reported_once():
    found = problems("version: 1\nhabits: {reply_rate: 2, link_share: -1}\naudience: {followers: -3}\n")
    assert len(found) == 3


def test_shares_above_one_are_refused_not_clamped():
    (msg,) = problems("version: 1\nhabits: {link_share: 0.6, promo_share: 0.6, question_share: 0}\n")
    assert "1.2" in msg and "at most 1" in msg


def test_segment_shares_must_sum_to_one():
    (msg,) = problems("version: 1\naudience: {segments: [{name: a, share: 0.5}]}\n")
    assert "audience.segments" in msg and "0.5" in msg


def test_timeline_checks_day_and_merged_habits():
    assert "after the horizon" in problems("version: 1\ndays: 30\ntimeline: [{day: 40, habits: {reply_rate: 1}}]\n")[0]
    assert "day 20" in problems("version: 1\ntimeline: [{day: 20, habits: {link_share: 0.95}}]\n")[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("!!python/object/apply:os.system [echo hi]\n", "plain data only"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "binary"),
        (b"version: 1\nname: \xff\xfe\n", "UTF-8"),
        ("version: 1\nname: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "mapping"),
        ("", "empty"),
        ("version: 2\n", "version: 2"),
        ("name: no version\n", "version: missing"),
    ],
)
def test_bad_files_get_one_clear_sentence(text, expected):
    msgs = problems(text)
    assert any(expected in m for m in msgs), msgs
    assert all("Traceback" not in m for m in msgs)


def test_missing_file_and_folder(tmp_path: Path):
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "nope.yaml")
    with pytest.raises(ScenarioError, match="folder"):
        load_scenario(tmp_path)


def test_overrides_apply_before_validation():
    s = parse_scenario(
        "version: 1\n", overrides=["habits.posts_per_day=8", "habits.active_hours=[7, 23]", "platform=x"]
    )
    assert s.habits.posts_per_day == 8 and s.habits.active_hours == (7, 23) and s.platform.name == "x"
    with pytest.raises(ScenarioError, match="FIELD=VALUE"):
        parse_scenario("version: 1\n", overrides=["habits.posts_per_day"])


@pytest.mark.parametrize("path", bundled_scenarios(), ids=lambda p: p.stem)
def test_bundled_personas_validate_and_round_trip(path: Path):
    s = load_scenario(path)
    assert s.description.strip(), "every persona tells its story"
    assert parse_scenario(dump_scenario(s)) == s


def test_library_has_the_personas_the_essays_need():
    names = {p.stem for p in bundled_scenarios()}
    assert {
        "billboard",
        "conversationalist",
        "over_poster",
        "scheduled_bot",
        "news_curator",
        "ghost",
        "newcomer",
        "steady_professional",
    } <= names


shares = st.floats(0, 1, allow_nan=False).map(lambda x: round(x, 3))


@st.composite
def habits(draw) -> Habits:
    link = draw(shares)
    promo = draw(st.floats(0, 1 - link).map(lambda x: round(x, 3) if round(x, 3) + link <= 1 else 0.0))
    start = draw(st.integers(0, 23))
    end = draw(st.integers(1, 24).filter(lambda e: e % 24 != start))
    return Habits(
        posts_per_day=draw(st.floats(0, 100).map(lambda x: round(x, 2))),
        posts_per_session=draw(st.integers(1, 50)),
        link_share=link,
        promo_share=promo,
        question_share=0.0,
        reply_rate=draw(shares),
        outreach_per_day=draw(st.floats(0, 200).map(lambda x: round(x, 1))),
        active_hours=(start, end),
    )


@settings(max_examples=40, deadline=None)
@given(habits(), st.sampled_from(["x", "mastodon", "bluesky"]), st.integers(0, 10_000))
def test_dump_then_load_gives_an_equal_scenario(h, platform, followers):
    s = parse_scenario(f"version: 1\nplatform: {platform}\naudience: {{followers: {followers}}}\n").model_copy(
        update={"habits": h}
    )
    assert parse_scenario(dump_scenario(s)) == s


def test_active_hours_may_wrap_midnight():
    h = Habits(active_hours=(20, 2))
    assert h.active_hour_list == [20, 21, 22, 23, 0, 1]


def test_model_doc_lists_every_constant_with_its_default():
    from coach import ModelParams

    doc = (Path(__file__).resolve().parent.parent / "docs" / "model.md").read_text(encoding="utf-8")
    for name, field in ModelParams.model_fields.items():
        if name == "mechanisms":
            continue
        assert f"| `{name}` | {field.default:g} |" in doc, f"docs/model.md is out of date for {name}"


def test_readme_documents_every_scenario_field():
    from coach import Audience, Habits, Segment

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for prefix, model in (("habits.", Habits), ("audience.", Audience), ("audience.segments[].", Segment)):
        for name in model.model_fields:
            if f"`{prefix}{name}`" not in readme and name != "segments":
                raise AssertionError(f"README.md's scenario format lacks {prefix}{name}")
