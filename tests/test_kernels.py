"""The compiled passes (coach/model/kernels.py) against plain numpy on hand-built crowds,
and the counter-based draws against the distributions they claim."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from coach import ModelParams
from coach.model import content, conversation, discovery, fatigue, kernels
from coach.model.crowd import F32, SPARE_UID, Crowd

P = ModelParams()
N_DRAWS = 200_000


def keys(n: int, salt: int = 0) -> np.ndarray:
    return (np.arange(n, dtype=np.uint64) + np.uint64(salt)) * np.uint64(0x9E3779B1) + np.uint64(77)


@numba.njit
def _draws(keys, day, means, gamma):
    """One sampler per key and column (a running counter per key), as the day's pass draws them."""
    out = np.zeros(means.shape)
    for b in range(means.shape[0]):
        ev = kernels.event_key(keys[b], day, kernels.EVENT_COUNTS)
        counter = 0
        for k in range(means.shape[1]):
            if gamma:
                out[b, k], counter = kernels.standard_gamma(means[b, k], ev, counter)
            else:
                out[b, k], counter = kernels.poisson(means[b, k], ev, counter)
    return out


def day_counts(keys, day, means):
    return _draws(keys, day, means, False)


def day_gammas(keys, day, shapes):
    return _draws(keys, day, shapes, True)


@pytest.mark.parametrize("lam", [0.3, 4.0, 9.99, 10.0, 55.0, 3000.0])
def test_poisson_counts_have_the_poisson_mean_and_variance(lam):
    counts = day_counts(keys(N_DRAWS), 3, np.full((N_DRAWS, 1), lam))[:, 0]
    se = (lam / N_DRAWS) ** 0.5
    assert abs(counts.mean() - lam) < 5 * se
    assert abs(counts.var() / lam - 1) < 5 * (2 / N_DRAWS) ** 0.5 * (1 + 1 / lam) ** 0.5
    assert counts.min() >= 0


@pytest.mark.parametrize("shape", [0.05, 0.5, 1.0, 3.0, 40.0])
def test_gammas_have_the_gamma_mean_and_variance(shape):
    g = day_gammas(keys(N_DRAWS), 3, np.full((N_DRAWS, 1), shape))[:, 0]
    assert abs(g.mean() - shape) < 5 * (shape / N_DRAWS) ** 0.5
    assert abs(g.var() / shape - 1) < 0.05
    assert (g >= 0).all()
    assert (day_gammas(keys(3), 3, np.zeros((3, 1))) == 0).all()  # shape 0: nothing


def test_draws_depend_on_key_day_and_event_only():
    a = day_counts(keys(50), 4, np.full((50, 2), 30.0))
    b = day_counts(keys(50)[::-1].copy(), 4, np.full((50, 2), 30.0))[::-1]
    np.testing.assert_array_equal(a, b)  # a replicate's draws do not depend on its place in the batch
    assert not np.array_equal(a, day_counts(keys(50), 5, np.full((50, 2), 30.0)))  # another day


def test_the_days_prospects_keep_each_channels_mean_and_share():
    """One Poisson count of all channels given the day's gammas: the mean is the channels' sum,
    each prospect's channel in proportion; outreach targets come first; likes are counted."""
    R = 20_000
    k = keys(R, 3)
    room, shape = np.full(R, 0.5), np.tile([[4.0], [1.0]], (1, R))  # (reach class, replicate)
    args = dict(discovery_mean=np.full(R, 30.0), conversation_mean=np.full(R, 5.0), outreach_mean=np.full(R, 2.0))

    def run(keys_, reshare_on=True):
        record, cdf, totals = np.zeros((3, len(keys_))), np.empty((len(keys_), 4)), np.empty(len(keys_), np.int64)
        kernels.day_prospects(
            keys_, 6, args["discovery_mean"][: len(keys_)], P.discovery_dispersion, reshare_on, shape[:, : len(keys_)],
            10.0, P.reshare_dispersion, np.array([1.0, 0.5]), 0.8, room[: len(keys_)],
            args["conversation_mean"][: len(keys_)], args["outreach_mean"][: len(keys_)], np.full(len(keys_), 7.0),
            3, record, 1, cdf, totals,
        )  # fmt: skip
        return record[1], cdf, totals

    likes, cdf, totals = run(k)
    shared = 10.0 * 0.8 * 0.5 * (4.0 * 1.0 + 1.0 * 0.5) / P.reshare_dispersion  # shape x scale, both classes
    mean = shared + 5.0 + 2.0 + 30.0
    assert abs((totals - 3).mean() / mean - 1) < 0.02 and abs(likes.mean() / 7.0 - 1) < 0.02
    share = np.diff(np.column_stack([np.zeros(R), cdf]), axis=1).mean(axis=0)
    np.testing.assert_allclose(share, np.array([shared, 5.0, 2.0, 30.0]) / mean, atol=0.02)
    assert np.allclose(cdf[:, -1], 1.0)
    assert (totals - 3).var() > 1.5 * mean  # the gammas' luck: over-dispersed, not Poisson
    rev = run(k[:50][::-1].copy())
    assert rev[2][::-1].tolist() == totals[:50].tolist()  # a replicate's count does not depend on its place
    _, cdf_off, totals_off = run(k, reshare_on=False)
    assert cdf_off[:, 0].max() == 0 and abs((totals_off - 3).mean() / (mean - shared) - 1) < 0.02


