"""Results of one run and of an ensemble of runs: plain arrays with provenance.

A :class:`Results` holds one replicate's daily series (numpy arrays of length ``days``).
An :class:`Ensemble` stacks replicates and answers with medians and 10th/90th percentiles,
shaped as the JSON of CONTRACTS.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coach._version import __version__

CHANNELS = ("reshare", "conversation", "outreach", "discovery")
"""How a new follower came: a reshared post, a public answer, an outreach reply, or search."""

REASONS = ("fatigue", "content", "ignored", "neglect", "churn")
"""Why a follower left: too many posts, posts not for them, their replies ignored, the
account went quiet, or ordinary churn."""

ACTIVITY = (
    "impressions", "replies_received", "replies_answered", "replies_ignored",
    "reshares", "likes", "engagements", "posts", "outreach", "follow_backs", "minutes",
)  # fmt: skip

REASON_WORDS = {
    "fatigue": "too many posts at once or per day",
    "content": "posts not what they came for",
    "ignored": "their replies went unanswered",
    "neglect": "the account went quiet",
    "churn": "ordinary churn (interests change)",
}
CHANNEL_WORDS = {
    "reshare": "saw a reshared post",
    "conversation": "saw you answer someone",
    "outreach": "you replied to them or near them",
    "discovery": "search and recommendations",
}

QUANTILES = {"median": 50, "p10": 10, "p90": 90}


INTERVAL_RUNS = 5
"""Fewest runs whose 80% interval is put into words: of fewer, the median alone is said."""


def quantiles(values: np.ndarray, axis: int = 0, digits: int = 2) -> dict[str, Any]:
    """Median, 10th and 90th percentile of ``values`` along ``axis`` (rounded)."""
    stats = np.percentile(values, list(QUANTILES.values()), axis=axis)  # one call: its cost is per call here
    return {name: _rounded(v, digits) for name, v in zip(QUANTILES, stats, strict=True)}


def _rounded(v: Any, digits: int) -> Any:
    """A quantile as printed: a float rounded by Python's ``round`` (arrays: a list, by numpy's)."""
    return np.round(v, digits).tolist() if np.ndim(v) else round(float(v), digits)


def quantiles_of(figures: Mapping[str, np.ndarray], digits: int = 2) -> dict[str, dict[str, float]]:
    """:func:`quantiles` of each of these equally long arrays (one per figure), in one numpy call.

    A page shows a few dozen figures of an ensemble; numpy's percentile costs far more per
    call than per value at a few hundred replicates, so they are stacked and taken together.
    """
    names = list(figures)
    if not names:
        return {}
    stats = np.percentile(
        np.stack([np.asarray(figures[n], dtype=float) for n in names]), list(QUANTILES.values()), axis=1
    )
    return {n: {q: _rounded(stats[i, k], digits) for i, q in enumerate(QUANTILES)} for k, n in enumerate(names)}


def few_runs(runs: int, paired: bool = False) -> str:
    """``from 1 run``, ``median of 3 runs`` (``paired runs``): what a figure stands on when its
    runs are too few (below :data:`INTERVAL_RUNS`) for an 80% interval."""
    noun = "paired run" if paired else "run"
    return f"from 1 {noun}" if runs == 1 else f"median of {runs} {noun}s"


def fmt_interval(q: Mapping[str, float], signed: bool = False, digits: int = 0) -> str:
    """``829 (796 to 850)``: a median with its 80% interval, as tables print it."""
    sign = "+" if signed else ""
    f = f"{{:{sign},.{digits}f}}"
    return f"{f.format(q['median'])} ({f.format(q['p10'])} to {f.format(q['p90'])})"


@dataclass(frozen=True)
class Results:
    """One replicate: daily series keyed by name, all of length ``days``."""

    scenario_name: str
    seed: int
    replicate: int
    followers_start: int
    daily: dict[str, np.ndarray]

    @staticmethod
    def series_names() -> list[str]:
        """Every daily series a run records."""
        return (
            ["followers", "follows", "unfollows"]
            + [f"follows_{c}" for c in CHANNELS]
            + [f"unfollows_{r}" for r in REASONS]
            + list(ACTIVITY)
        )

    @property
    def days(self) -> int:
        return len(self.daily["followers"])

    def totals(self) -> dict[str, float]:
        """Summary figures of this run, the unit of every paired comparison."""
        d = self.daily
        posts = float(d["posts"].sum())
        out = {
            "followers_end": float(d["followers"][-1]),
            "net": float(d["followers"][-1] - self.followers_start),
            "follows": float(d["follows"].sum()),
            "unfollows": float(d["unfollows"].sum()),
            "minutes_per_day": float(d["minutes"].mean()),
            "engagement_per_post": float(d["engagements"].sum() / posts) if posts else 0.0,
            "impressions_per_post": float(d["impressions"].sum() / posts) if posts else 0.0,
        }
        for c in CHANNELS:
            out[f"follows_{c}"] = float(d[f"follows_{c}"].sum())
        for r in REASONS:
            out[f"unfollows_{r}"] = float(d[f"unfollows_{r}"].sum())
        for a in ACTIVITY:
            out[f"{a}_per_day"] = float(d[a].mean())
        return out


@dataclass
class Ensemble:
    """Replicates of one scenario, with quantiles over them."""

    scenario: Any  # coach.scenario.Scenario (not imported here to keep this module plain)
    seed: int
    runs: Sequence[Results]
    version: str = ""
    _stack: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _totals: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.runs:
            raise ValueError("an ensemble needs at least one run")
        if not self.version:
            self.version = __version__

    @property
    def replicates(self) -> int:
        return len(self.runs)

    @property
    def days(self) -> int:
        return self.runs[0].days

    def series(self, name: str) -> np.ndarray:
        """A (replicates x days) array of one daily series."""
        if name not in self._stack:
            self._stack[name] = np.stack([r.daily[name] for r in self.runs])
        return self._stack[name]

    def values(self, name: str) -> np.ndarray:
        """One summary figure (see :meth:`Results.totals`) for every replicate."""
        return self.totals()[name]

    def totals(self) -> dict[str, np.ndarray]:
        """Every summary figure, one value per replicate (computed once)."""
        if not self._totals:
            per_run = [r.totals() for r in self.runs]
            self._totals.update({k: np.array([t[k] for t in per_run]) for k in per_run[0]})
        return self._totals

    def totals_with_growth(self) -> dict[str, np.ndarray]:
        """:meth:`totals`, plus the starting followers and growth (net as % of them), per replicate:
        the figures a comparison of accounts of different sizes leads with."""
        t = dict(self.totals())
        start = float(self.runs[0].followers_start)
        t["followers_start"] = np.full(len(t["net"]), start)
        t["growth"] = 100.0 * np.asarray(t["net"], dtype=float) / max(start, 1.0)
        return t

    def summary(self) -> dict[str, Any]:
        """The ``summary`` object of ``coach run --format json`` (CONTRACTS.md)."""
        t = self.totals()
        q = quantiles_of(t)
        return {
            "followers_start": self.runs[0].followers_start,
            "followers_end": q["followers_end"],
            "net": q["net"],
            "follows": q["follows"],
            "unfollows": q["unfollows"],
            "follows_by_channel": {c: q[f"follows_{c}"] for c in CHANNELS},
            "unfollows_by_reason": {r: q[f"unfollows_{r}"] for r in REASONS},
            "minutes_per_day": round(float(np.median(t["minutes_per_day"])), 1),
            "engagement_per_post": q["engagement_per_post"],
            "impressions_per_day": q["impressions_per_day"],
            "replies_per_day": {
                "received": q["replies_received_per_day"],
                "answered": q["replies_answered_per_day"],
                "ignored": q["replies_ignored_per_day"],
            },
        }

    def daily_quantiles(self, names: Sequence[str] | None = None) -> dict[str, Any]:
        """The ``daily`` object: day numbers and per-day quantiles of each series."""
        names = names or ["followers", "follows", "unfollows"]
        out: dict[str, Any] = {"day": list(range(1, self.days + 1))}
        for name in names:
            out[name] = quantiles(self.series(name), axis=0)
        return out

    def provenance(self) -> dict[str, Any]:
        """What reproduces this ensemble exactly: scenario hash, seed, replicate indices."""
        text = self.scenario.model_dump_json()
        return {
            "scenario_sha256": hashlib.sha256(text.encode()).hexdigest()[:16],
            "seed": self.seed,
            "replicate_indices": [r.replicate for r in self.runs],
            "package": f"coach {self.version}",
        }

    def to_dict(self, all_series: bool = True) -> dict[str, Any]:
        """The JSON object printed by ``coach run --format json``."""
        names = Results.series_names() if all_series else None
        return {
            "scenario": self.scenario.name,
            "days": self.days,
            "replicates": self.replicates,
            "seed": self.seed,
            "version": self.version,
            "platform": self.scenario.platform.name,
            "summary": self.summary(),
            "daily": self.daily_quantiles(names),
            "provenance": self.provenance(),
        }

    def to_csv(self) -> str:
        """One row per day: median, p10 and p90 of every series."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        names = Results.series_names()
        writer.writerow(["scenario", "day"] + [f"{n}_{q}" for n in names for q in QUANTILES])
        stats = {n: quantiles(self.series(n), axis=0) for n in names}
        for i in range(self.days):
            row = [self.scenario.name, i + 1]
            row += [stats[n][q][i] for n in names for q in QUANTILES]
            writer.writerow(row)
        return buffer.getvalue()


def paired_differences(a: Ensemble, b: Ensemble) -> dict[str, dict[str, Any]]:
    """Quantiles of ``b - a`` for every summary figure, replicate by replicate (same seeds)."""
    if [r.replicate for r in a.runs] != [r.replicate for r in b.runs] or a.seed != b.seed:
        raise ValueError("paired differences need ensembles run on the same seeds")
    x, y = a.totals(), b.totals()
    return quantiles_of({name: y[name] - x[name] for name in x})


def paired_difference(a: Ensemble, b: Ensemble, name: str) -> dict[str, Any]:
    """Quantiles of ``b - a`` for one summary figure (see :func:`paired_differences`)."""
    return paired_differences(a, b)[name]
