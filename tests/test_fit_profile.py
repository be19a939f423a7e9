"""`coach fit`: attention's interval read from the score surface (coach.fit.core.profile_interval).

The score is minus twice a log-likelihood; a value's 80% interval is where its profile (the
other values at their best) lies within the chi-square(1) 80% bound of its minimum. Checked on
known quadratic scores, where the right interval is known in closed form: no simulated number.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.fit.core import CHI2_80, Z_80, profile_interval


def _valley(centre: np.ndarray, cov: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The score (u - c)' cov^-1 (u - c) of a normal likelihood at each point."""
    res = points - centre
    return np.einsum("ij,ij->i", res, np.linalg.solve(cov, res.T).T)


def test_the_profile_of_a_narrow_valley_is_its_marginal_not_the_local_normal():
    # Two values trading off (correlation 0.95): a normal read with the other value held
    # ("too local") is narrow; the profile is the marginal, c +- 1.28 sd.
    centre = np.array([0.45, 0.5])
    sd = np.array([0.05, 0.08])
    cov = np.array([[1.0, 0.95], [0.95, 1.0]]) * np.outer(sd, sd)
    grid = np.linspace(0.0, 1.0, 401)
    points = np.array([(x, y) for x in grid for y in grid])
    scores = _valley(centre, cov, points)
    conditional = 1 / math.sqrt(np.linalg.inv(cov)[0, 0])  # the held-other-value standard deviation
    local = (centre[0] - Z_80 * conditional, centre[0] + Z_80 * conditional)
    lo, hi = profile_interval(points[:, 0], scores, local)
    half = math.sqrt(CHI2_80[1]) * sd[0]
    spacing = grid[1] - grid[0]
    assert abs(lo - (centre[0] - half)) <= spacing and abs(hi - (centre[0] + half)) <= spacing
    assert hi - lo > 2.5 * (local[1] - local[0])  # the local normal alone was far too narrow


def test_trials_beyond_the_bound_do_not_widen_the_interval():
    centre, sd = 0.3, 0.04
    xs = np.concatenate([[centre], np.linspace(0.0, 1.0, 41)])
    scores = ((xs - centre) / sd) ** 2
    normal = (centre - Z_80 * sd, centre + Z_80 * sd)
    lo, hi = profile_interval(xs, scores, normal)
    # On a grid of 0.025 only the best trial lies within 1.28 sd = 0.051: the normal is the interval.
    assert (lo, hi) == normal


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 1), st.floats(0, 50)), min_size=1, max_size=40),
    st.floats(0, 1),
    st.floats(0, 0.3),
)
def test_the_interval_holds_the_normal_and_every_trial_within_the_bound(trials, centre, half):
    xs = np.array([x for x, _ in trials])
    scores = np.array([s for _, s in trials])
    lo, hi = profile_interval(xs, scores, (centre - half, centre + half))
    assert lo <= centre - half and hi >= centre + half
    good = xs[scores <= scores.min() + CHI2_80[1]]
    assert lo <= good.min() and hi >= good.max()
    # and no wider than both together
    assert lo == min(centre - half, good.min()) and hi == max(centre + half, good.max())
