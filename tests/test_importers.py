"""Importing your own posting history (issue 5): readers, derived habits, CLI, broken files.

Every export here is built by tests/importer_fixtures.py in the platform's own format, from
a list of truths; expected numbers are counted from those truths (``expected``), never taken
from the importer.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import subprocess
import sys
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from importer_fixtures import (
    ACCOUNT_ID,
    ACTOR,
    BOB_DID,
    ME_DID,
    STANDARD,
    STANDARD_SITTINGS,
    Truth,
    bluesky_car,
    bluesky_records,
    csv_history,
    expected,
    mastodon_archive,
    mastodon_items,
    mastodon_outbox,
    spread,
    t,
    tar_gz,
    write_folder,
    x_archive,
    x_real_shape,
    x_tweets,
    x_tweets_js,
    ytd,
    zip_bytes,
)

import coach.importers as importers
from coach.cli import main
from coach.importers import ArchiveError, archive, import_history, mastodon, stream, x, xfast
from coach.importers.derive import (
    ORIGINAL,
    REPLY,
    REPOST,
    SELF_REPLY,
    History,
    Post,
    active_window,
    derive,
    has_question,
)
from coach.scenario import Audience, Habits, Scenario, Segment, dump_scenario, parse_scenario

ASSUMED = {
    "promo_share",
    "reply_rate",
    "reply_delay_hours",
    "follow_back_rate",
    "minutes_per_post",
    "minutes_per_reply",
}

# One export of the same truths per format: (label, filename, bytes).
EXPORTS = {
    "x": ("twitter.zip", lambda truths: zip_bytes(x_archive(truths))),
    "mastodon": ("archive.zip", lambda truths: zip_bytes(mastodon_archive(truths))),
    "bluesky": ("repo.car", bluesky_car),
    "csv": ("history.csv", csv_history),
}


def check_against_truths(result, truths, tz="UTC", since=None, platform=None):
    want = expected(truths, tz, since, dms=platform == "mastodon")
    ev, habits = result.evidence, result.habits
    for key in ("posts", "originals", "replies", "reposts", "days"):
        assert ev[key] == want[key], key
    assert habits["posts_per_day"] == pytest.approx(want["posts_per_day"], abs=1e-3)
    assert habits["outreach_per_day"] == pytest.approx(want["outreach_per_day"], abs=1e-3)
    assert habits["link_share"] == pytest.approx(want["link_share"], abs=1e-3)
    assert habits["question_share"] == pytest.approx(want["question_share"], abs=1e-3)
    assert ev["link_share"] == pytest.approx(want["link_share"])  # exact values in evidence
    assert datetime.fromisoformat(ev["first"]) == want["first"]
    assert datetime.fromisoformat(ev["last"]) == want["last"]
    assert set(result.assumed) == ASSUMED
    Habits(**habits)


# --------------------------------------------------------------------------------------
# The same truths through every format
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", list(EXPORTS))
def test_every_format_finds_the_same_habits(platform):
    filename, build = EXPORTS[platform]
    result = import_history(build(STANDARD), filename=filename)
    assert result.platform == platform
    check_against_truths(result, STANDARD, platform=platform)
    # Sittings: the fixture's originals form five runs with gaps of at most 30 minutes.
    assert result.evidence["sittings"] == STANDARD_SITTINGS
    originals = expected(STANDARD)["originals"]
    assert result.evidence["posts_per_session_mean"] == pytest.approx(originals / STANDARD_SITTINGS)
    # kept as the mean sitting size (the engine takes any number >= 1), to two decimals
    assert result.habits["posts_per_session"] == pytest.approx(originals / STANDARD_SITTINGS, abs=0.005)
    assert result.habits["posts_per_session"] == round(result.habits["posts_per_session"], 2)
    # Authored posts fall in hours 8, 9, 12, 13, 20 and 23 UTC: 90% of 9 needs all of them.
    assert result.habits["active_hours"] == [8, 24]
    if platform != "csv":  # a CSV cannot say a reply was to yourself
        assert result.evidence["self_replies"] == expected(STANDARD)["self_replies"]


@pytest.mark.parametrize("platform", list(EXPORTS))
def test_time_zone_moves_hours_and_days(platform):
    filename, build = EXPORTS[platform]
    result = import_history(build(STANDARD), filename=filename, tz="Asia/Tokyo")
    check_against_truths(result, STANDARD, tz="Asia/Tokyo", platform=platform)
    # +9 h: 23:30 UTC on the 7th is 08:30 on the 8th (five days), and the authored hours
    # 17, 18, 21, 22, 5 and 8 are all held by the wrapping window [17, 9).
    assert result.evidence["days"] == 5
    assert result.habits["active_hours"] == [17, 9]
    assert result.evidence["tz"] == "Asia/Tokyo"


@pytest.mark.parametrize("platform", list(EXPORTS))
def test_since_drops_earlier_posts_and_starts_the_window_there(platform):
    filename, build = EXPORTS[platform]
    since = date(2024, 3, 5)
    result = import_history(build(STANDARD), filename=filename, since=since)
    check_against_truths(result, STANDARD, since=since, platform=platform)
    dropped = sum(1 for x in STANDARD if x.kind != "dm" and x.time.date() < since)
    assert result.evidence["excluded"]["before_since"] == dropped
    assert result.evidence["days"] == 3  # the 5th to the 7th


def test_since_after_the_last_post_is_a_clear_error():
    with pytest.raises(ArchiveError, match=r"no posts on or after 2025-01-01.*2024-03-04 to 2024-03-07"):
        import_history(csv_history(STANDARD), filename="h.csv", since=date(2025, 1, 1))


# --------------------------------------------------------------------------------------
# X
# --------------------------------------------------------------------------------------


def test_x_zip_folder_and_tweets_js_alone_agree(tmp_path):
    files = x_archive(STANDARD)
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    write_folder(tmp_path / "unpacked", files)
    from_zip = import_history(tmp_path / "a.zip")
    from_folder = import_history(tmp_path / "unpacked")
    from_data_folder = import_history(str(tmp_path / "unpacked" / "data"))
    alone = import_history(tmp_path / "unpacked" / "data" / "tweets.js")
    for result in (from_zip, from_folder, from_data_folder, alone):
        check_against_truths(result, STANDARD)
        assert result.habits == from_zip.habits
    assert "data/account.js" in from_zip.evidence["files"]
    assert "data/tweets_media/1-photo.jpg" not in from_zip.evidence["files"]  # only what is needed is read
    # Without account.js the thread is still recognised: its parent tweet is in the archive.
    assert alone.evidence["self_replies"] == 1
    assert any("account.js" in note for note in alone.evidence["notes"])


def test_x_older_tweet_js_name_is_read():
    files = x_archive(STANDARD)
    body = files.pop("data/tweets.js").split(b"=", 1)[1]
    files["data/tweet.js"] = b"window.YTD.tweet.part0 =" + body
    check_against_truths(import_history(zip_bytes(files), filename="old.zip"), STANDARD)


def test_x_split_parts_are_all_read():
    result = import_history(zip_bytes(x_archive(STANDARD, parts=3)), filename="split.zip")
    check_against_truths(result, STANDARD)
    assert {"data/tweets.js", "data/tweets-part1.js", "data/tweets-part2.js"} <= set(result.evidence["files"])


def test_x_self_reply_by_account_id_when_parent_not_in_archive():
    truths = [Truth(t(4, 9), "original"), Truth(t(4, 10), "self_reply")]
    files = x_archive(truths)
    tweets = json.loads(files["data/tweets.js"].split(b"=", 1)[1])
    tweets[1]["tweet"]["in_reply_to_status_id_str"] = "1"  # a deleted tweet of ours
    files["data/tweets.js"] = ytd("tweets", tweets)
    result = import_history(zip_bytes(files), filename="x.zip")
    assert (result.evidence["self_replies"], result.evidence["replies"]) == (1, 0)
    files.pop("data/account.js")  # ... and without account.js it is a reply to someone
    result = import_history(zip_bytes(files), filename="x.zip")
    assert (result.evidence["self_replies"], result.evidence["replies"]) == (0, 1)


def test_x_reposts_never_count_their_links_or_questions():
    truths = [Truth(t(4, 9), "original"), Truth(t(4, 10), "repost", link="external", question=True)]
    result = import_history(zip_bytes(x_archive(truths)), filename="x.zip")
    assert result.evidence["reposts"] == 1
    assert result.habits["link_share"] == 0 and result.habits["question_share"] == 0


@pytest.mark.parametrize("with_tweet_id", [True, False])
def test_x_note_tweet_supplies_long_text_and_links(with_tweet_id):
    truths = [Truth(t(4, 9), "original"), Truth(t(4, 12), "original")]
    files = x_archive(truths)
    tweets = json.loads(files["data/tweets.js"].split(b"=", 1)[1])
    long_post = tweets[0]["tweet"]
    note = {
        "noteTweetId": "99",
        "createdAt": "2024-03-04T09:00:00.000Z",
        "core": {"text": "A long post. Agree?", "urls": [{"expandedUrl": "https://example.org/essay"}]},
    }
    if with_tweet_id:  # the other shape seen in the wild
        note = {
            "noteTweetId": "99",
            "tweetId": long_post["id_str"],
            "noteTweetResults": {"text": note["core"]["text"], "entitySet": {"urls": note["core"]["urls"]}},
        }
    files["data/note-tweet.js"] = ytd("note_tweet", [{"noteTweet": note}])
    result = import_history(zip_bytes(files), filename="x.zip")
    assert result.evidence["link_posts"] == 1 and result.evidence["question_posts"] == 1


def test_x_best_hours_from_engagement_counts():
    day = t(4, 0)
    truths = (
        [Truth(day + timedelta(days=k, hours=9), "original", likes=10) for k in range(4)]
        + [Truth(day + timedelta(days=k, hours=15), "original", likes=40, shares=10) for k in range(3)]
        + [Truth(day + timedelta(days=k, hours=20), "original") for k in range(3)]  # no engagement
        + [Truth(day + timedelta(days=k, hours=7), "original", likes=1000) for k in range(2)]  # too few posts
    )
    result = import_history(zip_bytes(x_archive(truths)), filename="x.zip")
    assert result.best_hours == [15, 9]
    assert result.to_dict()["best_hours"] == [15, 9]
    shifted = import_history(
        zip_bytes(x_archive(truths)), filename="x.zip", tz="America/New_York"
    )  # UTC-5 until 10 March 2024
    assert shifted.best_hours == [10, 4]
    assert import_history(csv_history(truths), filename="h.csv").best_hours is None  # no counts in a CSV


def test_each_post_carries_its_like_and_repost_counts_where_the_export_has_them():
    truths = [
        Truth(t(4, 9), "original", likes=12, shares=3),
        Truth(t(4, 10), "original", link="external", likes=0, shares=0),
        Truth(t(4, 11), "reply", likes=5, shares=1),
    ]
    history = importers.read_history(zip_bytes(x_archive(truths)), filename="x.zip")
    counts = sorted((p.time, p.kind, p.likes, p.reposts, p.engagement) for p in history.posts)
    assert counts == [
        (t(4, 9), ORIGINAL, 12, 3, 15),
        (t(4, 10), ORIGINAL, 0, 0, 0),
        (t(4, 11), REPLY, 5, 1, 6),
    ]
    for label, build in (("archive.zip", lambda x: zip_bytes(mastodon_archive(x))), ("repo.car", bluesky_car)):
        others = importers.read_history(build(truths), filename=label).posts
        assert len(others) == 3 and all(p.likes is None and p.reposts is None for p in others), label


# --------------------------------------------------------------------------------------
# Mastodon
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("duplicate", ["empty_first", "empty_last", None])
def test_mastodon_duplicate_ordered_items_key_keeps_the_list(duplicate):
    raw = mastodon_outbox(STANDARD, duplicate_key=duplicate)
    if duplicate:
        assert raw.count(b'"orderedItems"') == 2
    result = import_history(raw, filename="outbox.json")
    check_against_truths(result, STANDARD, platform="mastodon")


def test_mastodon_direct_messages_are_excluded_but_followers_only_posts_count():
    truths = [Truth(t(4, 9 + k), "original") for k in range(3)] + [Truth(t(4, 13), "dm"), Truth(t(4, 14), "dm")]
    items = mastodon_items(truths)
    audiences = [(item["to"], item["cc"]) for item in items]
    assert ([f"{ACTOR}/followers"], []) in audiences  # the fixture really has a followers-only post
    result = import_history(mastodon_outbox(truths), filename="outbox.json")
    assert result.evidence["originals"] == 3
    assert result.evidence["excluded"]["direct_messages"] == 2


def test_mastodon_mentions_hashtags_and_post_links_are_not_links():
    truths = [
        Truth(t(4, 9), "original", mention=True, hashtag=True),
        Truth(t(4, 10), "original", link="quote", url_query=True),
        Truth(t(4, 11), "original", link="external"),
    ]
    items = mastodon_items(truths)
    quote_line = (
        '<p class="quote-inline">RE: <a href="https://elsewhere.example/notes/9z">elsewhere.example/notes/9z</a></p>'
    )
    items[0]["object"]["content"] = quote_line + items[0]["object"]["content"]
    result = import_history(mastodon_outbox(truths, items=items), filename="outbox.json")
    assert result.evidence["link_posts"] == 1
    assert result.evidence["question_posts"] == 0  # "?utm=1" sits inside a URL


def test_mastodon_poll_counts_as_a_question_and_boosts_as_reposts():
    truths = [Truth(t(4, 9), "original"), Truth(t(4, 10), "repost"), Truth(t(4, 11), "repost")]
    items = mastodon_items(truths)
    items[0]["object"]["type"] = "Question"
    items[0]["object"]["oneOf"] = [{"type": "Note", "name": "tea"}, {"type": "Note", "name": "coffee"}]
    result = import_history(mastodon_outbox(truths, items=items), filename="outbox.json")
    assert result.evidence["question_posts"] == 1
    assert result.evidence["reposts"] == 2


def test_mastodon_posts_without_addressing_are_not_taken_for_direct_messages():
    truths = [Truth(t(4, 9), "original"), Truth(t(4, 10), "original")]
    items = mastodon_items(truths)
    for item in items:  # some servers' exports carry no to/cc at all
        for holder in (item, item["object"]):
            holder.pop("to"), holder.pop("cc")
    result = import_history(mastodon_outbox(truths, items=items), filename="outbox.json")
    assert result.evidence["originals"] == 2
    assert "direct_messages" not in result.evidence["excluded"]


def test_mastodon_outbox_alone_and_in_a_folder(tmp_path):
    write_folder(tmp_path / "export", mastodon_archive(STANDARD))
    check_against_truths(import_history(tmp_path / "export"), STANDARD, platform="mastodon")
    check_against_truths(import_history(tmp_path / "export" / "outbox.json"), STANDARD, platform="mastodon")


# --------------------------------------------------------------------------------------
# Bluesky
# --------------------------------------------------------------------------------------


def test_bluesky_ignores_other_collections_and_reads_the_did_from_the_commit():
    result = import_history(bluesky_car(STANDARD), filename="repo.car")
    check_against_truths(result, STANDARD)
    assert result.evidence["self_replies"] == 1
    assert result.evidence["notes"] == []


def test_bluesky_without_a_commit_counts_every_reply_as_to_others():
    result = import_history(bluesky_car(STANDARD, did=None), filename="repo.car")
    want = expected(STANDARD)
    assert result.evidence["self_replies"] == 0
    assert result.evidence["replies"] == want["replies"] + want["self_replies"]
    assert any("DID" in note for note in result.evidence["notes"])


def test_bluesky_quote_embeds_and_bsky_links_are_not_external():
    truths = [Truth(t(4, 9), "original", link="quote", url_query=True), Truth(t(4, 10), "original", link="external")]
    records = bluesky_records(truths)
    records[1]["embed"] = {"$type": "app.bsky.embed.recordWithMedia", "record": {"record": {"uri": "at://x", "cid": "y"}},
                           "media": {"$type": "app.bsky.embed.external", "external": {"uri": "https://news.example/a", "title": "", "description": ""}}}  # fmt: skip
    records[1].pop("facets", None)
    result = import_history(bluesky_car(truths, records=records), filename="repo.car")
    assert result.evidence["link_posts"] == 1
    assert result.evidence["question_posts"] == 0


def test_bluesky_bad_created_at_is_reported_not_fatal():
    records = bluesky_records(STANDARD)
    records.append({"$type": "app.bsky.feed.post", "text": "when?", "createdAt": "yesterday"})
    result = import_history(bluesky_car(STANDARD, records=records), filename="repo.car")
    assert result.evidence["excluded"]["unreadable"] == 1
    check_against_truths(result, STANDARD)


# --------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------


def test_csv_naive_times_are_local_and_links_come_from_text_without_a_column():
    data = b"text,timestamp\nhello https://example.com/x,2024-03-04 23:30\nanyone?,2024-03-05 08:00\n"
    result = import_history(data, filename="mine.csv", tz="Europe/Berlin")
    assert result.evidence["first"] == "2024-03-04T23:30:00+01:00"
    assert result.evidence["link_posts"] == 1 and result.evidence["question_posts"] == 1
    assert result.evidence["days"] == 2


def test_csv_bad_rows_are_named_by_line():
    data = b"timestamp,is_reply,has_link,text\n2024-03-04T09:00:00Z,maybe,no,hi\n2024-03-04T10:00:00Z,no,no,ok\nnot a time,no,no,x\n"
    with pytest.raises(ArchiveError) as info:
        import_history(data, filename="mine.csv")
    message = info.value.message
    assert message.startswith("mine.csv: 2 bad rows")
    assert "line 2: is_reply 'maybe'" in message and "line 4: timestamp 'not a time'" in message


def test_csv_without_timestamp_column():
    with pytest.raises(ArchiveError, match=r"mine.csv: the first line must name the columns timestamp"):
        import_history(b"when,text\n2024-01-01,hi\n", filename="mine.csv")


# --------------------------------------------------------------------------------------
# Caps and adjustments are explicit
# --------------------------------------------------------------------------------------


def test_values_above_habits_bounds_are_capped_with_a_warning():
    times = spread(t(4, 0), 150, 5)  # 150 originals 5 minutes apart: one sitting, one day... almost
    data = (
        "timestamp,is_reply,has_link,text\n" + "".join(f"{x.isoformat()},no,no,post\n" for x in times[:150])
    ).encode()
    result = import_history(data, filename="bot.csv")
    days = result.evidence["days"]
    assert result.evidence["posts_per_day"] == pytest.approx(150 / days)
    if 150 / days > 100:
        assert result.habits["posts_per_day"] == 100
        assert any("posts_per_day" in w and "capped" in w for w in result.warnings)
    assert result.evidence["posts_per_session_mean"] == 150
    assert result.habits["posts_per_session"] == 50
    assert any("posts_per_session" in w and "capped at 50" in w for w in result.warnings)
    scenario = result.to_scenario()
    assert "capped" in scenario.description


def test_shares_that_cannot_fit_are_lowered_with_a_warning():
    truths = [Truth(t(4, 9 + k), "original", link="external", question=True) for k in range(4)]
    result = import_history(csv_history(truths), filename="h.csv")
    assert result.evidence["link_share"] == 1 and result.evidence["question_share"] == 1
    assert result.habits["link_share"] == 1 and result.habits["question_share"] == 0
    assert len(result.warnings) == 2  # question_share lowered; default promo_share does not fit
    scenario = result.to_scenario()
    assert scenario.habits.promo_share == 0
    assert "question_share lowered" in scenario.description


def test_only_replies_leaves_post_shares_assumed():
    truths = [Truth(t(4, 9), "reply"), Truth(t(5, 9), "reply")]
    result = import_history(csv_history(truths), filename="h.csv")
    assert result.habits["posts_per_day"] == 0
    assert result.habits["outreach_per_day"] == 1
    assert {"link_share", "question_share", "posts_per_session"} <= set(result.assumed)
    result.to_scenario()


# --------------------------------------------------------------------------------------
# to_scenario, to_dict
# --------------------------------------------------------------------------------------


def test_to_scenario_keeps_the_base_but_replaces_derived_habits():
    base = Scenario(
        name="Mine",
        platform="x",
        habits=Habits(reply_rate=0.9, posts_per_day=30),
        audience=Audience(followers=1234, segments=(Segment(name="peers", share=1.0),)),
        days=60,
    )
    result = import_history(zip_bytes(mastodon_archive(STANDARD)), filename="m.zip")
    scenario = result.to_scenario(base)
    assert scenario.platform.name == "x"  # the base's platform, not the archive's
    assert scenario.audience == base.audience and scenario.days == 60
    assert scenario.habits.reply_rate == 0.9  # assumed habits come from the base
    assert scenario.habits.posts_per_day == result.habits["posts_per_day"]
    assert scenario.name == "My habits (mastodon archive)"
    assert "kept from 'Mine'" in scenario.description


def test_base_promo_share_gives_way_only_when_needed():
    truths = [Truth(t(4, 9 + k), "original", link="external" if k < 3 else None, question=k >= 2) for k in range(4)]
    result = import_history(csv_history(truths), filename="h.csv")  # link 0.75, question 0.5: over 1
    assert result.habits["link_share"] == 0.75 and result.habits["question_share"] == 0.25
    roomy = result.to_scenario(Scenario(name="Base", habits=Habits(link_share=0, question_share=0, promo_share=0)))
    assert roomy.habits.promo_share == 0 and "promo_share lowered" not in roomy.description
    crowded = result.to_scenario(Scenario(name="Base", habits=Habits(link_share=0, question_share=0, promo_share=0.4)))
    assert crowded.habits.promo_share == 0
    assert "promo_share lowered from 0.4 to 0" in crowded.description


@pytest.mark.parametrize("platform", list(EXPORTS))
def test_scenario_yaml_round_trips(platform):
    filename, build = EXPORTS[platform]
    scenario = import_history(build(STANDARD), filename=filename).to_scenario()
    assert parse_scenario(dump_scenario(scenario)) == scenario
    assert scenario.platform.name == ("mastodon" if platform == "csv" else platform)  # a CSV keeps the default
    for field in ("posts_per_day", "link_share", "question_share", "outreach_per_day", "active_hours", "promo_share"):
        assert field in scenario.description


def test_to_dict_is_json_with_the_promised_keys():
    data = json.loads(json.dumps(import_history(bluesky_car(STANDARD), filename="repo.car").to_dict()))
    assert set(data) >= {"habits", "evidence", "assumed", "best_hours"}
    assert set(data["evidence"]) >= {"platform", "posts", "originals", "replies", "reposts", "first", "last", "days"}


def test_nothing_identifying_is_kept():
    data = json.dumps(import_history(zip_bytes(mastodon_archive(STANDARD)), filename="m.zip").to_dict())
    assert "what do you think" not in data and "masto.example" not in data and "bob" not in data


# --------------------------------------------------------------------------------------
# Broken, empty and hostile input: one clear ArchiveError, naming the file
# --------------------------------------------------------------------------------------


def _tweets_zip(tweets_js: bytes) -> bytes:
    return zip_bytes(
        {"data/tweets.js": tweets_js, "data/account.js": ytd("account", [{"account": {"accountId": "1"}}])}
    )


BROKEN = {
    "empty": (b"", "upload.zip", "the file is empty"),
    "whitespace": (b" \n\t", "x.json", "the file is empty"),
    "random binary": (bytes(range(256)) * 4, "blob.bin", "binary data of an unknown kind"),
    "plain text": (b"hello world\n", "notes.md", "not a known export format"),
    "truncated zip": (zip_bytes(x_archive(STANDARD))[:300], "twitter.zip", "truncated or corrupt"),
    "zip without posts": (zip_bytes({"readme.txt": b"hi", "photo.jpg": b"\xff"}), "other.zip", "no posts file found"),
    "X without tweets.js": (
        zip_bytes({"data/account.js": b"window.YTD.account.part0 = []"}),
        "x.zip",
        "a valid X archive, but it holds no posts",
    ),
    "X no tweets": (_tweets_zip(b"window.YTD.tweets.part0 = []"), "x.zip", "no posts found in this X export"),
    "X cut off": (
        _tweets_zip(x_archive(STANDARD)["data/tweets.js"][:-200]),
        "x.zip",
        r"x.zip \(data/tweets.js\): the data is cut off",
    ),
    "X account.js alone": (
        b'window.YTD.account.part0 = [{"account": {}}]',
        "account.js",
        "'account' file, not the posts",
    ),
    "X not YTD": (b"var tweets = [];", "tweets.js", "should start with `window.YTD.tweets.part0"),
    "Mastodon cut off": (mastodon_outbox(STANDARD)[:-50], "outbox.json", "outbox.json: the data is cut off"),
    "JSON not outbox": (b'{"a": 1}', "outbox.json", "not a Mastodon outbox"),
    "Mastodon no posts": (
        mastodon_outbox([], duplicate_key=None),
        "outbox.json",
        "no posts found in this Mastodon export",
    ),
    "Mastodon only DMs": (mastodon_outbox([Truth(t(4, 9), "dm")]), "outbox.json", "no posts found"),
    "CAR cut off": (bluesky_car(STANDARD)[:-40], "repo.car", "repo.car: not a readable Bluesky repository export"),
    "CAR garbage": (b"\x0a" + b"\xff" * 40, "repo.car", "not a readable Bluesky repository export"),
    "CAR without posts": (bluesky_car([]), "repo.car", "no posts found in this Bluesky export"),
    "CSV header only": (b"timestamp,is_reply,has_link,text\n", "h.csv", "no posts found in this CSV export"),
    "CSV not UTF-8": (b"timestamp,text\n2024-01-01,\xff\xfe\n", "h.csv", "not UTF-8 text"),
    "broken gzip": (b"\x1f\x8b\x08\x00" + b"\x00" * 20, "archive.tar.gz", "not a readable .tar.gz archive"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_input_gives_one_clear_message(case):
    data, filename, wanted = BROKEN[case]
    with pytest.raises(ArchiveError) as info:
        import_history(data, filename=filename)
    assert info.value.message.startswith(filename)
    assert info.value.message == str(info.value)
    assert __import__("re").search(wanted, info.value.message), info.value.message
    assert isinstance(info.value, ValueError)


def test_corrupt_zip_member_is_reported():
    raw = bytearray(zip_bytes(x_archive(STANDARD)))
    info = zipfile.ZipFile(__import__("io").BytesIO(bytes(raw))).getinfo("data/tweets.js")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for k in range(start + 20, start + 60):  # scribble over the deflated data
        raw[k] ^= 0x5A
    with pytest.raises(ArchiveError, match=r"twitter.zip( \(data/tweets.js\))?: .*(corrupt|cut off)"):
        import_history(bytes(raw), filename="twitter.zip")


def test_missing_path_and_empty_folder(tmp_path):
    with pytest.raises(ArchiveError, match="no such file or folder"):
        import_history(tmp_path / "nope.zip")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArchiveError, match="holds no files"):
        import_history(tmp_path / "empty")


def test_unknown_time_zone_is_a_value_error():
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        import_history(csv_history(STANDARD), filename="h.csv", tz="Mars/Olympus")


def test_zip_bomb_is_refused_for_its_packing_ratio_before_unpacking(tmp_path):
    # 5 MB of spaces pack into ~5 kB (1,000x); real JSON packs 5-20x.
    bomb = b"window.YTD.tweets.part0 = [" + b" " * 5_000_000 + b"]"
    data = zip_bytes({"data/tweets.js": bomb})
    assert len(data) < 20_000
    with pytest.raises(ArchiveError, match=r"bomb.zip \(data/tweets.js\): unpacks to 5,000,028 bytes .* zip bomb"):
        import_history(data, filename="bomb.zip")
    (tmp_path / "bomb.zip").write_bytes(data)
    with pytest.raises(ArchiveError, match="refused as a zip bomb"):
        import_history(tmp_path / "bomb.zip")


def test_a_posts_file_stops_at_the_byte_cap(monkeypatch, tmp_path):
    tweets = x_archive(STANDARD)["data/tweets.js"]
    monkeypatch.setattr(archive, "MAX_FILE_BYTES", len(tweets) - 1)
    stored = zip_bytes({"data/tweets.js": tweets}, compression=zipfile.ZIP_STORED)
    with pytest.raises(ArchiveError, match=rf"x.zip \(data/tweets.js\): more than {len(tweets) - 1:,} bytes"):
        import_history(stored, filename="x.zip")
    (tmp_path / "tweets.js").write_bytes(tweets)  # a plain file is streamed under the same cap
    with pytest.raises(ArchiveError, match=rf"tweets.js: more than {len(tweets) - 1:,} bytes"):
        import_history(tmp_path / "tweets.js")
    monkeypatch.setattr(archive, "MAX_FILE_BYTES", len(tweets))
    assert import_history(stored, filename="x.zip").evidence["posts"] == expected(STANDARD)["posts"]


def test_a_member_whose_header_understates_its_size_is_not_read_past_it():
    tweets = x_archive(STANDARD)["data/tweets.js"]
    raw = bytearray(zip_bytes({"data/tweets.js": tweets}))
    # Rewrite the declared size (central directory and local header) to 100 bytes.
    for at in (raw.rfind(b"PK\x01\x02") + 24, 22):
        raw[at : at + 4] = (100).to_bytes(4, "little")
    with pytest.raises(ArchiveError, match=r"x.zip \(data/tweets.js\): (cannot be unpacked|the data is cut off)"):
        import_history(bytes(raw), filename="x.zip")


def test_zip_with_too_many_members_is_refused(monkeypatch, tmp_path):
    data = zip_bytes({f"data/tweets_media/{k}.jpg": b"x" for k in range(12)} | x_archive(STANDARD))
    monkeypatch.setattr(archive, "MAX_MEMBERS", 10)
    with pytest.raises(ArchiveError, match="files in the zip; allowed: at most 10"):
        import_history(data, filename="many.zip")
    (tmp_path / "many.zip").write_bytes(data)
    with pytest.raises(ArchiveError, match="files in the zip; allowed: at most 10"):
        import_history(tmp_path / "many.zip")


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


@pytest.fixture
def x_zip(tmp_path):
    path = tmp_path / "twitter.zip"
    path.write_bytes(zip_bytes(x_archive(STANDARD)))
    return path


def test_cli_yaml_is_a_valid_scenario(x_zip, capsys):
    assert main(["import", str(x_zip), "--tz", "Asia/Tokyo"]) == 0
    out, err = capsys.readouterr()
    scenario = parse_scenario(out)
    assert scenario.platform.name == "x"
    assert scenario.habits.posts_per_day == pytest.approx(expected(STANDARD, "Asia/Tokyo")["posts_per_day"], abs=1e-3)
    assert out.startswith("# Derived by `coach import`")
    assert "read 10 posts" in err


def test_cli_json_and_out_file(x_zip, tmp_path, capsys):
    out_file = tmp_path / "habits.json"
    assert main(["import", str(x_zip), "--format", "json", "--since", "2024-03-05", "--out", str(out_file)]) == 0
    data = json.loads(out_file.read_text())
    want = expected(STANDARD, since=date(2024, 3, 5))
    assert data["evidence"]["originals"] == want["originals"]
    assert data["evidence"]["since"] == "2024-03-05"
    assert set(data["assumed"]) == ASSUMED
    assert f"wrote {out_file}" in capsys.readouterr().err


def test_cli_warnings_go_to_stderr(tmp_path, capsys):
    truths = [Truth(t(4, 9 + k), "original", link="external", question=True) for k in range(3)]
    path = tmp_path / "h.csv"
    path.write_bytes(csv_history(truths))
    assert main(["import", str(path)]) == 0
    assert "warning: question_share lowered" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tz", "Mars/Olympus"], "unknown time zone"),
        (["--since", "last week"], "is not a date"),
        (["--format", "xml"], "invalid choice"),
    ],
)
def test_cli_usage_errors_exit_2(x_zip, capsys, args, message):
    with pytest.raises(SystemExit) as info:
        main(["import", str(x_zip), *args])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_broken_file_exits_1_with_one_message(tmp_path, capsys):
    path = tmp_path / "twitter.zip"
    path.write_bytes(zip_bytes(x_archive(STANDARD))[:500])
    assert main(["import", str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(str(path)) and "Traceback" not in err


def test_cli_end_to_end_in_a_subprocess_has_no_traceback(tmp_path):
    path = tmp_path / "garbage.car"
    path.write_bytes(b"\x05\xa2roots" + b"\x00" * 30)
    done = subprocess.run(
        [sys.executable, "-m", "coach", "import", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "garbage.car" in done.stderr and "Traceback" not in done.stderr


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------

KINDS = st.sampled_from([ORIGINAL, SELF_REPLY, REPLY, REPOST])
POSTS = st.lists(
    st.tuples(st.integers(0, 60 * 24 * 400), KINDS, st.booleans(), st.booleans(), st.none() | st.integers(0, 10_000)),
    min_size=1,
    max_size=60,
)
START = datetime(2023, 1, 1, tzinfo=UTC)


@settings(max_examples=150, deadline=None)
@given(POSTS, st.sampled_from(["UTC", "Asia/Kolkata", "America/Los_Angeles", "Pacific/Chatham"]))
def test_derived_habits_are_always_valid(rows, tz):
    posts = [Post(START + timedelta(minutes=m), kind, link, question, eng) for m, kind, link, question, eng in rows]
    result = derive(History("x", "prop.zip", posts=posts), tz=tz)
    habits, ev = result.habits, result.evidence
    assert habits["posts_per_day"] >= 0 and habits["outreach_per_day"] >= 0
    for share in ("link_share", "question_share"):
        if share in habits:
            assert 0 <= habits[share] <= 1 and 0 <= ev[share] <= 1
    if "posts_per_session" in habits:
        assert 1 <= habits["posts_per_session"] <= 50
        assert 1 <= ev["sittings"] <= ev["originals"]
    assert ev["originals"] + ev["replies"] + ev["reposts"] == ev["posts"] == len(posts)
    assert ev["days"] >= 1 and ev["first"] <= ev["last"]
    assert sum(ev["hour_histogram"]) > 0
    assert set(result.assumed) | set(habits) == set(Habits.model_fields)
    parse_scenario(dump_scenario(result.to_scenario()))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 20), min_size=24, max_size=24).filter(lambda h: sum(h) > 0))
def test_active_window_is_the_shortest_holding_ninety_percent(histogram):
    start, end, held = active_window(histogram)
    length = (end - start) % 24 or 24
    inside = sum(histogram[(start + k) % 24] for k in range(length))
    assert inside == held >= 0.9 * sum(histogram) - 1e-9
    shorter = [sum(histogram[(s + k) % 24] for k in range(length - 1)) for s in range(24)] if length > 1 else [0]
    assert max(shorter) < 0.9 * sum(histogram) - 1e-9
    Habits(active_hours=(start, end))


@given(st.text(alphabet="ab ?/:.=&", max_size=40))
def test_question_marks_inside_urls_are_not_questions(text):
    assert has_question(f"https://example.com/{text.replace(' ', '')}") is False


def test_question_detection_examples():
    assert has_question("Anyone tried this?")
    assert has_question("¿Qué tal?") and has_question("本当？")
    assert not has_question("see https://example.com/?q=1")


def test_yaml_description_fits_the_scenario_limit():
    result = import_history(csv_history(STANDARD), filename="h" * 300 + ".csv")
    assert len(result.to_scenario().description) <= 2000
    yaml.safe_load(dump_scenario(result.to_scenario()))


def test_derive_rejects_an_empty_history_with_the_source_name():
    with pytest.raises(ArchiveError, match=r"^empty.car: no posts found"):
        derive(History("bluesky", "empty.car"))


def test_folder_is_read_without_its_media(tmp_path):
    files = x_archive(STANDARD)
    write_folder(tmp_path / "x", files)
    result = import_history(Path(tmp_path / "x"))
    assert sorted(result.evidence["files"]) == ["data/account.js", "data/tweets.js"]


# --------------------------------------------------------------------------------------
# Real exports (issue 11, items 14-19): each case in the real shape
# --------------------------------------------------------------------------------------


def _x_zip_of(tweets: list[dict], **extra: bytes) -> bytes:
    files = {
        "data/tweets.js": x_tweets_js(tweets),
        "data/account.js": ytd("account", [{"account": {"accountId": ACCOUNT_ID}}]),
    }
    return zip_bytes(files | extra)


def _old_tweet(i: int, text: str, media: bool = False) -> dict:
    """A 2009 tweet: links only in the text, ``entities.urls`` empty (media, from 2011 on, are t.co in the text)."""
    entities: dict = {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []}
    if media:
        entities["media"] = [{"url": "https://t.co/pic", "expanded_url": f"https://twitter.com/me/status/{i}/photo/1"}]
    return {
        "tweet": {
            "id_str": str(9_000 + i),
            "id": str(9_000 + i),
            "created_at": f"Mon Mar {10 + i:02d} 12:00:00 +0000 2009",
            "full_text": text,
            "favorite_count": "0",
            "retweet_count": "0",
            "entities": entities,
            "source": '<a href="http://twitter.com" rel="nofollow">Twitter Web Client</a>',
        }
    }


def test_x_links_only_in_the_text_of_old_tweets_count_but_x_hosts_do_not():
    tweets = [
        _old_tweet(0, "reading http://bit.ly/abc123 now"),  # a link, only in the text
        _old_tweet(1, "see www.example.org/post"),  # a bare www. link
        _old_tweet(2, "look https://t.co/pic", media=True),  # t.co in the text is the photo
        _old_tweet(3, "this http://twitter.com/bob/status/1 and https://x.com/bob"),  # X's own pages
        _old_tweet(4, "no link here"),
    ]
    ev = import_history(_x_zip_of(tweets), filename="x.zip").evidence
    assert ev["originals"] == 5
    assert ev["link_posts"] == 2


def test_x_entities_win_over_the_text_when_they_list_urls():
    # A 2020 tweet: the text shows t.co, entities say where it goes (an X status: not external).
    item = x_tweets([Truth(t(4, 9), "original", link="quote")])[0]
    assert item["tweet"]["entities"]["urls"]
    ev = import_history(_x_zip_of([x_real_shape(item)]), filename="x.zip").evidence
    assert ev["link_posts"] == 0


def _thread_without_parent_in_archive() -> list[dict]:
    truths = [Truth(t(4, 9), "original"), Truth(t(4, 9, 5), "self_reply"), Truth(t(4, 9, 10), "self_reply")]
    tweets = x_tweets(truths)
    # The third continues a thread whose tweet was deleted: its parent is not in the archive.
    tweets[2]["tweet"]["in_reply_to_status_id_str"] = "123"
    return tweets


def test_x_tweets_js_alone_infers_the_own_id_from_threads():
    tweets = _thread_without_parent_in_archive()
    history = importers.read_history(x_tweets_js(tweets), filename="tweets.js")
    kinds = sorted(p.kind for p in history.posts)
    assert kinds == [ORIGINAL, SELF_REPLY, SELF_REPLY]
    assert any("inferred" in note for note in history.notes)


def test_x_manifest_names_the_account_when_account_js_is_missing():
    tweets = x_tweets([Truth(t(4, 9), "original"), Truth(t(4, 10), "self_reply")])
    tweets[1]["tweet"]["in_reply_to_status_id_str"] = "123"  # parent deleted: only the user id tells
    manifest = b'window.__THAR_CONFIG = {"userInfo": {"accountId": "1000", "userName": "me"}, "archiveInfo": {}}'
    files = {"data/tweets.js": x_tweets_js(tweets), "data/manifest.js": manifest}
    result = import_history(zip_bytes(files), filename="x.zip")
    assert result.evidence["self_replies"] == 1 and result.evidence["replies"] == 0
    alone = import_history(zip_bytes({"data/tweets.js": x_tweets_js(tweets)}), filename="x.zip")
    assert alone.evidence["replies"] == 1  # nothing tells it is a thread: a reply, as the rules say


def test_x_community_tweets_are_posts():
    community = x_tweets([Truth(t(6, 9), "original", link="external"), Truth(t(6, 10), "original")])
    for item in community:
        item["tweet"]["id_str"] = item["tweet"]["id"] = "8" + item["tweet"]["id_str"][1:]
    files = x_archive(STANDARD, extra={"data/community-tweet.js": x_tweets_js(community, name="community_tweet")})
    ev = import_history(zip_bytes(files), filename="x.zip").evidence
    assert ev["originals"] == expected(STANDARD)["originals"] + 2
    assert ev["link_posts"] == sum(x.link == "external" for x in STANDARD if x.kind in ("original", "self_reply")) + 1
    alone = import_history(x_tweets_js(community, name="community_tweet"), filename="community-tweet.js")
    assert alone.evidence["originals"] == 2


@pytest.mark.parametrize("layout", ["pretty", "compact", "refused batch", "one line per tweet"])
def test_x_every_layout_of_tweets_js_reads_the_same(layout):
    rows = [
        Truth(t(4, 9) + timedelta(minutes=17 * k), kind, link=link, question=k % 4 == 0, likes=k)
        for k, (kind, link) in enumerate(
            [("original", "external"), ("self_reply", None), ("reply", None), ("repost", None), ("original", "quote")]
            * 30
        )
    ]
    items = [x_real_shape(item, media=k % 2 == 0) for k, item in enumerate(x_tweets(rows))]
    if layout == "pretty":
        data = x_tweets_js(items)
    elif layout == "compact":
        data = b"window.YTD.tweets.part0 = " + json.dumps(items, separators=(",", ":")).encode()
    elif layout == "refused batch":
        # A URL entry that is not an object: the fast decoder refuses the batch, the general one reads on.
        items[70]["tweet"]["entities"]["urls"].append("not an object")
        data = x_tweets_js(items)
    else:
        data = ("window.YTD.tweets.part0 = [\n" + ",\n".join(json.dumps(i) for i in items) + "\n];\n").encode()
    result = import_history(data, filename="tweets.js")
    check_against_truths(result, rows)
    assert result.evidence["link_posts"] == sum(
        x.link == "external" for x in rows if x.kind in ("original", "self_reply")
    )
    posts = importers.read_history(data, filename="tweets.js").posts
    assert sorted(p.likes for p in posts if p.kind != REPOST) == sorted(x.likes for x in rows if x.kind != "repost")


def test_x_a_batch_cut_across_windows_is_read_whole(monkeypatch):
    # Tiny windows: every tweet straddles a window boundary somewhere.
    monkeypatch.setattr(archive, "CHUNK", 1000)
    monkeypatch.setattr(stream, "CHUNK", 1000)
    monkeypatch.setattr(xfast, "CHUNK", 1000)
    items = [x_real_shape(item) for item in x_tweets(STANDARD)]
    check_against_truths(import_history(x_tweets_js(items), filename="tweets.js"), STANDARD)
    compact = b"window.YTD.tweets.part0 = " + json.dumps(items, separators=(",", ":")).encode()
    check_against_truths(import_history(compact, filename="tweets.js"), STANDARD)


def test_mastodon_direct_posts_without_recipients_are_not_public():
    truths = [Truth(t(4, 9), "original"), Truth(t(4, 10), "original"), Truth(t(4, 11), "original")]
    items = mastodon_items(truths)
    for holder in (items[1], items[1]["object"]):  # a "direct" post that mentions nobody
        holder["to"], holder["cc"] = [], []
    result = import_history(mastodon_outbox(truths, items=items), filename="outbox.json")
    assert result.evidence["originals"] == 2
    assert result.evidence["excluded"]["direct_messages"] == 1


@pytest.mark.parametrize(
    "href",
    [
        "https://gts.example/@bob/statuses/01HQ3ZK5Y8G2N6M4P7R9T1V3X5",  # GoToSocial
        "https://masto.example/ap/users/109876/statuses/112233445566",  # Mastodon 4.4
        "https://pixelfed.example/p/bob/650123456789",  # Pixelfed
        "https://lemmy.example/post/123456",  # Lemmy post
        "https://lemmy.example/comment/98765",  # Lemmy comment
    ],
)
def test_mastodon_posts_on_other_fediverse_servers_are_not_external_links(href):
    truths = [Truth(t(4, 9), "original"), Truth(t(4, 10), "original", link="external")]
    items = mastodon_items(truths)
    items[0]["object"]["content"] = f'<p>look <a href="{href}" rel="nofollow noopener" target="_blank">{href}</a></p>'
    ev = import_history(mastodon_outbox(truths, items=items), filename="outbox.json").evidence
    assert ev["link_posts"] == 1  # only the real external link


def test_mastodon_tar_gz_archive_is_read_in_memory(tmp_path):
    raw = tar_gz(mastodon_archive(STANDARD))
    check_against_truths(import_history(raw, filename="archive.tar.gz"), STANDARD, platform="mastodon")
    (tmp_path / "archive-20240301.tar.gz").write_bytes(raw)
    check_against_truths(import_history(tmp_path / "archive-20240301.tar.gz"), STANDARD, platform="mastodon")
    assert list(tmp_path.iterdir()) == [tmp_path / "archive-20240301.tar.gz"]  # nothing extracted


def test_a_gzip_bomb_is_refused_as_it_streams():
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("media_attachments/big.bin")
        info.size = 40_000_000
        tar.addfile(info, io.BytesIO(b"\x00" * info.size))
        info = tarfile.TarInfo("outbox.json")
        data = mastodon_outbox(STANDARD)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    raw = buffer.getvalue()
    assert len(raw) < 100_000
    with pytest.raises(ArchiveError, match=r"archive.tar.gz: unpacks more than 100× its packed size"):
        import_history(raw, filename="archive.tar.gz")


def _bluesky_post(text: str, **fields) -> dict:
    return {"$type": "app.bsky.feed.post", "createdAt": "2022-12-01T10:00:00.000Z", "text": text, **fields}


def test_bluesky_legacy_entities_carry_links():
    records = [
        _bluesky_post(
            "my post https://example.com/a",
            entities=[{"index": {"start": 8, "end": 29}, "type": "link", "value": "https://example.com/a"}],
        ),
        _bluesky_post(
            "hi @bob.example",
            createdAt="2022-12-02T10:00:00.000Z",
            entities=[{"index": {"start": 3, "end": 15}, "type": "mention", "value": BOB_DID}],
        ),
    ]
    ev = import_history(bluesky_car([], records=records), filename="repo.car").evidence
    assert ev["originals"] == 2 and ev["link_posts"] == 1


def test_bluesky_question_mark_inside_a_link_is_not_a_question():
    text = "read example.com/page?id=1 today"  # the shown link text has no scheme
    start = text.index("example")
    link = {
        "index": {"byteStart": start, "byteEnd": start + len("example.com/page?id=1")},
        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/page?id=1"}],
    }
    records = [
        _bluesky_post(text, facets=[link]),
        _bluesky_post("and this? " + text, createdAt="2022-12-02T10:00:00.000Z", facets=[
            {**link, "index": {"byteStart": start + 10, "byteEnd": start + 10 + len("example.com/page?id=1")}}
        ]),
        _bluesky_post(
            "old client example.com/q?x",
            createdAt="2022-12-03T10:00:00.000Z",
            entities=[{"index": {"start": 11, "end": 26}, "type": "link", "value": "https://example.com/q?x"}],
        ),
    ]  # fmt: skip
    ev = import_history(bluesky_car([], records=records), filename="repo.car").evidence
    assert ev["question_posts"] == 1 and ev["link_posts"] == 3


def test_bluesky_counts_only_records_the_commit_reaches():
    deleted = [_bluesky_post("deleted", createdAt="2024-03-09T10:00:00.000Z")]
    deleted.append({"$type": "app.bsky.feed.repost", "createdAt": "2024-03-09T11:00:00.000Z", "subject": {}})
    result = import_history(bluesky_car(STANDARD, deleted=deleted), filename="repo.car")
    check_against_truths(result, STANDARD)
    assert result.evidence["excluded"]["deleted_records"] == 2
    # Without a commit there is no tree to walk: every post-shaped block counts, with a note.
    no_commit = import_history(bluesky_car(STANDARD, did=None, deleted=deleted), filename="repo.car")
    assert no_commit.evidence["posts"] == expected(STANDARD)["posts"] + 2
    assert any("no repository commit" in note for note in no_commit.evidence["notes"])


def test_zip_member_names_with_backslashes_are_found():
    files = {name.replace("/", "\\"): data for name, data in x_archive(STANDARD).items()}
    check_against_truths(import_history(zip_bytes(files), filename="windows.zip"), STANDARD)


def test_a_zip_inside_a_zip_is_opened_and_deeper_nesting_refused():
    inner = zip_bytes(x_archive(STANDARD))
    outer = zip_bytes({"twitter-2024-03-08.zip": inner})
    result = import_history(outer, filename="again.zip")
    check_against_truths(result, STANDARD)
    deeper = zip_bytes({"again.zip": outer})
    with pytest.raises(
        ArchiveError, match=r"deep.zip \(again.zip\) \(twitter-2024-03-08.zip\): zips nested more than 2"
    ):
        import_history(deeper, filename="deep.zip")


def test_folders_nested_deeply_are_searched(tmp_path):
    root = tmp_path / "Downloads"
    write_folder(root / "a" / "b" / "c" / "d" / "e" / "twitter-2024" / "twitter-2024", x_archive(STANDARD))
    check_against_truths(import_history(root), STANDARD)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("tweets.js", lambda: x_archive(STANDARD)["data/tweets.js"]),
        ("outbox.json", lambda: mastodon_outbox(STANDARD)),
        ("history.csv", lambda: csv_history(STANDARD)),
    ],
)
@pytest.mark.parametrize("bom", [True, False])
def test_utf16_files_are_named_as_such(name, content, bom, tmp_path):
    text = content().decode()
    data = text.encode("utf-16" if bom else "utf-16-le")
    with pytest.raises(ArchiveError, match=rf"^{name}: the text is saved as UTF-16; this tool reads UTF-8"):
        import_history(data, filename=name)
    inside = zip_bytes({f"data/{name}": data})
    with pytest.raises(ArchiveError, match=r"UTF-16"):
        import_history(inside, filename="x.zip")


def test_a_valid_export_without_posts_says_so_instead_of_expecting_another_format():
    for data, label in (
        (_tweets_zip(b"window.YTD.tweets.part0 = []"), "x.zip"),
        (mastodon_outbox([], duplicate_key="empty_first"), "outbox.json"),
        (bluesky_car([]), "repo.car"),
    ):
        with pytest.raises(ArchiveError) as info:
            import_history(data, filename=label)
        assert "it is readable, but holds no posts" in info.value.message
        assert "expected an X archive" not in info.value.message
    manifest_only = zip_bytes(
        {"data/manifest.js": b"window.__THAR_CONFIG = {}", "data/account.js": b"window.YTD.account.part0 = []"}
    )
    with pytest.raises(ArchiveError, match="a valid X archive, but it holds no posts"):
        import_history(manifest_only, filename="x.zip")


# --------------------------------------------------------------------------------------
# Hostile sources and dates out of range (issue 10 items 3 and 4)
# --------------------------------------------------------------------------------------


def test_devices_and_pipes_are_refused_without_reading(tmp_path):
    with pytest.raises(ArchiveError, match=r"^/dev/zero: a device, not a regular file"):
        import_history("/dev/zero")
    fifo = tmp_path / "tweets.js"
    os.mkfifo(fifo)  # opening it for reading would block until a writer comes
    with pytest.raises(ArchiveError, match=r"tweets.js: a FIFO \(named pipe\), not a regular file"):
        import_history(fifo)
    folder = tmp_path / "export"
    write_folder(folder, mastodon_archive(STANDARD))
    (folder / "actor.json").unlink()
    (folder / "actor.json").symlink_to("/dev/zero")  # a folder's symlink to a device is not a file
    check_against_truths(import_history(folder), STANDARD, platform="mastodon")


def test_x_date_out_of_range_names_the_tweet():
    tweets = x_tweets(STANDARD)
    tweets[2]["tweet"]["created_at"] = "Fri Dec 31 23:00:00 -0500 9999"
    with pytest.raises(ArchiveError) as info:
        import_history(_x_zip_of(tweets), filename="x.zip")
    message = info.value.message
    assert message.startswith(f"x.zip (data/tweets.js): tweet {tweets[2]['tweet']['id_str']}: date")
    assert "out of range (allowed: years 1970 to 2100)" in message


@pytest.mark.parametrize("published", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"])
def test_mastodon_date_out_of_range_names_the_post(published):
    items = mastodon_items(STANDARD)
    items[0]["object"]["published"] = published
    with pytest.raises(ArchiveError, match=rf"outbox.json: post {items[0]['object']['id']}: date .* out of range"):
        import_history(mastodon_outbox(STANDARD, items=items), filename="outbox.json")


@pytest.mark.parametrize("stamp", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:00:00-05:00", "99999999999999"])
def test_csv_date_out_of_range_names_the_line(stamp):
    data = f"timestamp,is_reply,has_link,text\n2024-03-04T09:00:00Z,no,no,hi\n{stamp},no,no,x\n".encode()
    with pytest.raises(ArchiveError, match=r"h.csv: 1 bad rows: line 3: timestamp .* out of range \(allowed: years"):
        import_history(data, filename="h.csv", tz="Pacific/Kiritimati")


def test_bluesky_dates_out_of_range_are_left_out():
    records = [*bluesky_records(STANDARD), _bluesky_post("from the past", createdAt="0001-01-01T00:00:00.000Z")]
    result = import_history(bluesky_car([], records=records), filename="repo.car")
    check_against_truths(result, STANDARD)
    assert result.evidence["excluded"]["date_out_of_range"] == 1


def test_nesting_thousands_deep_is_a_message_not_a_crash():
    deep = b"[" * 50_000 + b"]" * 50_000
    tweet = b'{\n    "tweet" : {\n      "id_str" : "1",\n      "junk" : %s\n    }\n  }'
    for data, name in (
        (b"window.YTD.tweets.part0 = [" + deep + b"]", "tweets.js"),
        (b"window.YTD.tweets.part0 = [\n  " + tweet % deep + b",\n  " + tweet % b"1" + b"\n]", "tweets.js"),
        (b'{"orderedItems": [' + deep + b"]}", "outbox.json"),
    ):
        with pytest.raises(ArchiveError, match=rf"^{name}: nested too deeply"):
            import_history(data, filename=name)


def test_more_posts_than_any_account_has_are_refused(monkeypatch):
    # coach.importers.derive is also the name of the function, so the module comes from importlib.
    for module in (importlib.import_module("coach.importers.derive"), x, mastodon):
        monkeypatch.setattr(module, "MAX_POSTS", 5)
    with pytest.raises(ArchiveError, match=r"x.zip \(data/tweets.js\): more than 5 posts; no real account"):
        import_history(zip_bytes(x_archive(STANDARD)), filename="x.zip")
    with pytest.raises(ArchiveError, match=r"outbox.json: more than 5 posts"):
        import_history(mastodon_outbox(STANDARD), filename="outbox.json")


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 12, 31, 23, 59, 59)))
def test_x_cached_clock_reads_every_time_as_the_plain_parser_does(moment):
    text = moment.strftime("%a %b %d %H:%M:%S +0000 %Y")
    clock = x.Clock()
    assert clock(text) == x.parse_x_time(text) == moment.replace(microsecond=0, tzinfo=UTC)
    assert clock(text) == x.parse_x_time(text)  # the second time from the cache


def test_a_large_zip_inside_a_zip_is_read_lazily_and_a_zip_in_a_folder_from_disk(monkeypatch, tmp_path):
    monkeypatch.setattr(archive, "INNER_IN_MEMORY", 10)  # every inner zip counts as large
    outer = zip_bytes({"twitter-2024-03-08.zip": zip_bytes(x_archive(STANDARD))})
    check_against_truths(import_history(outer, filename="again.zip"), STANDARD)
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "twitter-2024-03-08.zip").write_bytes(zip_bytes(x_archive(STANDARD)))
    check_against_truths(import_history(tmp_path / "downloads"), STANDARD)


def test_bluesky_a_reachable_block_that_is_not_dag_cbor_is_named():
    import libipld
    from importer_fixtures import _as_link, car, mst_nodes

    garbage = b"\xff\xfe\xfd not cbor"
    good = libipld.encode_dag_cbor(bluesky_records(STANDARD)[0])
    root, nodes = mst_nodes([("app.bsky.feed.post/3k000001", good), ("app.bsky.feed.post/3k000002", garbage)])
    commit = libipld.encode_dag_cbor({"did": ME_DID, "version": 3, "data": _as_link(root), "rev": "3", "sig": b"s"})
    with pytest.raises(ArchiveError, match=r"^repo.car: not a readable Bluesky repository export \(block at byte"):
        import_history(car([good, garbage, *nodes], root=commit), filename="repo.car")
