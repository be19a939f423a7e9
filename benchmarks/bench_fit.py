"""Trust checks and speed of `coach fit`, printed as figures (not part of the test run).

1. Coverage: synthetic accounts with known audience values, fitted on the first two thirds of
   their follower history; how often the forecast's 10-90% band holds the true count at the
   end of the last third, and at every held-out date.
2. Recovery: how close each fitted value comes to the truth, and how often its interval holds it.
3. Speed: one fit of a year of daily history (the shared two-core machine: quote medians).

    PYTHONPATH=. python benchmarks/bench_fit.py [--cases 20] [--trials 40] [--speed-only]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from coach.fit import fit
from coach.fit.synthetic import START, synthetic_account

FIELDS = {
    "prospects": "audience.prospects_per_day",
    "churn": "audience.segments[0].churn_per_month",
    "attention": "audience.segments[0].attention",
    "link_appetite": "audience.segments[0].link_appetite",
}


def truth_for(case: int) -> dict[str, float]:
    rng = np.random.default_rng(case)
    return {
        "prospects": float(np.exp(rng.uniform(math.log(15), math.log(150)))),
        "churn": float(np.exp(rng.uniform(math.log(0.005), math.log(0.06)))),
        "attention": float(rng.uniform(0.1, 0.5)),
        "link_appetite": float(rng.uniform(-0.8, 0.8)),
    }


def coverage(cases: int, trials: int, days: int, followers: int) -> None:
    end_hits, point_hits, points, inside = 0, 0, 0, {k: 0 for k in FIELDS}
    errors = {k: [] for k in FIELDS}
    seconds = []
    cut = days * 2 // 3
    for case in range(cases):
        account = synthetic_account(truth_for(case), followers=followers, days=days, seed=5000 + case)
        last_fit_day = (account.data(cut).history[-1][0] - START).days
        t = time.perf_counter()
        result = fit(account.data(cut), trials=trials, forecast=days - last_fit_day, seed=7)
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
            errors[key].append(
                f["value"] - account.truth[key] if key == "link_appetite" else math.log(f["value"] / account.truth[key])
            )
    print(
        f"coverage over {cases} synthetic accounts ({followers} followers, {days} days, fitted on {cut}, {trials} trials):"
    )
    print(f"  truth at the end inside the forecast 10-90% band: {end_hits}/{cases} = {end_hits / cases:.0%}")
    print(
        f"  truth at every held-out weekly date inside the band: {point_hits}/{points} = {point_hits / max(points, 1):.0%}"
    )
    for key in FIELDS:
        e = np.array(errors[key])
        if not len(e):
            print(f"  {key:<14} not fitted (assumed) in every case")
            continue
        unit = "difference" if key == "link_appetite" else "log ratio"
        print(
            f"  {key:<14} median |{unit}| {np.median(np.abs(e)):.2f}; truth inside the interval {inside[key]}/{cases}"
        )
    print(f"  seconds per fit: median {np.median(seconds):.1f} (shared 2-core machine)")


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
    ap.add_argument("--trials", type=int, default=48)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--followers", type=int, default=500)
    ap.add_argument("--speed-only", action="store_true")
    args = ap.parse_args()
    if not args.speed_only:
        coverage(args.cases, args.trials, args.days, args.followers)
    speed(args.trials)
