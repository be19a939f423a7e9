"""The engine's layers on their own: the crowd grid, the streams, the timeline processes and
each mechanism's vectorised step on hand-built arrays (coach/model/)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from engine_helpers import scenario

from coach import ModelParams
from coach.model import churn, content, conversation, discovery, exposure, fatigue, neglect, reshare
from coach.model.crowd import F32, SPARE_UID, Crowd
from coach.model.timeline import day_cycle
from coach.rng import COUNTER_STREAMS, TIMELINE_STREAMS, Timeline, counter_keys

P = ModelParams()


# -- the crowd -----------------------------------------------------------------------------


TRAITS = (np.ones(1, F32), np.full(1, 0.5, F32), np.zeros(1, F32))  # one segment: tolerance, attention 0.5, churn
LAWS = (0.0, 1.0, 1.0)


def _add(crowd: Crowd, replicate: list[int], budget: float = 1.0) -> np.ndarray:
    k = len(replicate)
    zeros = np.zeros(k)
    return crowd.admit(
        np.array(replicate, np.int64), np.zeros(k, np.int8), zeros.astype(bool), zeros, np.full(k, budget, F32),
        zeros.astype(F32), 0.0, TRAITS, LAWS,
    )  # fmt: skip


def _keys(crowd: Crowd, cells: list[int]) -> np.ndarray:
    cells = np.array(cells)
    return crowd.mark(cells, cells // crowd.C).keys


def test_crowd_rows_are_per_replicate_with_spare_cells_that_never_see_or_leave():
    crowd = Crowd(3, 16)
    cells = _add(crowd, [0, 0, 2])
    assert crowd.n.tolist() == [2, 0, 1]
    assert cells.tolist() == [0, 1, 32]
    assert crowd.grid("uid")[0, :2].tolist() == [0, 1] and crowd.grid("uid")[2, 0] == 0
    spare = crowd.grid("uid")[1]
    assert np.all(spare == SPARE_UID)
    assert np.all(crowd.grid("attention")[1] == 0) and np.all(np.isinf(crowd.grid("budget")[1]))
    assert crowd.grid("attention")[0, :2].tolist() == [0.5, 0.5] and crowd.grid("budget")[2, 0] == 1.0
    assert np.all(np.diff(crowd.keys()) >= 0)  # sorted across replicates: one binary search


def test_crowd_grows_keeping_rows_and_keys():
    crowd = Crowd(2, 16)
    _add(crowd, [0] * 10 + [1] * 3)
    keys = _keys(crowd, [5, 16 + 2])
    _add(crowd, [0] * 20)  # past the capacity: the grid grows
    assert crowd.C >= 30 and crowd.n.tolist() == [30, 3]
    cells, found = crowd.locate(keys)
    assert found.all() and crowd.arrays["uid"][cells].tolist() == [5, 2]
    assert (cells // crowd.C).tolist() == [0, 1]  # their rows


def test_retired_followers_are_compacted_away_per_replicate_in_join_order():
    crowd = Crowd(2, 128)
    _add(crowd, [0] * 100 + [1] * 100)
    keys = _keys(crowd, [50, 128 + 50])
    crowd.retire(np.arange(0, 40))  # 40 of replicate 0 leave: past a tenth, so its row compacts
    crowd.retire(np.array([128 + 7]))  # one of replicate 1: stays retired in place
    assert crowd.n.tolist() == [60, 100] and crowd.retired.tolist() == [0, 1]
    assert crowd.followers.tolist() == [60, 99]
    assert crowd.grid("uid")[0, :60].tolist() == list(range(40, 100))
    _, found = crowd.locate(np.concatenate([keys, _keys(crowd, [128 + 7])]))
    assert found.tolist() == [True, True, False]  # a leaver is not found any more
    assert crowd.grid("attention")[1, 7] == 0 and np.isinf(crowd.grid("budget")[1, 7])


# -- the streams ---------------------------------------------------------------------------


def test_streams_realign_each_day_whatever_was_drawn_before():
    a, b = Timeline(4), Timeline(4)
    a["posting"].random(1000)  # a heavy day 0 on one side only
    a.start_day(3)
    b.start_day(3)
    assert a["posting"].random() == b["posting"].random()
    assert a["answers"].random() == b["answers"].random()
    c = Timeline(4)
    c.start_day(4)
    assert c["posting"].random() != Timeline(4)["posting"].random()


def test_replicate_streams_differ_by_replicate_and_name_and_timeline_by_seed_only():
    keys = {name: counter_keys(9, [0, 1, 2], name) for name in COUNTER_STREAMS}
    assert len({int(k) for arr in keys.values() for k in arr}) == 3 * len(COUNTER_STREAMS)
    assert counter_keys(9, [2], "exposure")[0] == keys["exposure"][2]  # a replicate's key, whatever the batch
    with pytest.raises(ValueError, match="allowed: crowd, exposure, prospects"):
        counter_keys(9, [0], "posting")
    assert Timeline(9)["posting"].random() == Timeline(9)["posting"].random()
    assert Timeline(9)["posting"].random() != Timeline(10)["posting"].random()
    assert len({Timeline(9)[name].random() for name in TIMELINE_STREAMS}) == len(TIMELINE_STREAMS)
    with pytest.raises(ValueError, match="allowed: 0 to"):
        counter_keys(9, [-1], "crowd")


# -- the processes -------------------------------------------------------------------------


class Recorder:
    """A stand-in batch: records the events the timeline processes send, in time order."""

    def __init__(self, days: int):
        self.days = days
        self.params = P
        self.mechanisms = P.mechanisms
        self.timeline = Timeline(1)
        self.events: list[tuple[str, float]] = []

    def begin_day(self, day):
        from coach import Habits

        self.habits = Habits(posts_per_day=2, posts_per_session=2, outreach_per_day=1)
        self.sitting_starts, self.sitting_sizes = [24.0 * day + 10], [2]
        self.events.append(("day", 24.0 * day))
        return self.habits

    def times_in_active_hours(self, day, count, rng, margin=0.0):
        return [24.0 * day + 15] * count

    def begin_sitting(self, size, t):
        self.events.append(("sitting", t))

    def post(self, j, t):
        self.events.append(("post", t))
        return np.array([7]), np.array([0]), np.array([True])

    def reply_hours_after(self, j, now):
        return 3.0

    def go_through_replies(self, keys, rep, answered, t):
        self.events.append(("replies", t))

    def reach_out(self, t):
        self.events.append(("outreach", t))

    def discover(self, t):
        self.events.append(("discovery", t))

    def close_day(self, day):
        self.events.append(("close", 24.0 * (day + 1)))


def test_the_timeline_processes_send_each_days_events_in_order():
    rec = Recorder(days=2)
    env = simpy.Environment()
    env.process(day_cycle(env, rec))
    env.run()
    gap = P.sitting_gap_minutes / 60
    day0 = [e for e in rec.events if e[1] < 24 or e == ("close", 24.0)]
    assert day0 == [
        ("day", 0.0),
        ("sitting", 10.0),
        ("post", 10.0),
        ("post", 10.0 + gap),
        ("discovery", 12.0),
        ("replies", 13.0),
        ("replies", 13.0 + gap),
        ("outreach", 15.0),
        ("close", 24.0),
    ]
    assert [e[0] for e in rec.events].count("close") == 2


class Instant(Recorder):
    """Replies gone through at once, and a sitting's posts with no gap between them."""

    def __init__(self, days: int):
        super().__init__(days)
        self.params = P.model_copy(update={"sitting_gap_minutes": 0.0})

    def reply_hours_after(self, j, now):
        return 0.0


