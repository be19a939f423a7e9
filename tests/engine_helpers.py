"""Small scenario builders shared by the engine tests."""

from __future__ import annotations

import os

import numpy as np

from coach import Audience, Habits, Scenario, Segment, compare


def scenario(followers: int = 1000, days: int = 90, audience: Audience | None = None, **habits) -> Scenario:
    """A general-audience scenario on Mastodon with the given habits."""
    return Scenario(
        name="test",
        days=days,
        replicates=6,
        habits=Habits(**habits),
        audience=audience or Audience(followers=followers, prospects_per_day=40),
    )


def one_segment(**traits) -> Audience:
    """An audience of 1,000 followers of one segment with the given traits."""
    followers = traits.pop("followers", 1000)
    return Audience(followers=followers, prospects_per_day=40, segments=(Segment(name="only", share=1.0, **traits),))


SEED = int(os.environ.get("COACH_TEST_SEED", "11"))
"""Seed of the paired comparisons; set COACH_TEST_SEED to check that margins hold elsewhere."""


def medians(scenarios: list[Scenario], name: str, replicates: int = 6, seed: int = SEED) -> list[float]:
    """Median of one summary figure for each scenario, all run on the same seeds."""
    return [float(np.median(e.values(name))) for e in compare(scenarios, replicates, seed, parallel=False)]