@numba.njit
def _compress_all(values, out):
    """Every whole block of LANES through kernels.compress_negative, as the post pass uses it."""
    seen = 0
    for first in range(0, len(values) - len(values) % kernels.LANES, kernels.LANES):
        seen += kernels.compress_negative(values, first, out, seen)
    return seen


@pytest.mark.parametrize("share", [0.0, 0.24, 1.0])
def test_compress_negative_writes_the_negative_columns_in_order(share):
    """The vector compaction gives the columns numpy's flatnonzero gives: in order, -0.0 and
    NaN not negative, nothing written past the last block's lanes."""
    rng = np.random.default_rng(3)
    values = np.where(rng.random(16 * 37) < share, -rng.random(16 * 37), rng.random(16 * 37)).astype(F32)
    values[[5, 40, 77]] = [-0.0, np.nan, -np.inf]
    out = np.full(len(values) + 16, 99_999, np.uint32)
    seen = _compress_all(values, out)
    want = np.flatnonzero(values < 0)
    assert seen == len(want) and out[:seen].tolist() == want.tolist()
    assert (out[len(values) :] == 99_999).all()


def crowd_arrays(rows: int, C: int, n: np.ndarray, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    cells = rows * C
    live = (np.arange(cells) % C) < np.repeat(n, C)
    return {
        "attention": np.where(live, rng.choice([0.2, 0.5, 0.9], cells), 0).astype(F32),
        "tolerance": rng.lognormal(1.0, 0.7, cells).astype(F32),
        "fatigue": np.zeros(cells, F32),
        "sat": rng.normal(0, 1, cells).astype(F32),
        "segment": rng.integers(0, 2, cells).astype(np.int8),
        "reply_will": rng.choice([0.5, 1.0], cells).astype(F32),
    }


def test_post_pass_matches_the_laws_applied_with_numpy():
    """Every follower's uniform is rebuilt from the key; then seen, fatigue, content, likes,
    reshares and replies follow the mechanism modules' laws exactly."""
    R, C, n = 3, 40, np.array([40, 0, 25])
    a = crowd_arrays(R, C, n)
    ref = {k: v.copy() for k, v in a.items()}
    k = keys(R, 9)
    p_see, felt, strength, sat_mult = 0.8, 3.0, 0.01, 0.5
    value = np.array([[9.0, 9.0], [0.2, -0.4]], F32)  # per post kind and segment; this post is of kind 1
    sat_add = value[1] * F32(sat_mult)
    reshare = np.array([[0.9, 0.9], [0.2, 0.3]], F32)
    reshare_p, reply_base, reply_rate = reshare[1], 0.5, 0.6
    chat_seg = np.array([0.2, 1.0], F32)  # the chat appetite of each segment
    likes, shape, record = (
        np.zeros(R),
        np.zeros((2, R)),
        np.zeros((3, 4, R)),
    )  # record rows: seen 3, reshares 0, replies 1
    replies, answered = np.empty((3, R * C), np.int64), np.empty(R * C, np.bool_)
    uid = np.arange(R * C, dtype=np.int64) * 7
    replied = kernels.post_pass(
        n, C, k, 2, 5, 1, a["attention"], a["tolerance"], a["fatigue"], a["sat"], a["segment"], a["reply_will"], uid,
        chat_seg, value, reshare, np.empty(C, np.uint32), np.empty(C, F32), p_see, felt, sat_mult, strength,
        reply_base, reply_rate, True, P.fatigue_cap, P.fatigue_gamma, 2.0, True, True, 0.25, 0.5, likes, shape, 1,
        record, np.array([3, 0, 1]), replies, answered,
    )  # fmt: skip
    felt = F32(felt)
    assert shape[0].sum() == 0 and record[[0, 1]].sum() == 0  # the other reach class and days are untouched
    shape, record = shape[1], record[2]
    cells = replies[0]
    want = np.zeros((4, R))  # seen, engagement, reshares, replies per replicate

    want_cells, want_answered = [], []
    for b in range(R):
        ev = kernels.event_key(k[b], 2, 5)
        for col in range(n[b]):
            i = b * C + col
            chance = ref["attention"][i] * F32(p_see)
            u = kernels.uniform32(ev, col)
            if not u < chance:
                continue
            v = 1 + (u - chance) / chance  # u / chance, from what the first pass keeps
            ratio = felt / ref["tolerance"][i]
            ref["fatigue"][i] += fatigue.seen_post_hazard(float(ratio), P.fatigue_cap, P.fatigue_gamma, strength)
            engage = fatigue.engagement(float(ratio), 2.0)
            s = ref["segment"][i]
            ref["sat"][i] += sat_add[s]
            want[0, b] += 1
            want[1, b] += engage
            if v >= 1 - reshare_p[s] * engage:
                want[2, b] += 1
                continue
            rp = conversation.reply_chance_of(reply_base, float(chat_seg[s]), float(ref["reply_will"][i]), engage)
            if v < rp:
                want[3, b] += 1
                want_cells.append(i)
                want_answered.append(v / rp < reply_rate)
    np.testing.assert_allclose(a["fatigue"], ref["fatigue"], rtol=1e-5)
    np.testing.assert_allclose(a["sat"], ref["sat"], rtol=1e-5)
    assert cells[:replied].tolist() == want_cells and answered[:replied].tolist() == want_answered
    assert replies[1, :replied].tolist() == [c // C for c in want_cells]  # each replier's replicate
    assert replies[2, :replied].tolist() == [7 * c for c in want_cells]  # and uid
    assert record[3].tolist() == want[0].tolist() and record[0].tolist() == want[2].tolist()
    assert record[1].tolist() == want[3].tolist() and record[2].sum() == 0  # replies per replicate; row 2 untouched
    np.testing.assert_allclose(likes, 0.25 * want[1], rtol=1e-6)  # like chance x engagement summed
    np.testing.assert_allclose(shape, 0.5 * want[2])  # dispersion x reshares
    assert want[0, 1] == 0 and 0.3 * (40 + 25) < want[0].sum() < 0.9 * (40 + 25)  # an empty row sees nothing


def test_the_profile_adds_the_days_posts_in_order_as_post_by_post():
    rng = np.random.default_rng(4)
    value = rng.normal(size=(4, 3)).astype(F32)  # kinds x segments, as the batch keeps them
    keep = content.profile_keep(ModelParams())
    steps = ((1 - keep) * value).astype(float)
    kinds = rng.integers(0, 4, 40)
    start = rng.normal(size=3)
    expected = list(start)
    for kind in kinds:  # the running mean, one post at a time, in Python floats
        expected = [keep * x + step for x, step in zip(expected, steps[kind].tolist(), strict=True)]
    profile = start.copy()
    kernels.add_to_profile(profile, steps, keep, kinds)
    assert profile.tolist() == expected  # the same sums in the same order: equal to the bit
    assert not np.allclose(profile, start)


def test_the_close_counts_reasons_in_the_order_results_report_them():
    from coach.results import REASONS

    assert kernels.REASON_ORDER == REASONS and REASONS[kernels.CHURN] == "churn" == REASONS[-1]


def test_close_pass_sums_the_laws_and_draws_reasons_in_proportion():
    """Hand-built hazards: who leaves and each leaver's reason follow the hazards' shares."""
    R, C, m = 2, 5000, 4000
    n = np.array([m, m])
    rng = np.random.default_rng(1)
    cells = R * C
    f = {
        "budget": np.where(np.arange(cells) % C < m, 0.05, np.inf).astype(F32),
        "fatigue": np.full(cells, 0.02, F32),
        "churn": np.full(cells, 0.01, F32),
        "churn_now": np.full(cells, 0.03, F32),
        "tie_start": np.tile(np.sort(rng.uniform(-100, 100, C)), R).astype(F32),  # each row sorted
        "sat": np.full(cells, -3.0, F32),
        "ignored_chat": np.zeros(cells, F32),
        "bonded_until": np.zeros(cells, F32),
        "reason_u": rng.random(cells).astype(F32),
    }
    f["bonded_until"][C : C + 100] = 1000.0  # some bonded followers in row 1
    leavers, record = np.empty(cells, np.int64), np.zeros((7, R))  # a day's record: total in row 6, reasons 1..5
    scale = 1.0
    h_content = float(content.hazard_of(F32(-3.0), scale, P.content_threshold, P.content_strength))
    budget = f["budget"].copy()
    left = kernels.close_pass(
        n, C, budget, f["fatigue"], f["churn"], f["churn_now"], f["tie_start"], f["sat"],
        f["ignored_chat"], f["bonded_until"], f["reason_u"], True, True, True, True, F32(-1e9), F32(0.0),
        scale, P.content_threshold, P.content_strength, 0.1, 0.0, 0.1, True, 24.0, leavers, record,
        np.array([6, 1, 2, 3, 4, 5]),
    )  # fmt: skip
    by_reason = record[1:6].T
    # Ties started by hour 0 aged: their churn is the base 0.01, the rest keep 0.03.
    old, live = f["tie_start"] <= 0, np.arange(cells) % C < m
    np.testing.assert_allclose(f["churn_now"][old & live], 0.01)
    np.testing.assert_allclose(f["churn_now"][~old | ~live], 0.03)  # spare cells are never touched
    total = 0.02 + h_content + np.where(old, 0.01, 0.03)
    bonded = np.zeros(cells, bool)
    bonded[C : C + 100] = True
    total = np.where(bonded, 0.1 * total, total)
    expect = np.flatnonzero(live & (F32(0.05) - total.astype(F32) <= 0))
    assert len(expect) > 1000 and sorted(leavers[:left].tolist()) == expect.tolist()
    stay = live & ~np.isin(np.arange(cells), expect)
    np.testing.assert_allclose(budget[stay], (F32(0.05) - total.astype(F32))[stay], rtol=1e-5)  # what is left
    assert np.isinf(budget[~live]).all()  # spare cells: never spent
    assert (f["fatigue"][live] == 0).all()  # collected fatigue is cleared
    assert record[6].tolist() == by_reason.sum(axis=1).tolist() and record[0].sum() == 0
    assert record[6].tolist() == np.bincount(leavers[:left] // C, minlength=R).tolist()
    # Reasons in proportion to the hazards (fatigue, content, churn; no ignored or neglect).
    share = by_reason.sum(axis=0) / left
    hazards = np.array([0.02, h_content, 0.0, 0.0, 0.03])  # the leavers are new ties
    np.testing.assert_allclose(share, hazards / hazards.sum(), atol=0.03)


def test_prospects_decide_by_the_follow_law():
    """Without outreach, and with every coefficient but the base zero, the share who follow is the base chance."""
    p = ModelParams(follow_base_probability=0.3, fit_weight=0, chat_weight=0, exposure_odds=1, volume_odds=1)
    coef = discovery.follow_coefficients(p)
    R, count = 4, 20_000
    rows = R * count
    out = [np.empty(rows, t) for t in (np.int64, np.int8, np.bool_, np.bool_, np.int64, float, F32, F32)]
    record = np.zeros((6, R))
    k = kernels.decide_prospects(
        keys(R), 1, np.arange(R), np.zeros(R, np.int64), np.full(R, count), 10, 0, 2,
        np.tile([0.25, 0.5, 0.75, 1.0], (R, 1)), np.array([0.5, 1.0]), np.zeros(2), np.zeros(2), np.zeros(R),
        1.0, 0.0, 0, 0.5, coef, 0.0, 0.5, *out, record, np.array([0, 1, 2, 3, 4, 5]),
    )  # fmt: skip
    assert abs(k / rows - 0.3) < 0.01
    rep, seg, followed, back, channel, noise, budget, reason = (x[:k] for x in out)
    assert record[0].tolist() == np.bincount(rep, minlength=R).tolist()  # the day's counts per replicate
    assert record[1].tolist() == np.bincount(rep[back & ~followed], minlength=R).tolist()
    assert record[2:].T.tolist() == np.bincount(rep * 4 + channel, minlength=R * 4).reshape(R, 4).tolist()
    assert (np.diff(rep) >= 0).all() and set(np.unique(seg)) == {0, 1}
    assert abs(back.mean() - 0.5) < 0.02 and abs(np.bincount(channel, minlength=4) / k - 0.25).max() < 0.02
    assert abs(noise.mean()) < 0.03 and abs(noise.std() - 1) < 0.03 and abs(budget.mean() - 1) < 0.03
    assert 0 <= reason.min() and reason.max() < 1
    assert discovery.extra_exposures(0.0, 2.0, 5) == 0 and discovery.extra_exposures(0.999999, 2.0, 5) == 5


def test_the_starting_crowd_has_sorted_exponential_tie_ages_and_the_segment_shares():
    """Starting followers are admitted straight into the crowd's rows, each field by its law."""
    R, count, mean_age = 3, 20_000, 400.0
    crowd = Crowd(R, count + 50)
    traits = (
        np.array([4.0, 9.0], F32), np.array([0.3, 0.5], F32), np.array([0.01, 0.02], F32)
    )  # fmt: skip
    spread, recip_ratio, new_ratio = 0.5, 0.25, 2.0
    crowd.seed(keys(R), count, np.array([0.25, 1.0]), 0.4, mean_age, traits, (spread, recip_ratio, new_ratio))
    assert crowd.n.tolist() == [count] * R and crowd.next_uid.tolist() == [count] * R
    use = (slice(None), slice(0, count))
    g = {name: crowd.grid(name)[use] for name in ("tie_start", "segment", "reciprocal", "budget", "reason_u")}
    rows, seg, recip, budget, reason = g["tie_start"], g["segment"], g["reciprocal"], g["budget"], g["reason_u"]
    assert (crowd.grid("uid")[use] == np.arange(count)).all() and (np.diff(crowd.keys()) >= 0).all()
    assert (crowd.grid("uid")[:, count:] == SPARE_UID).all() and np.isinf(crowd.grid("budget")[:, count:]).all()
    assert (np.diff(rows, axis=1) >= 0).all() and (rows < 0).all()  # oldest first, all started before hour 0
    assert abs(-rows.mean() / mean_age - 1) < 0.03 and abs(np.median(-rows) / (mean_age * np.log(2)) - 1) < 0.03
    assert abs((seg == 0).mean() - 0.25) < 0.01 and abs(recip.mean() - 0.4) < 0.01
    assert abs(budget.mean() - 1) < 0.02 and 0 <= reason.min() < reason.max() < 1
    # Traits from the segment; tolerance log-normal around its median; churn by the tie's kind.
    assert (crowd.grid("attention")[use] == traits[1][seg]).all()
    log_tol = np.log(crowd.grid("tolerance")[use] / traits[0][seg])
    assert abs(log_tol.mean()) < 0.02 and abs(log_tol.std() / spread - 1) < 0.02
    churn = crowd.grid("churn")[use]
    np.testing.assert_allclose(churn, traits[2][seg] * np.where(recip, recip_ratio, 1.0), rtol=1e-6)
    np.testing.assert_allclose(crowd.grid("churn_now")[use], churn * new_ratio, rtol=1e-6)
    assert (crowd.grid("reply_will")[use] == 1).all() and (crowd.grid("sat")[use] == 0).all()
    assert not np.array_equal(rows[0], rows[1])  # replicates differ


def test_the_starting_crowd_is_the_same_drawn_in_blocks_of_any_size(monkeypatch):
    """Crowd.seed draws its uniforms a block at a time (rows, or pieces of a row); the block size changes nothing."""
    from coach.model import crowd as crowd_module

    R, count = 5, 300
    traits = (np.array([4.0, 9.0], F32), np.array([0.3, 0.5], F32), np.array([0.01, 0.02], F32))
    laws, cdf = (0.5, 0.25, 2.0), np.array([0.4, 1.0])

    def seeded(block: int) -> Crowd:
        monkeypatch.setattr(crowd_module, "SEED_BLOCK", block)
        crowd = Crowd(R, count + 10)
        crowd.seed(keys(R, 3), count, cdf, 0.3, 500.0, traits, laws)
        return crowd

    whole = seeded(1 << 16)  # one block
    for block in (2 * count, 128):  # blocks of two, two and one rows; rows in pieces of 128, 128 and 44
        blocks = seeded(block)
        for name in ("segment", "tolerance", "attention", "reciprocal", "tie_start", "churn", "budget", "reason_u"):
            assert np.array_equal(whole.grid(name), blocks.grid(name)), (block, name)
        assert whole.n.tolist() == blocks.n.tolist() == [count] * R
    assert not np.array_equal(whole.grid("tolerance")[0], whole.grid("tolerance")[1])  # rows drew their own