def test_at_one_instant_the_next_post_comes_before_the_last_posts_replies():
    """The order of same-instant events is stated (coach.model.timeline.posting_day): a post's
    replies, gone through without delay, follow the sitting's next post at that instant."""
    rec = Instant(days=1)
    env = simpy.Environment()
    env.process(day_cycle(env, rec))
    env.run()
    assert [e for e in rec.events if e[1] == 10.0] == [
        ("sitting", 10.0), ("post", 10.0), ("post", 10.0), ("replies", 10.0), ("replies", 10.0),
    ]  # fmt: skip


# -- the mechanisms on hand-built arrays ---------------------------------------------------


def test_exposure_feed_discount_and_hour_visibility():
    assert exposure.feed_multiplier(0, P.feed_decay, P.feed_floor) == 1.0
    assert exposure.feed_multiplier(1, 0.5, 0.25) == pytest.approx(0.625)  # E:F2: 1, 0.625, 0.44 ...
    vis = exposure.visibility_by_hour(np.array(exposure.DEFAULT_ACTIVITY), 80.0)
    assert vis.max() == 1.0 and vis[3] < 0.2 < 0.9 < vis[11]


def test_fatigue_hits_only_those_over_tolerance_and_bursts_flood_at_any_rate():
    cells = np.array([0, 1, 2])
    ratio = np.array([0.5, 2.0, 10.0], F32)
    spread, burst = np.zeros(3, F32), np.zeros(3, F32)
    fatigue.add_fatigue(spread, cells, ratio, P, 1.0, sitting=1)
    fatigue.add_fatigue(burst, cells, ratio, P, 1.0, sitting=12)
    assert spread[0] == 0 and spread[1] == pytest.approx(P.fatigue_strength)  # (2 - 1)^gamma
    capped = P.fatigue_strength * (P.fatigue_cap - 1) ** P.fatigue_gamma
    assert spread[2] == pytest.approx(capped)  # far past the cap...
    assert burst[2] == pytest.approx(capped * (1 + 11 * P.burst_flood_weight))  # ...a burst still costs more
    ranked = np.zeros(3, F32)
    fatigue.add_fatigue(ranked, cells, ratio, P, 0.25, sitting=1)  # seen by a quarter: each stands for 4
    np.testing.assert_allclose(ranked, 4 * spread, rtol=1e-6)
    np.testing.assert_allclose(fatigue.engagement(np.array([0.0, 1.0, 3.0], F32), 2.0), [1.0, 0.5, 0.1], rtol=1e-6)


