"""The fit report: fitted values with intervals, what stays assumed, bands, and plain words.

Numbers come from :mod:`coach.fit.core`; this module only arranges them, so the JSON shape
(CONTRACTS.md, Calibration) and the sentences people read are in one place.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import numpy as np

from coach._version import __version__
from coach.fit.data import KINDS, MEASURED_KINDS, FitInput
from coach.results import quantiles
from coach.scenario import Audience, Scenario


def _round(value: float) -> float:
    """Three significant digits: the fit cannot tell more."""
    if value == 0 or not math.isfinite(value):
        return float(value)
    return float(round(value, 2 - math.floor(math.log10(abs(value)))))


POORLY_TRY = (
    "Do not rely on these values yet: the search may have missed the audience that fits your history. "
    "Fit again with more trials, or another seed."
)


def outside_band(kind: dict[str, Any]) -> bool | None:
    """Whether a kind's observed engagement per post lies outside the model's 10-90% range (None: not observed)."""
    if kind.get("observed") is None:
        return None
    return not kind["p10"] <= kind["observed"] <= kind["p90"]


def _verdict(inside: int, points: int) -> str:
    """How well the history fits, from how many observed counts lie inside the 10-90% band.

    Were the model right, each count would lie inside with a chance of 0.8 (independently,
    at first sight: successive counts are correlated, which only widens the spread). "Fits
    well" unless so few inside would happen less than 10% of the time; "fits poorly" below 1%.
    """
    tail = sum(math.comb(points, k) * 0.8**k * 0.2 ** (points - k) for k in range(inside + 1))
    return "fits well" if tail >= 0.1 else "fits roughly" if tail >= 0.01 else "fits poorly"


def verdict_words(inside: int, points: int) -> str:
    """The verdict as the report's first line. "Fits well" says there is no sign of a poor fit:
    with a handful of counts, most of them outside the band can still be luck, and it says so."""
    verdict = _verdict(inside, points)
    few = verdict == "fits well" and 2 * inside < points
    return (
        f"The model {verdict}: {inside} of {points} observed follower counts lie inside the simulated 10-90% band"
        + (
            f" (with {points} counts, as few inside happens by chance; more dated counts would tell more)."
            if few
            else "."
        )
    )


def _interval(values: list[float], best: float) -> dict[str, float]:
    """The best value and the 10% and 90% quantiles of its draws (holding the best value)."""
    p10, p90 = np.quantile(np.array(values, dtype=float), [0.1, 0.9])
    return {"value": _round(best), "p10": _round(min(float(p10), best)), "p90": _round(max(float(p90), best))}


def _band(values: np.ndarray) -> dict[str, list[float]]:
    """Median and 10-90% band over the runs (axis 0), as a *prediction* interval.

    The band is meant to hold a new draw of the process (the truth) with a chance of 0.8.
    For n runs, the r-th smallest lies below a new draw with a chance of r / (n + 1), so the
    interval between the quantiles at positions 0.1 (n + 1) and 0.9 (n + 1) holds it with a
    chance of 0.8 whatever the distribution ("weibull" quantiles). numpy's default positions,
    1 + 0.1 (n - 1) and 1 + 0.9 (n - 1), hold it with 0.8 (n - 1) / (n + 1): 75% with the
    32 forecast runs, which narrowed every band (the median is the same either way).
    """
    out = {}
    for name, q in (("median", 50), ("p10", 10), ("p90", 90)):
        out[name] = np.round(np.percentile(values, q, axis=0, method="weibull"), 1).tolist()
    return out


def assemble(
    *,
    data: FitInput,
    params: list[Any],
    records: list[tuple[dict[str, float], dict[str, float]]],
    best: int,
    good: list[int],
    draws: list[dict[str, float]],
    pooled: dict[str, np.ndarray],
    run_scenarios: list[Scenario],
    taste: Any,
    final_scenario: Scenario,
    forecast: int,
    seed: int,
    trials: int,
    replicates: int,
    seconds: float,
    warnings_out: list[str],
    runs: int,
    score_spread: Any = None,
    profiles: dict[str, tuple[float, float]] | None = None,
) -> Any:
    from coach.fit.core import FitResult, all_fields, engagement_per_kind, reachable_for, reported
    from coach.fit.kinds import kind_shares, per_post, split

    best_values = draws[0]  # the best trial's values (the first draw, coach.fit.core.parameter_draws)
    fitted: dict[str, dict[str, float]] = {}
    for p in reported(params):
        fitted[p.field] = _interval([d[p.key] for d in draws], best_values[p.key])
        if p.field in (profiles or {}):
            # Read from the score surface (coach.fit.core.profile_interval), not the draws.
            lo, hi, b = *profiles[p.field], best_values[p.key]
            fitted[p.field] = {"value": _round(b), "p10": _round(min(lo, b)), "p90": _round(max(hi, b))}
    segments = 2 if "mix" in best_values else 1
    # With two parts, attention and churn are one fitted value for both (reported on part 0).
    shared = {f"audience.segments[1].{f}" for f in ("attention", "churn_per_month")} if segments > 1 else set()
    assumed = [f for f in all_fields(segments) if f not in fitted and f not in shared] + list(data.assumed_habits)
    assumed += ["platform (the preset of your platform)", "model (every model constant at its default)"]

    # Observed vs simulated follower history, and the forecast continuing each run.
    span = data.span_days
    day0 = data.history[0][0]
    followers = pooled["followers"]
    level = np.concatenate([np.full((followers.shape[0], 1), data.history[0][1]), followers], axis=1)
    idx = [(d - day0).days for d, _ in data.history]
    observed = [n for _, n in data.history]
    at_points = level[:, idx]
    band = _band(at_points)
    inside = sum(1 for i, n in enumerate(observed[1:], start=1) if band["p10"][i] - 0.5 <= n <= band["p90"][i] + 0.5)
    end = observed[-1]
    ahead = end + (level[:, span + 1 : span + 1 + forecast] - level[:, [span]])
    forecast_band = _band(ahead)
    history_band = _band(level[:, : span + 1]) if span else None

    # Engagement per post by kind, observed vs simulated: each run's totals spread over the
    # kinds by its own scenario's per-kind formulas (coach.fit.kinds).
    engagement: dict[str, Any] = {}
    if data.engagement:
        days = max(span, 1) if span else followers.shape[1]
        shares = kind_shares(data.habits)
        posts = np.maximum(pooled["posts"][:, :days].sum(axis=1), 1)
        sim = np.concatenate([
            engagement_per_kind({k: v[i : i + 1] for k, v in pooled.items()}, days, sc, shares)
            for i, sc in enumerate(run_scenarios)
        ])  # fmt: skip
        reposts = np.concatenate([
            split(pooled["reshares"][i : i + 1, :days].sum(axis=1) / posts[i], per_post(sc)["reposts"], shares)
            for i, sc in enumerate(run_scenarios)
        ])  # fmt: skip
        for kind in MEASURED_KINDS:
            seen = data.engagement.get(kind)
            q = quantiles(sim[:, KINDS.index(kind)], digits=2)
            engagement[kind] = {
                "posts": seen.posts if seen else 0,
                "observed": round(seen.mean, 2) if seen else None,
                **q,
            }
            if seen is not None and seen.reposts is not None:
                engagement[kind]["reposts"] = {
                    "observed": round(seen.reposts.total / seen.posts, 3),
                    **quantiles(reposts[:, KINDS.index(kind)], digits=3),
                }

    # The words read the values' spread from the draws of the fit's uncertainty.
    population = [(d, {}) for d in draws]
    everyone = list(range(len(draws)))
    taste_out = _taste(taste, population, everyone, best_values)
    words, tradeoffs = _words(
        data,
        params,
        population,
        everyone,
        fitted,
        inside,
        len(observed) - 1,
        engagement,
        taste=taste,
        taste_out=taste_out,
    )
    quality = {
        "points": len(observed) - 1,
        "inside_band": inside,
        "score": round(records[best][1]["total"], 2),
        "words": words[0],
    }

    scenario = _fitted_scenario(
        data, best_values, forecast, seed, fitted, assumed, words, reachable_for(data), taste_out
    )
    fit = {
        "followers": {"date": [d.isoformat() for d, _ in data.history], "observed": observed, **band},
        "history": {"date": [(day0 + timedelta(days=k)).isoformat() for k in range(span + 1)], **history_band}
        if history_band
        else None,
        "forecast": {
            "day": list(range(1, forecast + 1)),
            "date": [(data.history[-1][0] + timedelta(days=k)).isoformat() for k in range(1, forecast + 1)],
            **forecast_band,
        },
        "engagement": engagement,
        "taste": taste_out,
        "quality": quality,
        "tradeoffs": tradeoffs,
        "words": words,
        "warnings": list(warnings_out),
    }
    evidence = {
        **data.evidence,
        "source": data.source,
        "history_points": len(data.history),
        "history_first": data.history[0][0].isoformat(),
        "history_last": data.history[-1][0].isoformat(),
        "history_days": span,
        "originals": data.originals,
        "engagement_posts": {k: v.posts for k, v in data.engagement.items()},
        "trials": trials,
        "replicates_per_trial": replicates,
        "good_trials": len(good),
        "forecast_runs": int(followers.shape[0]),
        "runs": runs,
        "seed": seed,
        # The score's covariance (coach.fit.core.spread_of): how much its correlations were
        # shrunk toward 0, and the share of the follower steps' variance from the timeline.
        "spread": {
            "correlation_shrinkage": round(score_spread.shrinkage, 3),
            "timeline_share": round(score_spread.timeline_share, 3),
        }
        if score_spread is not None
        else None,
        "seconds": round(seconds, 1),
        "version": __version__,
    }
    return FitResult(scenario, fitted, assumed, fit, evidence, list(warnings_out))


def _words(
    data: FitInput,
    params: list[Any],
    records: list[tuple[dict[str, float], dict[str, float]]],
    good: list[int],
    fitted: dict[str, dict[str, float]],
    inside: int,
    points: int,
    engagement: dict[str, Any],
    taste: Any = None,
    taste_out: dict[str, Any] | None = None,
) -> tuple[list[str], list[str]]:
    """How well it fits, what is pinned down, what the data cannot separate."""
    from coach.fit.core import CORRELATED, WIDE, reported

    shown = reported(params)

    words = []
    if points:
        verdict = _verdict(inside, points)
        words.append(verdict_words(inside, points))
        if verdict == "fits poorly":
            # The search may have missed the values that fit (each fit sees one seed's luck
            # and a few dozen trials): say what to try before the values are used.
            words.append(POORLY_TRY)
    else:
        words.append(
            "With one follower count there is no history to fit; only engagement per post was fitted, at today's "
            "follower count (if most posts were made with fewer followers, attention comes out too low)."
        )
    if engagement:
        close = [
            k
            for k, e in engagement.items()
            if e["observed"] is not None
            and e["observed"] > 0
            and abs(math.log(max(e["median"], 1e-3) / e["observed"])) < 0.3
        ]
        measured = [k for k, e in engagement.items() if e["observed"] is not None]
        # Two tests, both said: near the median, and inside the band the table shows (a kind
        # can be within 30% of the median and still outside a narrow 10-90% range).
        outside = [k for k in measured if outside_band(engagement[k])]
        words.append(
            f"Engagement per post (likes and reposts) is within 30% of the model's median for {len(close)} of "
            f"{len(measured)} kinds of post ({', '.join(measured)}); "
            + (
                f"outside the model's 10-90% range for {', '.join(outside)}"
                if outside
                else "every one inside the model's 10-90% range"
            )
            + "; promotion cannot be told apart from plain posts in an export."
        )
    tradeoffs = []
    for p in shown:
        f = fitted[p.field]
        width = p.scaled(f["p90"]) - p.scaled(f["p10"])
        if width >= WIDE:
            tradeoffs.append(
                f"{p.field} ({p.words}) is not pinned down by your data: anything from {f['p10']:g} to {f['p90']:g} fits about as well."
            )
    if len(good) >= MIN_GOOD_FOR_TRADEOFFS:
        pairs = []
        for i, a in enumerate(shown):
            for b in shown[i + 1 :]:
                x = np.array([_scale(a, records[k][0][a.key]) for k in good])
                y = np.array([_scale(b, records[k][0][b.key]) for k in good])
                if x.std() > 0 and y.std() > 0:
                    r = float(np.corrcoef(x, y)[0, 1])
                    if abs(r) >= CORRELATED:
                        pairs.append((abs(r), r, a, b))
        for _, r, a, b in sorted(pairs, key=lambda t: -t[0])[:MAX_TRADEOFFS]:
            way = "more of one with more of the other" if r > 0 else "more of one with less of the other"
            tradeoffs.append(
                f"Your data cannot separate {a.words} from {b.words}: {way} fits about as well "
                f"(correlation {r:+.2f} over the values that fit)."
            )
    tradeoffs += _taste_words(data, taste, taste_out)
    if taste is None and any(p.key == "link_appetite" for p in params):
        tradeoffs.append(
            "Your export counts no likes or reposts per post, so your followers' taste for links is not read; "
            "the fit lets it range over -1..1 (it moves follower counts: links please some followers and tire "
            "others), so every interval and the forecast band carry that uncertainty."
        )
    words += tradeoffs
    return words, tradeoffs


def _taste(taste: Any, records: list, good: list[int], best: dict[str, float]) -> dict[str, Any] | None:
    """The followers' taste for links: the average appetite with its interval, the mix's spread."""
    if taste is None:
        return None
    out: dict[str, Any] = {
        "fitted": taste.reason is None,
        "reason": taste.reason,
        "observed_log_ratio": round(taste.observed, 3),
        "observed_se": round(math.sqrt(taste.variance), 3),
    }
    if taste.reason is None:
        for key, name in (("link_appetite", "link_appetite_mean"), ("polarity", "polarity")):
            out[name] = _interval([records[i][0][key] for i in good], best[key])
    elif "link_appetite" in best:
        # Not read, but integrated over (coach.fit.core.parameters_for): the spread of the
        # values it took in the draws, and the best trial's, which the fitted scenario holds.
        out["link_appetite_integrated"] = _interval(
            [records[i][0]["link_appetite"] for i in good], best["link_appetite"]
        )
    return out


def _taste_words(data: FitInput, taste: Any, taste_out: dict[str, Any] | None) -> list[str]:
    """What engagement says about links and conversation, and what it cannot say."""
    from coach.fit.core import WIDE

    if not data.engagement or taste is None:
        return []
    out = []
    if taste.reason is not None:
        out.append(taste.reason[0].upper() + taste.reason[1:] + ".")
        if taste_out and taste_out.get("link_appetite_integrated"):
            m = taste_out["link_appetite_integrated"]
            out.append(
                "So the fit does not hold it at 0 but lets it range over -1..1 (values from "
                f"{m['p10']:+.1f} to {m['p90']:+.1f} fit): every interval and the forecast band carry that "
                f"uncertainty, and the fitted scenario holds the best trial's {m['value']:+.2f} as one possibility."
            )
        out.append(
            "One kind of follower is fitted: without a readable taste for links there is nothing to tell a mixed "
            "crowd (some who came for links, some for conversation) from one middling crowd."
        )
    else:
        m, g = taste_out["link_appetite_mean"], taste_out["polarity"]
        out.append(
            f"Reposts per like of your link posts against your plain posts put your followers' average taste for "
            f"links at {m['value']:+.2f} (80%: {m['p10']:+.2f} to {m['p90']:+.2f}, on -1 hate .. 1 came for them)."
        )
        if g["p90"] - g["p10"] >= WIDE:
            out.append(
                "Your data cannot separate a mixed crowd from one middling crowd: a part keen on links beside a part "
                "cool on them, in any split, fits about as well as everyone at the average. The fitted scenario "
                "holds both parts (link_keen, link_shy) at the best trial's split; read their shares and appetites "
                "as one possibility, the average as the finding."
            )
        else:
            out.append(
                f"Your follower history leans towards a polarity of {g['p10']:.2f} to {g['p90']:.2f} (how far apart "
                "your followers' tastes for links are, 0 = one middling crowd, 1 = the widest split): weak evidence, "
                "since follower counts respond little to it; the average is the firmer finding."
            )
    replies = [k for k, e in data.engagement.items() if e.replies is not None]
    out.append(
        "Chat appetite stays assumed: "
        + (
            "your export counts replies per post, but fitting chat appetite to them is not built yet."
            if replies
            else "your export does not count replies per post (X archives count likes and reposts only)."
        )
    )
    return out


MIN_GOOD_FOR_TRADEOFFS = 8  # fewer good trials than this: a correlation between them means little
MAX_TRADEOFFS = 2  # the strongest trade-offs are named; more would bury the message


def _scale(p: Any, value: float) -> float:
    return math.log(value) if p.log else value


def _fitted_scenario(
    data: FitInput,
    values: dict[str, float],
    forecast: int,
    seed: int,
    fitted: dict[str, dict[str, float]],
    assumed: list[str],
    words: list[str],
    reachable: int,
    taste_out: dict[str, Any] | None = None,
) -> Scenario:
    """Today's account with the fitted audience: what every slider and the coach start from."""
    from coach.fit.core import segments_for
    from coach.platforms import PRESETS

    audience = Audience(
        followers=data.history[-1][1],
        prospects_per_day=_round(values.get("prospects", Audience().prospects_per_day)),
        reachable=reachable,
        segments=segments_for(values, _round),
    )
    parts = [
        f"Fitted by coach fit to {data.source}: {len(data.history)} follower counts from {data.history[0][0]} "
        f"to {data.history[-1][0]} and {data.originals:,} original posts."
    ]
    parts += [
        f"{k.removeprefix('audience.')} {v['value']:g} (80% {v['p10']:g} to {v['p90']:g})." for k, v in fitted.items()
    ]
    if taste_out and taste_out.get("link_appetite_mean"):
        m = taste_out["link_appetite_mean"]
        parts.append(f"Average link appetite {m['value']:g} (80% {m['p10']:g} to {m['p90']:g}).")
    parts += words[:1]
    parts.append(
        "Assumed: " + ", ".join(a.split(" (")[0] for a in assumed[:6]) + " and the rest (see coach fit --format json)."
    )
    text = " ".join(parts)
    return Scenario(
        name="My account (fitted)",
        description=text if len(text) <= 2000 else text[:1997] + "...",
        days=forecast,
        seed=seed,
        platform=PRESETS[data.platform],
        habits=data.habits,
        audience=audience,
    )
