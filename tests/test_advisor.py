"""The coach (issue 4): direction of advice on purpose-built personas, budgets, determinism,
the search on planted optima, plain-language sentences, and ``coach advise`` end to end.

The personas carry strong signals on a chronological platform (mastodon: no feed discount,
links reach as far as text), so the expected direction does not hang on calibration details.
They are small (200 followers, 30–40 days) to keep this file fast.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coach import Scenario, advisor, experiments
from coach.advisor import (
    DEFAULT_SPACE,
    Advice,
    Dimension,
    advise,
    default_budget,
    diagnose,
    pointwise,
    search,
    sensitivity,
    variant,
)
from coach.advisor import _sentence as sentence
from coach.advisor import _valid as advise_valid
from coach.cli.advise import advice_table
from coach.experiments import run_batch, worker_count
from coach.search import Outcome

ROOT = Path(__file__).resolve().parent.parent
R = 5  # runs per candidate: the signals below are strong


def _persona(name: str, days: int = 30, **habits: float) -> dict:
    return {"name": name, "days": days, "platform": "mastodon", "habits": habits}


def _audience(**segment: float) -> dict:
    return {"followers": 200, "prospects_per_day": 20, "segments": [{"name": "general", "share": 1.0, **segment}]}


OVER_POSTER = Scenario(
    **_persona("over-poster", posts_per_day=24, posts_per_session=8, reply_rate=0.5, outreach_per_day=2),
    audience=_audience(tolerance_posts_per_day=4),
)
BROADCASTER = Scenario(
    **_persona("broadcaster", days=40, posts_per_day=3, reply_rate=0.0, outreach_per_day=0.0),
    audience=_audience(chat_appetite=0.9),
)
LINKER = Scenario(
    **_persona("linker", posts_per_day=3, link_share=0.9, promo_share=0.0, question_share=0.0),
    audience=_audience(chat_appetite=0.8, link_appetite=-0.8),
)
TINY = Scenario(name="tiny", days=15, audience={"followers": 80, "prospects_per_day": 10})


@pytest.fixture(scope="module")
def over_advice() -> Advice:
    return advise(OVER_POSTER, replicates=R, seed=11)


@pytest.fixture(scope="module")
def broadcaster_advice() -> Advice:
    return advise(BROADCASTER, replicates=R, seed=11)


@pytest.fixture(scope="module")
def linker_advice() -> Advice:
    return advise(LINKER, replicates=R, seed=11)


# --------------------------------------------------------------------------------------
# The advice points the right way
# --------------------------------------------------------------------------------------


def test_over_poster_is_told_to_post_less_or_spread_out(over_advice: Advice):
    assert over_advice.suggestions, over_advice.message
    top = over_advice.suggestions[0].changes
    fewer = top.get("posts_per_day", 24) < 24
    spread = top.get("posts_per_session", 8) < 8
    assert fewer or spread, top
    assert all(s.changes.get("posts_per_day", 0) <= 24 for s in over_advice.suggestions)
    # The diagnosis names fatigue first among the reasons, with figures.
    reasons = [f for f in over_advice.diagnosis if f.topic in ("fatigue", "content", "ignored", "neglect")]
    assert reasons and reasons[0].topic == "fatigue"
    assert "%" in reasons[0].finding and "tolerate" in reasons[0].evidence


def test_broadcaster_is_told_to_answer_or_reach_out(broadcaster_advice: Advice):
    assert broadcaster_advice.suggestions, broadcaster_advice.message
    top = broadcaster_advice.suggestions[0].changes
    assert top.get("reply_rate", 0) > 0 or top.get("outreach_per_day", 0) > 0, top
    assert any(f.topic == "conversation" for f in broadcaster_advice.diagnosis)


def test_linker_with_a_chatty_audience_is_told_to_link_less(linker_advice: Advice):
    assert linker_advice.suggestions, linker_advice.message
    assert linker_advice.suggestions[0].changes.get("link_share", 0.9) < 0.9
    assert not any(s.changes.get("link_share", 0) > 0.9 for s in linker_advice.suggestions)
    assert any(f.topic == "content" for f in linker_advice.diagnosis)


# --------------------------------------------------------------------------------------
# Budgets, honesty, shape
# --------------------------------------------------------------------------------------


def test_default_budget_and_suggestions_fit_it(over_advice: Advice, broadcaster_advice: Advice, linker_advice: Advice):
    for advice in (over_advice, broadcaster_advice, linker_advice):
        current = float(np.median(advice.baseline.values("minutes_per_day")[: advice.replicates]))
        assert advice.budget_minutes_per_day == pytest.approx(default_budget(current))
        for s in advice.suggestions:
            assert s.minutes_per_day <= advice.budget_minutes_per_day


def test_a_tight_budget_is_respected_even_below_current_habits():
    current = float(np.median(run_batch([LINKER], range(R), 11)[0].values("minutes_per_day")))
    budget = current / 2
    advice = advise(LINKER, budget_minutes=budget, replicates=R, seed=11)
    assert advice.suggestions, advice.message  # posting less always fits
    for s in advice.suggestions:
        assert s.minutes_per_day <= budget
    assert "more than your budget" in advice.message


def test_suggestions_are_meaningful_paired_gains_best_first(broadcaster_advice: Advice):
    gains = [s.gain["median"] for s in broadcaster_advice.suggestions]
    assert gains == sorted(gains, reverse=True)
    for s in broadcaster_advice.suggestions:
        assert s.gain["median"] >= broadcaster_advice.min_gain
        assert s.gain["p10"] <= s.gain["median"] <= s.gain["p90"]
        assert s.wins >= 0.75
        assert 1 <= len(s.changes) <= 2
        assert s.followers_end["median"] > broadcaster_advice.baseline.summary()["followers_end"]["median"]


def test_near_best_when_no_change_can_matter():
    # Minutes per post change the time cost but not a single draw of the simulation: every
    # candidate's paired gain is exactly zero (common random numbers), so nothing is suggested.
    space = (Dimension("minutes_per_post", 1, 6, 1, style="hours"),)
    advice = advise(TINY, replicates=3, seed=2, space=space)
    assert advice.near_best and not advice.suggestions
    assert "already near the best" in advice.message
    for row in advice.sensitivity:
        for side in (row.low, row.high):
            if side:
                assert side["gain"] == {"median": 0.0, "p10": 0.0, "p90": 0.0}


def test_to_dict_has_the_issue_shape(linker_advice: Advice):
    data = json.loads(json.dumps(linker_advice.to_dict()))
    assert {"baseline", "budget_minutes_per_day", "diagnosis", "suggestions", "sensitivity"} <= set(data)
    assert set(data["baseline"]["followers_end"]) == {"median", "p10", "p90"}
    assert all(set(f) >= {"finding", "evidence"} for f in data["diagnosis"])
    for s in data["suggestions"]:
        assert set(s) >= {"changes", "followers_end", "gain", "minutes_per_day", "text"}
        assert set(s["gain"]) == {"median", "p10", "p90"}
    habits = [row["habit"] for row in data["sensitivity"]]
    assert sorted(habits) == sorted(d.habit for d in DEFAULT_SPACE)
    for row in data["sensitivity"]:
        for side in (row["low"], row["high"]):
            assert side is None or (set(side) >= {"value", "gain"} and set(side["gain"]) == {"median", "p10", "p90"})
    sittings = next(row for row in data["sensitivity"] if row["habit"] == "posts_per_session")
    assert sittings["low"] is None and sittings["high"]["value"] == 2  # one post per sitting is the least there is


def test_sensitivity_alone_matches_the_advice_on_the_same_seeds(linker_advice: Advice):
    rows = {r.habit: r for r in sensitivity(LINKER, replicates=R, seed=11)}
    for row in linker_advice.sensitivity:
        assert rows[row.habit].to_dict() == row.to_dict()


# --------------------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------------------


def test_same_inputs_give_identical_advice_and_the_seed_matters():
    a = json.dumps(advise(TINY, replicates=3, seed=5).to_dict())
    b = json.dumps(advise(TINY, replicates=3, seed=5).to_dict())
    c = json.dumps(advise(TINY, replicates=3, seed=6).to_dict())
    assert a == b
    assert a != c


def test_progress_counts_every_run_and_ends_at_its_total():
    calls: list[tuple[int, int]] = []
    advice = advise(OVER_POSTER, replicates=2, seed=11, progress=lambda done, total: calls.append((done, total)))
    done = [d for d, _ in calls]
    assert done == sorted(done) and all(d <= t for d, t in calls)
    assert calls[-1][0] == calls[-1][1] == done[-1]
    # two paired runs make no 80% interval: a suggestion says their median, and so
    assert advice.suggestions and all(
        "80%" not in s.text and "(median of 2 paired runs)" in s.text for s in advice.suggestions
    )
    # every run is counted once: 2 per candidate searched, then 2 fresh ones per finalist and baseline
    searched = advice.candidates_evaluated * 2
    assert done[-1] > searched and (done[-1] - searched) % 2 == 0
    # the total is exact from the verdict's first run on: it does not creep up run by run
    fresh = done[-1] - searched
    assert {t for _, t in calls[-fresh:]} == {done[-1]}


BIG = Scenario(
    name="big", days=20, platform="mastodon", habits={"posts_per_day": 3, "reply_rate": 0.2},
    audience={"followers": advisor.PILOT_FOLLOWERS, "prospects_per_day": 40},
)  # fmt: skip
TWO_HABITS = tuple(d for d in DEFAULT_SPACE if d.habit in ("posts_per_day", "reply_rate"))


@pytest.mark.parametrize("precision, kept", [(1e9, 2), (1e-9, 6)])
def test_the_search_keeps_as_many_replicates_as_the_probes_noise_needs(monkeypatch, precision: float, kept: int):
    """A large audience's probes run on 2 replicates first; their noise decides how many the
    search keeps. A probe extended to more is the same as run on all at once, every gain is
    paired on the kept replicates, and the verdict still has every replicate, fresh."""
    monkeypatch.setattr(advisor, "PRECISION", precision)
    a = advise(BIG, replicates=6, seed=3, space=TWO_HABITS)
    assert a.search_replicates == kept and a.replicates == 6
    start = a.search_result.start
    assert len(start.outcome.values) == kept
    low, high = a.search_result.probes["posts_per_day"]
    for probe in (low, high):
        direct = run_batch([variant(BIG, probe.point)], range(kept), 3, parallel=False)[0]
        np.testing.assert_array_equal(probe.outcome.values, direct.values("followers_end"))
        np.testing.assert_array_equal(probe.gain, probe.outcome.values - start.outcome.values)
    assert a.baseline.replicates == 12  # the start's 6 search runs and 6 fresh ones
    assert a.to_dict()["search"]["replicates"] == kept
    said = "2 runs each in the search, 6 fresh for the verdict" if kept == 2 else "6 runs per candidate"
    table = advice_table(a)
    assert said in table.splitlines()[0]
    # Two runs make no 80% interval: the sensitivity then shows their median, and says so
    assert ("median of 2 paired runs" in table) == (kept == 2) and ("median (80% interval)" in table) == (kept == 6)
    alone = sensitivity(BIG, replicates=6, seed=3, space=TWO_HABITS)  # the same probes, measured the same way
    assert [row.to_dict() for row in alone] == [row.to_dict() for row in a.sensitivity]


def test_a_small_audience_searches_on_every_replicate():
    """Below PILOT_FOLLOWERS there is no pilot: every candidate runs on every replicate."""
    small = BIG.model_copy(
        update={"audience": BIG.audience.model_copy(update={"followers": advisor.PILOT_FOLLOWERS - 1})}
    )
    a = advise(small, replicates=4, seed=3, space=TWO_HABITS)
    assert a.search_replicates == 4 and len(a.search_result.start.outcome.values) == 4


def test_the_pools_last_round_is_cut_finer_so_the_cores_end_together(monkeypatch):
    monkeypatch.setattr(experiments, "worker_count", lambda: 2)
    three = [TINY, TINY.with_habits(posts_per_day=5), TINY.with_habits(posts_per_day=2)]
    tasks = experiments._pool_tasks(three, list(range(6)))
    assert tasks == [(0, [0, 1, 2, 3, 4, 5]), (1, [0, 1, 2, 3, 4, 5]), (2, [0, 1, 2]), (2, [3, 4, 5])]
    assert experiments._pool_tasks(three[:2], list(range(6))) == [(0, list(range(6))), (1, list(range(6)))]
    assert experiments._pool_tasks(three[:1], [4, 5]) == [(0, [4]), (0, [5])]  # one scenario: one part a core


def test_run_batch_is_the_same_in_the_pool_and_in_process():
    variants = [TINY, TINY.with_habits(posts_per_day=5), TINY.with_habits(posts_per_day=2)]  # odd: a split task
    serial = run_batch(variants, range(2, 5), 3, parallel=False)
    pooled = run_batch(variants, range(2, 5), 3, parallel=True)
    for s, p in zip(serial, pooled, strict=True):
        assert [r.replicate for r in s.runs] == [2, 3, 4]
        np.testing.assert_array_equal(s.series("followers"), p.series("followers"))


def test_a_change_starts_today_and_the_plan_still_applies():
    sc = Scenario(days=60, timeline=[{"day": 30, "habits": {"posts_per_day": 8, "question_share": 0.3}}])
    schedule = variant(sc, {"posts_per_day": 1.0}).habit_schedule()
    assert [h.posts_per_day for _, h in schedule] == [1.0, 8.0]
    with pytest.raises(ValueError):  # 0.8 links, then 0.3 questions, is more than all posts
        variant(sc, {"link_share": 0.8})
    assert not advise_valid(sc)({"link_share": 0.8}) and advise_valid(sc)({"link_share": 0.5})


# --------------------------------------------------------------------------------------
# The search itself, on toy objectives
# --------------------------------------------------------------------------------------

TOY_SPACE = (Dimension("posts", 0, 10, 1), Dimension("reply", 0.0, 1.0, 0.1), Dimension("idle", 0, 5, 1))


def _toy(h: dict[str, float]) -> float:
    return -((h["posts"] - 4) ** 2) - 20 * (h["reply"] - 0.7) ** 2


@pytest.mark.parametrize("start", [{"posts": 1, "reply": 0.1, "idle": 2}, {"posts": 10, "reply": 1.0, "idle": 0}])
def test_search_finds_a_planted_optimum(start):
    result = search(TOY_SPACE, start, pointwise(_toy))
    best = result.best_by_habits()[0]
    assert best.point["posts"] == 4 and best.point["reply"] == pytest.approx(0.7)
    assert "idle" not in best.changes  # a habit that does not matter is left alone


def test_search_compares_on_paired_replicates():
    # Noise shared by all candidates (the same seeds) cancels in the paired gain.
    noise = np.random.default_rng(0).normal(0, 50, size=7)
    result = search(TOY_SPACE, {"posts": 1, "reply": 0.1, "idle": 2}, pointwise(lambda h: _toy(h) + noise))
    best = result.best_by_habits()[0]
    assert (best.point["posts"], round(best.point["reply"], 1)) == (4, 0.7)
    assert np.ptp(best.gain) == pytest.approx(0, abs=1e-9)


def test_search_respects_the_budget_and_trades_time():
    def outcome(h: dict[str, float]) -> Outcome:
        return Outcome(np.array([_toy(h)]), cost=h["posts"] + 10 * h["reply"])

    result = search(TOY_SPACE, {"posts": 6, "reply": 0.1, "idle": 2}, pointwise(outcome), budget=8)
    best = result.best_by_habits()[0]
    assert best.admissible and best.outcome.cost <= 8
    # Answering more does not fit alone (6 + 7 > 8); posting less pays for it.
    assert best.point["posts"] < 6 and best.point["reply"] > 0.1
    assert all(c.outcome.cost <= 8 for c in result.best_by_habits() if c.admissible)


def test_search_backs_off_a_far_step_that_pays_but_does_not_fit():
    # The first step shows nothing; four steps out pays but costs too much: the coach
    # should settle on the largest step that fits.
    space = (Dimension("x", 0, 10, 1),)

    def outcome(h: dict[str, float]) -> Outcome:
        return Outcome(np.array([max(0.0, h["x"] - 1.5)]), cost=h["x"])

    result = search(space, {"x": 0}, pointwise(outcome), budget=3.5)
    best = result.best_by_habits()[0]
    assert best.point["x"] == 3 and best.admissible


def test_search_never_evaluates_invalid_candidates():
    seen = []

    def f(h: dict[str, float]) -> float:
        seen.append(dict(h))
        return h["posts"] + h["reply"]

    result = search(
        TOY_SPACE,
        {"posts": 2, "reply": 0.5, "idle": 0},
        pointwise(f),
        valid=lambda h: h["posts"] + 10 * h["reply"] <= 12,
    )
    assert all(h["posts"] + 10 * h["reply"] <= 12 for h in seen[1:])
    assert result.best_by_habits()[0].point["posts"] + 10 * result.best_by_habits()[0].point["reply"] <= 12


# --------------------------------------------------------------------------------------
# The space as data, and plain language
# --------------------------------------------------------------------------------------


def test_every_dimension_is_a_habit_with_grid_values_inside_its_bounds():
    from coach import Habits

    for d in DEFAULT_SPACE:
        info = Habits.model_fields[d.habit]
        lo = next(m.ge for m in info.metadata if hasattr(m, "ge"))
        hi = next(m.le for m in info.metadata if hasattr(m, "le"))
        assert all(lo <= v <= hi for v in d.grid()), d.habit
        Scenario().with_habits(**{d.habit: d.grid()[len(d.grid()) // 2]})  # the habit's own type


def test_moves_are_real_steps_from_off_grid_values():
    d = Dimension("reply_rate", 0, 1, 0.1)
    assert d.moves(0.37, 1)[0] == pytest.approx(0.5) and d.moves(0.37, -1)[0] == pytest.approx(0.3)
    assert d.moves(0.5, 1)[0] == pytest.approx(0.6) and d.moves(0.0, -1) == ()


def test_a_suggestion_reads_as_an_instruction_with_numbers():
    dims = {d.habit: d for d in DEFAULT_SPACE}
    sc = Scenario().with_habits(reply_rate=0.1)
    text = sentence(sc, dims, {"reply_rate": 0.6}, {"median": 38.2, "p10": 25.4, "p90": 51.0}, 12.3)
    assert (
        text
        == "Answer 6 in 10 replies instead of 1 in 10: +38 followers over 90 days (80%: +25 to +51), 12 more minutes a day."
    )
    both = sentence(sc, dims, {"posts_per_day": 1.0, "link_share": 0.0}, {"median": -3, "p10": -9, "p90": 4}, -4)
    assert both.startswith("Post once a day instead of twice a day, and stop putting links in your posts (now in 20%)")
    assert both.endswith("-3 followers over 90 days (80%: -9 to +4), 4 fewer minutes a day.")


def test_diagnosis_of_a_quiet_account_says_it_is_neglect():
    from coach import run_many

    ghost = Scenario(
        name="ghost", days=60, habits={"posts_per_day": 0, "outreach_per_day": 0}, audience={"followers": 200}
    )
    findings = diagnose(run_many(ghost, replicates=3, seed=1, parallel=False))
    assert findings[0].topic == "growth" and "followers" in findings[0].evidence
    assert any(f.topic == "neglect" for f in findings) or any(f.topic == "churn" for f in findings)


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def _coach(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coach", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_table_shows_findings_suggestions_and_sensitivity(linker_advice: Advice):
    text = advice_table(linker_advice)
    assert "What is going on" in text and "What to change" in text and "How much each habit matters" in text
    assert linker_advice.suggestions[0].text in text
    assert all(f.finding in text for f in linker_advice.diagnosis)


def test_cli_advise_json_end_to_end(tmp_path: Path):
    path = tmp_path / "tiny.yaml"
    path.write_text("version: 1\nname: tiny\ndays: 15\naudience:\n  followers: 80\n  prospects_per_day: 10\n")
    out = _coach("advise", str(path), "--replicates", "3", "--seed", "4", "--budget-minutes", "30", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["budget_minutes_per_day"] == 30 and data["seed"] == 4 and data["replicates"] == 3
    assert data["baseline"]["followers_start"] == 80


@pytest.mark.parametrize(
    ("args", "code"), [(["--budget-minutes", "-5"], 2), (["--budget-minutes", "lots"], 2), (["--replicates", "0"], 1)]
)
def test_cli_advise_bad_input(tmp_path: Path, args: list[str], code: int):
    path = tmp_path / "tiny.yaml"
    path.write_text("version: 1\ndays: 5\n")
    out = _coach("advise", str(path), *args)
    assert out.returncode == code
    assert "Traceback" not in out.stderr and out.stderr.strip()


def test_cli_advise_missing_file_exits_1():
    out = _coach("advise", "no/such/file.yaml")
    assert out.returncode == 1 and "no such file" in out.stderr


@pytest.mark.skipif(worker_count() < 2, reason="one core: advice runs in this process, there is no pool to use")
def test_with_the_pool_started_the_coach_runs_every_batch_there(tmp_path: Path):
    # `coach advise` starts the pool first; the coach's first look at the habits then goes to
    # the pool as well, so the command's process never loads the compiled engine.
    probe = (
        "from coach import experiments, load_scenario\n"
        "from coach.advisor import advise\n"
        "from coach.model import kernels\n"
        "from coach.scenario import SCENARIO_DIR\n"
        "if __name__ == '__main__':\n"
        "    experiments.start_pool()\n"
        "    s = load_scenario(SCENARIO_DIR / 'steady_professional.yaml').model_copy(update={'days': 10})\n"
        "    advice = advise(s, replicates=2)\n"
        "    print(advice.candidates_evaluated > 0, len(kernels.post_pass.signatures))\n"
        "    experiments.shutdown_pool()\n"
    )
    script = tmp_path / "probe.py"  # a file: the pool's workers may import the caller's __main__
    script.write_text(probe)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "0"], (done.stdout, done.stderr)


def test_diagnosis_of_too_few_runs_quotes_medians_not_intervals():
    """QA: with --replicates 1 or 2 the evidence read '970 (80%: 970 to 970)'."""
    from coach import run_many

    scenario = Scenario(name="short", days=1, audience={"followers": 300})
    few = diagnose(run_many(scenario, replicates=2, seed=1, parallel=False))
    assert few[0].evidence.startswith("Median of 2 runs") and "in 1 day:" in few[0].finding
    assert not any("80%" in f.evidence for f in few), [f.evidence for f in few]
    one = diagnose(run_many(scenario, replicates=1, seed=1, parallel=False))
    assert one[0].evidence.startswith("From 1 run")
    many = diagnose(run_many(scenario, replicates=5, seed=1, parallel=False))
    assert "80%" in many[0].evidence