def test_felt_rate_is_one_formula_for_engine_and_coach():
    load = fatigue.FeedLoad(P.fatigue_memory_hours)
    load.add_sitting(6, 10.0)
    assert load.felt_posts_per_day(10.0) == pytest.approx(6 * 24 / P.fatigue_memory_hours)
    assert fatigue.felt_rate_of_sitting(2, 6, 24.0) == 6.0 and fatigue.felt_rate_of_sitting(8, 1, 24.0) == 8.0
    assert fatigue.felt_rate_of_sitting(0, 6, 24.0) == 0.0
    from coach.diagnosis import felt_peak_posts_per_day
    from coach.platforms import PRESETS

    burst_on_x = scenario(posts_per_day=6, posts_per_session=6).model_copy(update={"platform": PRESETS["x"]})
    assert felt_peak_posts_per_day(burst_on_x) == 6.0  # ranking no longer softens a burst for the coach


def test_content_hazard_starts_past_the_threshold_and_grows_linearly():
    sat = np.array([0.0, -0.5, -1.5, -2.5], F32)
    hazard = content.content_hazard(sat, 1.0, P)
    np.testing.assert_allclose(hazard, [0, 0, P.content_strength, 2 * P.content_strength], rtol=1e-6)
    # stored scaled: the same people, the same hazard
    np.testing.assert_allclose(content.content_hazard(sat * F32(0.5), 2.0, P), hazard, rtol=1e-6)
    table = content.value_table(P, np.array([-1.0, 1.0]), np.array([0.0, 1.0]))
    assert table[content.LINK].tolist() == pytest.approx([-P.value_link, P.value_link])
    assert table[content.QUESTION].tolist() == pytest.approx([0.0, P.value_question])


