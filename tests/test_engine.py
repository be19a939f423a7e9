"""The engine: determinism, invariants, limit cases and mechanism switches (MODEL.md §4, F10)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import simpy
from engine_helpers import scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coach import Audience, Habits, ModelParams, Scenario, Segment, TimelineStep, run_many, simulate
from coach.model.day import ReplicateBatch
from coach.model.timeline import day_cycle
from coach.parameters import Mechanisms
from coach.platforms import PRESETS
from coach.results import CHANNELS, QUANTILES, REASONS, quantiles, quantiles_of
from coach.rng import Timeline, counter_keys
from coach.scenario import SCENARIO_DIR, bundled_scenarios, load_scenario


def assert_invariants(results, followers_start: int) -> None:
    d = results.daily
    followers = np.concatenate([[followers_start], d["followers"]])
    # Conservation, exactly: followers[d] = followers[d-1] + follows[d] - unfollows[d].
    np.testing.assert_array_equal(np.diff(followers), d["follows"] - d["unfollows"])
    np.testing.assert_array_equal(d["follows"], sum(d[f"follows_{c}"] for c in CHANNELS))
    np.testing.assert_array_equal(d["unfollows"], sum(d[f"unfollows_{r}"] for r in REASONS))
    for name, series in d.items():
        assert np.all(np.isfinite(series)), name
        assert np.all(series >= 0), name
    # Replies are handled up to a day after they arrive: never more than have arrived so far.
    handled = np.cumsum(d["replies_answered"] + d["replies_ignored"])
    assert np.all(handled <= np.cumsum(d["replies_received"]))


def test_same_seed_same_results_and_different_seed_differs():
    s = scenario(followers=500, days=30, posts_per_day=4)
    a, b, c = simulate(s, 3), simulate(s, 3), simulate(s, 4)
    for name in a.daily:
        np.testing.assert_array_equal(a.daily[name], b.daily[name])
    assert any(not np.array_equal(a.daily[n], c.daily[n]) for n in a.daily)


def test_parallel_replicates_equal_serial_ones():
    s = scenario(followers=300, days=20)
    serial = run_many(s, replicates=4, seed=5, parallel=False)
    pooled = run_many(s, replicates=4, seed=5, parallel=True)
    for x, y in zip(serial.runs, pooled.runs, strict=True):
        assert x.replicate == y.replicate
        for name in x.daily:
            np.testing.assert_array_equal(x.daily[name], y.daily[name])


def test_named_streams_are_independent_of_each_other():
    a, b = Timeline(1), Timeline(1)
    a["posting"].random(1000)  # using one stream leaves the others untouched
    assert a["answers"].random() == b["answers"].random()
    assert counter_keys(1, [0], "crowd")[0] != counter_keys(1, [1], "crowd")[0]


segments = st.lists(
    st.tuples(st.floats(-1, 1), st.floats(0, 1), st.floats(0.5, 60), st.floats(0, 1), st.floats(0, 0.3)),
    min_size=1,
    max_size=3,
)


@st.composite
def scenarios(draw) -> Scenario:
    seg = draw(segments)
    share = 1 / len(seg)
    link = draw(st.floats(0, 1))
    promo = draw(st.floats(0, 1 - link))
    question = max(0.0, min(draw(st.floats(0, 1)), 1 - link - promo - 1e-9))
    start = draw(st.integers(0, 23))
    timeline = ()
    days = draw(st.integers(1, 30))
    if days > 2 and draw(st.booleans()):
        timeline = ({"day": draw(st.integers(2, days)), "habits": {"posts_per_day": draw(st.floats(0, 30))}},)
    return Scenario.model_validate({
        "version": 1,
        "days": days,
        "platform": draw(st.sampled_from(["x", "mastodon", "bluesky"])),
        "habits": Habits(
            posts_per_day=draw(st.floats(0, 60)),
            posts_per_session=draw(st.floats(1, 20)),
            link_share=link,
            promo_share=promo,
            question_share=question,
            reply_rate=draw(st.floats(0, 1)),
            reply_delay_hours=draw(st.floats(0, 48)),
            outreach_per_day=draw(st.floats(0, 30)),
            follow_back_rate=draw(st.floats(0, 1)),
            active_hours=(start, draw(st.integers(1, 24).filter(lambda e: e % 24 != start))),
        ).model_dump(),
        "audience": Audience(
            followers=draw(st.integers(0, 3000)),
            prospects_per_day=draw(st.floats(0, 200)),
            segments=tuple(
                Segment(name=f"s{i}", share=share, link_appetite=la, chat_appetite=ca, tolerance_posts_per_day=tol, attention=att, churn_per_month=ch)
                for i, (la, ca, tol, att, ch) in enumerate(seg)
            ),
        ).model_dump(),
        "timeline": timeline,
    })  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(0, 2**32 - 1))
def test_invariants_hold_for_any_valid_scenario(s, seed):
    results = simulate(s, seed)
    assert len(results.daily["followers"]) == s.days
    assert_invariants(results, s.audience.followers)


def test_zero_posts_zero_followers_one_day():
    for s in (
        scenario(followers=0, days=1, posts_per_day=0, outreach_per_day=0),
        scenario(followers=0, days=5),
        scenario(followers=50, days=1, posts_per_day=0),
    ):
        r = simulate(s, 1)
        assert_invariants(r, s.audience.followers)
    quiet = simulate(scenario(followers=0, days=10, posts_per_day=0, outreach_per_day=0, reply_rate=0), 1)
    assert quiet.daily["posts"].sum() == 0 and quiet.daily["impressions"].sum() == 0


def test_a_million_followers_for_a_few_days():
    s = scenario(followers=1_000_000, days=3, posts_per_day=10)
    r = simulate(s, 2)
    assert_invariants(r, 1_000_000)
    assert r.daily["impressions"].sum() > 1_000_000  # ten posts a day reach a big crowd


def mechanisms(**off: bool) -> ModelParams:
    return ModelParams(mechanisms=Mechanisms(**off))


@pytest.mark.parametrize(
    ("switch", "series"),
    [
        ("fatigue", "unfollows_fatigue"),
        ("content", "unfollows_content"),
        ("conversation", "unfollows_ignored"),
        ("neglect", "unfollows_neglect"),
        ("churn", "unfollows_churn"),
        ("reshare", "follows_reshare"),
        ("outreach", "follows_outreach"),
        ("discovery", "follows_discovery"),
    ],
)
def test_each_mechanism_can_be_switched_off(switch, series):
    # Habits that make every mechanism fire: bursts of links to link-haters who like to chat,
    # few answers, then silence. Reshares need readers who share: a news audience.
    hostile = Audience(
        followers=2000,
        segments=(Segment(name="a", share=1, link_appetite=-0.6, chat_appetite=0.9, tolerance_posts_per_day=5),),
    )
    readers = Audience(
        followers=3000, segments=(Segment(name="r", share=1, link_appetite=0.8, tolerance_posts_per_day=30),)
    )
    base = Scenario(
        days=40,
        habits=Habits(posts_per_day=8, posts_per_session=4, link_share=0.5, reply_rate=0.2, outreach_per_day=5),
        audience=readers if switch == "reshare" else hostile,
        timeline=(TimelineStep(day=20, habits={"posts_per_day": 0}),),
    )
    on = simulate(base, 9).daily[series].sum()
    off = simulate(base.model_copy(update={"model": mechanisms(**{switch: False})}), 9).daily[series].sum()
    assert on > 0, f"{series} should occur with {switch} on"
    assert off == 0


def test_exposure_decay_makes_night_posts_reach_fewer():
    day = scenario(followers=2000, days=20, posts_per_day=4, active_hours=(10, 16))
    night = scenario(followers=2000, days=20, posts_per_day=4, active_hours=(2, 5))
    flat = mechanisms(exposure_decay=False)
    reach = [simulate(s, 3).totals()["impressions_per_post"] for s in (day, night)]
    flat_reach = [
        simulate(s.model_copy(update={"model": flat}), 3).totals()["impressions_per_post"] for s in (day, night)
    ]
    assert reach[1] < 0.6 * reach[0]
    assert abs(flat_reach[1] - flat_reach[0]) < 0.15 * flat_reach[0]


def test_feed_discount_applies_to_bursts_on_ranked_feeds_only():
    def reach(platform: str, model: ModelParams | None = None) -> float:
        s = scenario(followers=3000, days=15, posts_per_day=8, posts_per_session=8).model_copy(
            update={"platform": PRESETS[platform], "model": model or ModelParams()}
        )
        return simulate(s, 4).totals()["impressions_per_post"]

    assert reach("x") < 0.7 * reach("x", mechanisms(feed_discount=False))
    assert reach("mastodon") == pytest.approx(reach("mastodon", mechanisms(feed_discount=False)))


def test_timeline_changes_habits_from_its_day():
    step = TimelineStep(day=11, habits={"posts_per_day": 10})
    s = scenario(followers=500, days=20, posts_per_day=2).model_copy(update={"timeline": (step,)})
    posts = simulate(s, 1).daily["posts"]
    assert posts[:10].mean() < 3 < 8 < posts[10:].mean()


def test_minutes_follow_the_time_costs():
    r = simulate(
        scenario(followers=0, days=10, posts_per_day=4, outreach_per_day=3, minutes_per_post=5, minutes_per_reply=2), 1
    )
    d = r.daily
    follow_back = ModelParams().minutes_per_follow_back
    np.testing.assert_allclose(
        d["minutes"], d["posts"] * 5 + (d["replies_answered"] + d["outreach"]) * 2 + d["follow_backs"] * follow_back
    )
    assert d["follow_backs"].sum() > 0


@pytest.mark.parametrize("path", bundled_scenarios(), ids=lambda p: p.stem)
def test_every_bundled_persona_runs_with_reasons_and_bands(path):
    s = load_scenario(path).model_copy(update={"days": 20})
    e = run_many(s, replicates=3, parallel=False)
    for r in e.runs:
        assert_invariants(r, s.audience.followers)
    summary = e.summary()
    assert summary["followers_end"]["p10"] <= summary["followers_end"]["median"] <= summary["followers_end"]["p90"]
    assert set(summary["unfollows_by_reason"]) == set(REASONS)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 40).flatmap(
        lambda n: st.lists(
            st.lists(st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: round(x, 3)), min_size=n, max_size=n),
            min_size=1,
            max_size=6,
        )
    )
)
def test_quantiles_of_many_figures_are_each_figures_own_percentiles(columns):
    # The page's summaries take every figure in one numpy call: each must be what
    # numpy's percentile gives that figure alone, rounded as quantiles() rounds it.
    figures = {f"f{i}": np.array(c) for i, c in enumerate(columns)}
    many = quantiles_of(figures)
    for name, values in figures.items():
        alone = {q: round(float(np.percentile(values, pct)), 2) for q, pct in QUANTILES.items()}
        assert many[name] == alone == quantiles(values)


def test_bonds_never_exceed_the_conversational_capacity():
    # A chatty crowd answered every time: far more answers than the capacity allows.
    capacity = 40
    s = scenario(followers=3000, days=30, posts_per_day=6, question_share=0.5, reply_rate=1.0).model_copy(
        update={"model": ModelParams(conversation_capacity=capacity)}
    )
    batch = ReplicateBatch(s, 3, [0, 1])
    env = simpy.Environment()
    env.process(day_cycle(env, batch))
    peak = np.zeros(2, dtype=int)
    for hour in range(24, 24 * 30, 6):
        env.run(until=hour)
        peak = np.maximum(peak, np.count_nonzero(batch.crowd.grid("bonded_until") > env.now, axis=1))
    assert np.all(batch.daily["replies_answered"].sum(axis=1) > 10 * capacity)
    assert np.all((0.8 * capacity <= peak) & (peak <= capacity))


def test_replies_find_their_followers_after_the_rows_moved():
    """Replies are gone through hours after the post; if a close compacted the rows meanwhile,
    the answers still land on the repliers (found by uid), and leavers are counted, not changed."""
    s = scenario(followers=400, days=5, reply_rate=1.0)
    batch = ReplicateBatch(s, 3, [0, 1])
    crowd = batch.crowd
    cells = np.array([5, 6, 7, crowd.C + 3, crowd.C + 9])
    uids = crowd.arrays["uid"][cells].copy()
    marked = crowd.mark(cells, cells // crowd.C)
    answered = np.array([True, False, True, True, False])
    crowd.retire(np.concatenate([np.arange(0, 5), np.arange(7, 60), [crowd.C + 9]]))  # row 0 compacts; 7 leaves
    assert crowd.moves != marked.moves and crowd.n[0] == 400 - 58
    batch.go_through_replies(marked, marked.replicates, answered, 30.0)
    assert batch.daily["replies_answered"][:, 0].tolist() == [2, 1]  # every reply counts, also a leaver's
    assert batch.daily["replies_ignored"][:, 0].tolist() == [1, 1]
    row0 = crowd.grid("uid")[0, : crowd.n[0]].tolist()
    moved = crowd.arrays["sat"].reshape(2, crowd.C)
    assert moved[0, row0.index(uids[1])] < 0  # follower 6 moved to a new cell and was ignored
    assert moved[1, 3] > 0 and crowd.arrays["bonded_until"][crowd.C + 3] > 30.0  # answered and bonded
    assert moved[1, 9] == 0  # the leaver's cell is untouched


def test_replies_of_followers_who_left_in_place_are_counted_but_change_nothing():
    """No cell moved since the post: the repliers' cells are still theirs, and one who left
    since (retired in place) is counted among the replies but neither answered nor soured."""
    s = scenario(followers=400, days=5, reply_rate=1.0)
    batch = ReplicateBatch(s, 3, [0, 1])
    crowd = batch.crowd
    cells = np.array([5, 6, crowd.C + 3, crowd.C + 9])
    marked = crowd.mark(cells, cells // crowd.C)
    crowd.retire(np.array([6, crowd.C + 9]))  # two leave; no row compacts
    assert crowd.moves == marked.moves
    before = {name: crowd.arrays[name][cells].copy() for name in ("sat", "ignored_chat", "bonded_until", "budget")}
    batch.go_through_replies(marked, marked.replicates, np.array([True, True, True, False]), 30.0)
    assert batch.daily["replies_answered"][:, 0].tolist() == [2, 1]
    assert batch.daily["replies_ignored"][:, 0].tolist() == [0, 1]
    sat, bonded = crowd.arrays["sat"][cells], crowd.arrays["bonded_until"][cells]
    assert sat[0] > before["sat"][0] and sat[2] > before["sat"][2] and (bonded[[0, 2]] > 30.0).all()
    for name, was in before.items():  # the leavers' cells are untouched (budget stays infinite)
        assert crowd.arrays[name][cells[[1, 3]]].tolist() == was[[1, 3]].tolist()


def test_code_that_workers_cannot_reimport_runs_serially_with_a_warning():
    # Code piped on stdin cannot be re-imported by pool workers: it must not crash the pool.
    code = (
        "from coach import Scenario, run_many\n"
        "e = run_many(Scenario(days=5), replicates=3, parallel=True)\n"
        "print(len(e.runs), e.summary()['followers_end']['median'] > 0)\n"
    )
    out = subprocess.run([sys.executable, "-"], input=code, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["3", "True"]
    assert "ran serially" in out.stderr and "__main__" in out.stderr


def test_should_stop_cancels_a_run_between_days_and_between_runs():
    from coach.experiments import RunCancelled, run_many

    scenario = load_scenario(SCENARIO_DIR / "steady_professional.yaml").model_copy(update={"days": 30})
    asked = []

    def stop_on_day_ten() -> bool:
        asked.append(1)
        return len(asked) > 10

    with pytest.raises(RunCancelled, match="day 10 of 30"):
        run_many(scenario, replicates=3, parallel=False, should_stop=stop_on_day_ten)
    assert len(asked) == 11  # once before the run, then once per day: the 11th ask is day 10
    finished = run_many(scenario, replicates=2, parallel=False, should_stop=lambda: False)
    assert finished.replicates == 2


def _same(a, b) -> None:
    assert a.replicate == b.replicate
    for name in a.daily:
        np.testing.assert_array_equal(a.daily[name], b.daily[name], err_msg=name)


@pytest.mark.parametrize(
    "s",
    [
        scenario(followers=800, days=25, posts_per_day=5, posts_per_session=2.5, question_share=0.3, reply_rate=0.7),
        scenario(followers=300, days=30, posts_per_day=12, posts_per_session=4, outreach_per_day=6).model_copy(
            update={"platform": PRESETS["x"], "timeline": (TimelineStep(day=12, habits={"posts_per_day": 0}),)}
        ),
    ],
    ids=["fractional-sittings", "x-bursts-then-silence"],
)
def test_a_replicate_is_the_same_alone_and_in_any_batch(s):
    from coach.engine import simulate_batch

    alone = {r: simulate(s, 5, r) for r in (0, 3, 7)}
    for batch in ([0, 3, 7], [7, 0], [3], [1, 2, 3, 4, 5, 6, 7, 0]):
        for result in simulate_batch(s, 5, batch):
            if result.replicate in alone:
                _same(alone[result.replicate], result)


def test_run_many_splits_to_the_memory_budget_without_changing_results(monkeypatch):
    import coach.engine
    import coach.experiments

    s = scenario(followers=400, days=10, posts_per_day=3)
    whole = run_many(s, replicates=5, seed=2, parallel=False)
    monkeypatch.setattr(coach.experiments, "batch_size", lambda _s: 2)  # batches of 2, 2 and 1
    split = run_many(s, replicates=5, seed=2, parallel=False)
    for a, b in zip(whole.runs, split.runs, strict=True):
        _same(a, b)
    assert coach.engine.batch_size(scenario(followers=1_000_000)) < 30  # a million-follower crowd is split


def test_results_are_the_same_in_another_process():
    s = scenario(followers=500, days=15, posts_per_day=4, posts_per_session=1.5)
    here = simulate(s, 8, 2)
    code = (
        "import sys, json\n"
        "from coach import Scenario\n"
        "from coach.engine import simulate\n"
        "s = Scenario.model_validate_json(sys.stdin.read())\n"
        "r = simulate(s, 8, 2)\n"
        "print(json.dumps({k: v.tolist() for k, v in r.daily.items()}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=s.model_dump_json(), capture_output=True, text=True, timeout=120, check=True
    )
    there = __import__("json").loads(out.stdout)
    for name, series in here.daily.items():
        assert series.tolist() == there[name], name


def test_timeline_is_shared_by_replicates_and_reactions_are_not():
    # One concrete schedule per seed: every replicate posts and reaches out at the same times;
    # the crowd's response differs.
    s = scenario(followers=600, days=20, posts_per_day=2.5, outreach_per_day=1.5)
    runs = run_many(s, replicates=4, seed=9, parallel=False).runs
    for r in runs[1:]:
        np.testing.assert_array_equal(r.daily["posts"], runs[0].daily["posts"])
        np.testing.assert_array_equal(r.daily["outreach"], runs[0].daily["outreach"])
    assert len({tuple(r.daily["impressions"]) for r in runs}) == 4
    other_seed = run_many(s, replicates=1, seed=10, parallel=False).runs[0]
    assert not np.array_equal(other_seed.daily["posts"], runs[0].daily["posts"])


def test_the_public_api_is_small_and_every_name_in_it_resolves():
    import coach

    assert len(coach.__all__) <= 20
    for name in coach.__all__:
        assert getattr(coach, name) is not None
    assert "parse_scenario" not in coach.__all__ and "scenario_from_data" not in coach.__all__  # one way to load
    from coach import PRESETS as moved  # older code keeps working

    assert moved is PRESETS
    with pytest.raises(AttributeError, match="no attribute 'World'"):
        coach.World  # noqa: B018
