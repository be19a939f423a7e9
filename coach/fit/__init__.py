"""Fit the model to your own account: your audience, learned from your history.

::

    from coach.fit import fit, from_archive, read_history_csv
    data = from_archive("twitter.zip", followers=1234, history=read_history_csv("followers.csv"))
    result = fit(data, trials=48, forecast=90)
    result.scenario      # today's account with the fitted audience (a valid Scenario)
    result.fitted        # {"audience.prospects_per_day": {"value", "p10", "p90"}, ...}
    result.assumed       # what stayed at its default
    result.fit           # observed vs simulated history, forecast, engagement, words

Nothing is sent anywhere: the export is read in memory and the fit runs on this machine.
Optuna is imported only when a fit runs.
"""

from coach.fit.core import DEFAULT_TRIALS, FitResult, build_scenario, fit, parameters_for
from coach.fit.data import (
    FitError,
    FitInput,
    KindEngagement,
    check_history,
    from_archive,
    parse_point,
    read_history_csv,
)

__all__ = [
    "DEFAULT_TRIALS",
    "FitError",
    "FitInput",
    "FitResult",
    "KindEngagement",
    "build_scenario",
    "check_history",
    "fit",
    "from_archive",
    "parameters_for",
    "parse_point",
    "read_history_csv",
]