def test_conversation_bonds_stay_within_capacity_per_replicate():
    p = ModelParams(conversation_capacity=3)
    bonds = conversation.Bonds(2, p)
    grid = np.zeros((2, 8), F32)
    n = np.array([8, 8])

    def grant(t, wanted):
        return bonds.grant(t, np.array(wanted), grid.reshape(-1), n, 8).tolist()

    assert grant(1.0, [2, 5]) == [2, 3]
    grid[0, :2] = grid[1, :3] = 1.0 + p.bond_days * 24
    assert grant(2.0, [2, 1]) == [1, 0]  # only the room left
    grid[1, 0] = 0.0  # one of replicate 1's bonded followers left (retired cells are zeroed)
    assert grant(3.0, [0, 2]) == [0, 1]  # counted exactly at the capacity: its place is free again
    later = 1.0 + p.bond_days * 24 + 1  # every bond has expired
    assert grant(later, [4, 4]) == [3, 3]
    chance = conversation.reply_chance(P, True, np.array([1.0], F32), np.array([0.6], F32), np.array([0.5], F32))
    assert chance[0] == pytest.approx(P.reply_probability * P.question_reply_boost * 0.3)
    hazard = conversation.ignored_hazard(np.array([2.0 * 0.5], F32), 24.0 * 21, 0.0, P)  # 2 replies, chat 0.5
    assert hazard[0] == pytest.approx(2 * 0.5 * P.ignored_strength / math.e, rel=1e-5)  # one memory later


def test_reshare_discovery_and_the_follow_decision():
    table = reshare.reshare_table(P, np.array([0.0, 1.0]))
    assert table[0].tolist() == pytest.approx([P.reshare_probability] * 2)
    assert table[1, 1] == pytest.approx(P.reshare_probability * P.link_reshare_boost)
    # The day's discovery prospects are Poisson(Gamma(shape, scale)): mean kept, over-dispersed (E:B6).
    shape, scale = discovery.gamma_terms(30.0, P.discovery_dispersion)
    assert discovery.gamma_terms(0.0, P.discovery_dispersion)[0] == 0 and shape * scale == pytest.approx(30.0)
    rng = np.random.default_rng(1)
    counts = rng.poisson(rng.standard_gamma(np.full(4000, shape)) * scale)
    assert 27 < np.mean(counts) < 33 and np.var(counts) > 2 * np.mean(counts)
    busy, quiet = discovery.discovery_mean(50, 6.0, np.ones(1), P), discovery.discovery_mean(50, 0.0, np.ones(1), P)
    assert quiet[0] == pytest.approx(50 * (1 - P.discovery_activity_weight)) and busy[0] > 50
    one = np.ones(1)
    base = discovery.follow_logit(P, 0 * one, 0 * one, 0 * one, 0 * one, 0.0, one < 0, 0.0, one < 0)[0]
    assert 1 / (1 + math.exp(-base)) == pytest.approx(P.follow_base_probability)
    followed = discovery.follow_logit(P, 0 * one, 0 * one, 0 * one, 0 * one, 0.0, one > 0, 0.0, one < 0)[0]
    assert followed - base == pytest.approx(math.log(P.followed_odds))
    dead = discovery.follow_logit(P, 0 * one, 0 * one, 0 * one, 0 * one, 0.0, one < 0, 1.0, one < 0)[0]
    assert base - dead == pytest.approx(P.dead_penalty)


def test_neglect_and_churn_hazards():
    day = 24.0
    assert neglect.neglect_hazard(10 * day, 9.5 * day, P) == 0.0  # posted within a day
    assert neglect.neglect_hazard(100 * day, 0.0, P) == pytest.approx(P.neglect_strength)  # full after 60 days
    assert neglect.abandoned(10 * day, 9 * day, P) == 0.0 and neglect.abandoned(20 * day, 0.0, P) == 1.0
    assert churn.daily_hazard(0.03) == pytest.approx(-math.log(0.97) / 30)
    ratio = F32(P.reciprocal_ratio)
    base = [churn.base_churn_of(F32(0.01), r, ratio) for r in (False, True)]
    assert base == pytest.approx([0.01, 0.01 * P.reciprocal_ratio])
    # Ageing of new ties: tests/test_kernels.py (the close's compiled pass).
