"""Trust checks and speed of `coach fit`, printed as figures (not part of the test run).

1. Coverage: synthetic accounts with known audience values, fitted on the first two thirds of
   their follower history; how often the forecast's 10-90% band holds the true count at the
   end of the last third, and at every held-out date.
2. Recovery: how close each fitted value comes to the truth, and how often its interval holds it.
3. Taste for links (``--taste``): accounts large enough for their reposts to read the
   average link appetite, with a known mix (a link-keen part beside the rest); how close the
   fitted average, share and polarity come, and how often their intervals hold the truth.
4. Speed: one fit of a year of daily history (the shared two-core machine: quote medians).

    PYTHONPATH=. python benchmarks/bench_fit.py [--cases 20] [--trials 40] [--speed-only]
    PYTHONPATH=. python benchmarks/bench_fit.py --taste --cases 10 --no-speed
    PYTHONPATH=. python benchmarks/bench_fit.py --cases 10 --days 60 --followers 300 --trials 32 --no-speed
    PYTHONPATH=. python benchmarks/bench_fit.py --cases 20 --days 90 --followers 400 --no-speed --seed-each
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import coach.fit.core as core
from coach.fit import fit
from coach.fit.synthetic import START, synthetic_account

FIELDS = {
    "prospects": "audience.prospects_per_day",
    "churn": "audience.segments[0].churn_per_month",
    "attention": "audience.segments[0].attention",
}


def taste_of(result) -> dict | None:
    """The fitted average link appetite, or None where it stayed assumed."""
    taste = result.fit.get("taste") or {}
    return taste.get("link_appetite_mean")


ASSUMED_TASTE = False  # --assumed-taste: the truth's link appetite at the default the fit assumes


def truth_for(case: int) -> dict[str, float]:
    rng = np.random.default_rng(case)
    truth = {
        "prospects": float(np.exp(rng.uniform(math.log(15), math.log(150)))),
        "churn": float(np.exp(rng.uniform(math.log(0.005), math.log(0.06)))),
        "attention": float(rng.uniform(0.1, 0.5)),
        "link_appetite": float(rng.uniform(-0.8, 0.8)),
    }
    if ASSUMED_TASTE:
        truth["link_appetite"] = 0.0
    return truth


def coverage(cases: int, trials: int, days: int, followers: int, seed: int = 7, seed_each: bool = False) -> None:
    """``seed_each``: account k is fitted with seed + k. The accounts share their habits, so one
    fit seed gives every fit the same timeline luck (the trials' common random numbers) and
    the accounts' hits and misses are not independent; a seed each makes them so."""
    end_hits, point_hits, points, inside = 0, 0, 0, {k: 0 for k in FIELDS}
    errors = {k: [] for k in FIELDS}
    widths = {k: [] for k in FIELDS}
    taste_errors, taste_inside = [], 0
    seconds = []
    cut = days * 2 // 3
    for case in range(cases):
        account = synthetic_account(truth_for(case), followers=followers, days=days, seed=5000 + case)
        last_fit_day = (account.data(cut).history[-1][0] - START).days
        t = time.perf_counter()
        fit_seed = seed + case if seed_each else seed
        result = fit(account.data(cut), trials=trials, forecast=days - last_fit_day, seed=fit_seed)
        seconds.append(time.perf_counter() - t)
        fc = result.fit["forecast"]
        for j, day in enumerate(fc["day"]):
            true_day = last_fit_day + day
            if true_day > days:
                break
            if true_day % 7 == 0 or true_day == days:
                points += 1
                point_hits += fc["p10"][j] <= account.truth_on(true_day) <= fc["p90"][j]
        j = days - last_fit_day - 1
        end_hits += fc["p10"][j] <= account.truth_on(days) <= fc["p90"][j]
        for key, field in FIELDS.items():
            if field not in result.fitted:  # stayed assumed (the report says why)
                continue
            f = result.fitted[field]
            inside[key] += f["p10"] <= account.truth[key] <= f["p90"]
            errors[key].append(math.log(f["value"] / account.truth[key]))
            widths[key].append(math.log(f["p90"] / f["p10"]))
        if (m := taste_of(result)) is not None:
            taste_errors.append(m["value"] - account.truth["link_appetite"])
            taste_inside += m["p10"] <= account.truth["link_appetite"] <= m["p90"]
    print(
        f"coverage over {cases} synthetic accounts ({followers} followers, {days} days, fitted on {cut}, {trials} trials, "
        f"fit seed {f'{seed}+account' if seed_each else seed}):"
    )
    print(f"  truth at the end inside the forecast 10-90% band: {end_hits}/{cases} = {end_hits / cases:.0%}")
    print(
        f"  truth at every held-out weekly date inside the band: {point_hits}/{points} = {point_hits / max(points, 1):.0%}"
    )
    print(
        f"  link_appetite  read in {len(taste_errors)}/{cases} accounts"
        + (
            f"; median |difference| {np.median(np.abs(taste_errors)):.2f}; truth inside {taste_inside}/{len(taste_errors)}"
            if taste_errors
            else " (too few reposts elsewhere: assumed, the report says why)"
        )
    )
    for key in FIELDS:
        e = np.array(errors[key])
        if not len(e):
            print(f"  {key:<14} not fitted (assumed) in every case")
            continue
        print(
            f"  {key:<14} median |log ratio| {np.median(np.abs(e)):.2f} (median log ratio {np.median(e):+.2f}); "
            f"truth inside the interval {inside[key]}/{cases}; median width x{math.exp(np.median(widths[key])):.2f}"
        )
    print(f"  seconds per fit: median {np.median(seconds):.1f} (shared 2-core machine)")


def taste(cases: int, trials: int) -> None:
    """Accounts whose reposts can read the taste for links: 3,000 followers, 300 posts of each kind."""
    rows = []
    separated = 0
    for case in range(cases):
        rng = np.random.default_rng(100 + case)
        truth = {
            **truth_for(case),
            "link_appetite": float(rng.uniform(-0.8, 0.8)),
            "mix": float(rng.uniform(0.1, 0.9)),
            "polarity": float(rng.uniform(0.0, 1.0)),
        }
        truth["prospects"] = float(np.exp(rng.uniform(math.log(60), math.log(300))))  # a larger account
        truth = core.with_derived(truth)
        account = synthetic_account(truth, followers=3000, days=45, seed=8000 + case, posts_per_kind=300)
        result = fit(account.data(), trials=trials, forecast=10, seed=7, forecast_runs=8)
        t = result.fit["taste"]
        if not t["fitted"]:
            print(f"  case {case}: taste stayed assumed: {t['reason']}")
            continue
        separated += not any("cannot separate a mixed crowd" in w for w in result.fit["tradeoffs"])
        share = result.fitted["audience.segments[0].share"]
        keen = result.fitted["audience.segments[0].link_appetite"]
        rows.append((
            t["link_appetite_mean"]["value"] - truth["link_appetite"],
            t["link_appetite_mean"]["p10"] <= truth["link_appetite"] <= t["link_appetite_mean"]["p90"],
            share["value"] - truth["mix"],
            share["p10"] <= truth["mix"] <= share["p90"],
            share["p90"] - share["p10"],
            keen["p10"] <= truth["keen_link"] <= keen["p90"],
            t["polarity"]["p10"] <= truth["polarity"] <= t["polarity"]["p90"],
        ))  # fmt: skip
    r = np.array(rows, dtype=float)
    n = len(rows)
    print(
        f"taste for links over {cases} synthetic accounts (3,000 followers, 45 days, 300 posts per kind, {trials} trials):"
    )
    if not n:
        return
    print(
        f"  average link appetite: median |difference| {np.median(np.abs(r[:, 0])):.2f}; truth inside {int(r[:, 1].sum())}/{n}"
    )
    print(
        f"  share of the link-keen part: median |difference| {np.median(np.abs(r[:, 2])):.2f}; truth inside "
        f"{int(r[:, 3].sum())}/{n}; median interval width {np.median(r[:, 4]):.2f} (of 0.05..0.95)"
    )
    print(
        f"  link-keen part's appetite: truth inside {int(r[:, 5].sum())}/{n}; polarity: truth inside {int(r[:, 6].sum())}/{n}"
    )
    print(f"  the report said the mix cannot be told from one middling crowd in {n - separated}/{n}")


def speed(trials: int) -> None:
    account = synthetic_account(truth_for(0), followers=2000, days=365, every=1, seed=42)
    times = []
    for _ in range(2):
        t = time.perf_counter()
        fit(account.data(), trials=trials, forecast=90, seed=7)
        times.append(time.perf_counter() - t)
    print(
        f"a year of daily history, 2,000 followers, {trials} trials + forecast: {[round(x, 1) for x in times]} s "
        f"(median {np.median(times):.1f} s, shared 2-core machine)"
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=20)
    ap.add_argument("--trials", type=int, default=32)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--followers", type=int, default=500)
    ap.add_argument("--speed-only", action="store_true")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--taste", action="store_true", help="the taste-for-links check instead of coverage")
    ap.add_argument("--assumed-taste", action="store_true", help="truths with the link appetite the fit assumes (0)")
    ap.add_argument("--seed", type=int, default=7, help="the fit's seed (the accounts' seeds stay 5000+)")
    ap.add_argument("--seed-each", action="store_true", help="fit account k with seed + k (independent timeline luck)")
    args = ap.parse_args()
    ASSUMED_TASTE = args.assumed_taste
    if args.taste:
        taste(args.cases, args.trials)
    elif not args.speed_only:
        coverage(args.cases, args.trials, args.days, args.followers, args.seed, args.seed_each)
    if not args.no_speed:
        speed(args.trials)
