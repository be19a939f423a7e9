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
from coach.scenario import Audience, Scenario, Segment


def _round(value: float) -> float:
    """Three significant digits: the fit cannot tell more."""
    if value == 0 or not math.isfinite(value):
        return float(value)
    return float(round(value, 2 - math.floor(math.log10(abs(value)))))


def _band(values: np.ndarray) -> dict[str, list[float]]:
    q = quantiles(values, axis=0, digits=1)
    return {k: list(v) for k, v in q.items()}


def assemble(
    *,
    data: FitInput,
    params: list[Any],
    records: list[tuple[dict[str, float], dict[str, float]]],
    best: int,
    good: list[int],
    pooled: dict[str, np.ndarray],
    link_values: np.ndarray,
    final_scenario: Scenario,
    forecast: int,
    seed: int,
    trials: int,
    replicates: int,
    seconds: float,
    warnings_out: list[str],
    runs: int,
) -> Any:
    from coach.fit.core import (
        SEGMENT,
        FitResult,
        all_fields,
        engagement_per_kind,
        kind_ratios,
        kind_shares,
        reachable_for,
    )

    best_values = records[best][0]
    fitted: dict[str, dict[str, float]] = {}
    for p in params:
        spread = [records[i][0][p.key] for i in good]
        fitted[p.field] = {
            "value": _round(best_values[p.key]),
            "p10": _round(min(spread)),
            "p90": _round(max(spread)),
        }
    assumed = [f for f in all_fields() if f not in fitted] + list(data.assumed_habits)
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

    # Engagement per post by kind, observed vs simulated.
    engagement: dict[str, Any] = {}
    if data.engagement:
        days = max(span, 1) if span else followers.shape[1]
        ratios = np.stack([kind_ratios(final_scenario, float(la)) for la in link_values])
        base = engagement_per_kind(pooled, days, kind_shares(data.habits), np.ones(len(KINDS)))[:, 0]
        sim = base[:, None] * ratios / (ratios @ kind_shares(data.habits))[:, None]
        for kind in MEASURED_KINDS:
            seen = data.engagement.get(kind)
            q = quantiles(sim[:, KINDS.index(kind)], digits=2)
            engagement[kind] = {
                "posts": seen.posts if seen else 0,
                "observed": round(seen.mean, 2) if seen else None,
                **q,
            }

    words, tradeoffs = _words(data, params, records, good, fitted, inside, len(observed) - 1, engagement)
    quality = {
        "points": len(observed) - 1,
        "inside_band": inside,
        "score": round(records[best][1]["total"], 2),
        "words": words[0],
    }

    scenario = _fitted_scenario(data, best_values, forecast, seed, fitted, assumed, words, SEGMENT, reachable_for(data))
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
) -> tuple[list[str], list[str]]:
    """How well it fits, what is pinned down, what the data cannot separate."""
    from coach.fit.core import CORRELATED, WIDE

    words = []
    if points:
        share = inside / points
        verdict = "fits well" if share >= 0.8 else "fits roughly" if share >= 0.5 else "fits poorly"
        words.append(
            f"The model {verdict}: {inside} of {points} observed follower counts lie inside the simulated 10-90% band."
        )
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
        words.append(
            f"Engagement per post is matched within 30% for {len(close)} of {len(measured)} kinds of post "
            f"({', '.join(measured)}); promotion cannot be told apart from plain posts in an export."
        )
    tradeoffs = []
    for p in params:
        f = fitted[p.field]
        width = p.scaled(f["p90"]) - p.scaled(f["p10"])
        if width >= WIDE:
            tradeoffs.append(
                f"{p.field} ({p.words}) is not pinned down by your data: anything from {f['p10']:g} to {f['p90']:g} fits about as well."
            )
    if len(good) >= MIN_GOOD_FOR_TRADEOFFS:
        pairs = []
        for i, a in enumerate(params):
            for b in params[i + 1 :]:
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
                f"(correlation {r:+.2f} over the good trials)."
            )
    from coach.fit.core import link_appetite_readable

    if data.engagement and (reason := link_appetite_readable(data)) is not None:
        tradeoffs.append(reason[0].upper() + reason[1:] + ".")
    if data.engagement:
        tradeoffs.append(
            "One kind of follower is fitted: engagement per post by kind cannot tell a mixed crowd (some who came "
            "for links, some for conversation) from one middling crowd, as both give the same averages."
        )
    words += tradeoffs
    return words, tradeoffs


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
    segment_name: str,
    reachable: int,
) -> Scenario:
    """Today's account with the fitted audience: what every slider and the coach start from."""
    from coach.platforms import PRESETS

    base = Segment(name=segment_name, share=1.0)
    segment = Segment(
        name=segment_name,
        share=1.0,
        attention=_round(values.get("attention", base.attention)),
        churn_per_month=_round(values.get("churn", base.churn_per_month)),
        link_appetite=_round(values.get("link_appetite", base.link_appetite)),
    )
    audience = Audience(
        followers=data.history[-1][1],
        prospects_per_day=_round(values.get("prospects", Audience().prospects_per_day)),
        reachable=reachable,
        segments=(segment,),
    )
    parts = [
        f"Fitted by coach fit to {data.source}: {len(data.history)} follower counts from {data.history[0][0]} "
        f"to {data.history[-1][0]} and {data.originals:,} original posts."
    ]
    parts += [f"{k.split('.')[-1]} {v['value']:g} (80% {v['p10']:g} to {v['p90']:g})." for k, v in fitted.items()]
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
