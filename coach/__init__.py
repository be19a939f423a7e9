"""Cadence Coach: how posting habits win and lose followers, simulated.

The public API — load a scenario, run it, compare habits, ask the coach:

>>> from coach import load_scenario, run_many
>>> ensemble = run_many(load_scenario("scenarios/conversationalist.yaml"), replicates=5)
>>> ensemble.summary()["followers_end"]["median"]  # doctest: +SKIP

Everything else lives in its submodule: :mod:`coach.scenario` (parsing from text or data,
dumping, the bundled personas), :mod:`coach.results` (reasons, channels, paired
differences), :mod:`coach.platforms` (presets), :mod:`coach.parameters` (the mechanism
switches), :mod:`coach.experiments` (batches, the worker pool, run-time estimates),
:mod:`coach.engine` and :mod:`coach.model` (the simulation itself).
"""

from __future__ import annotations

import importlib
from typing import Any

from coach._version import __version__
from coach.advisor import Advice, advise
from coach.engine import simulate
from coach.experiments import compare, run_many
from coach.importers import import_history
from coach.parameters import ModelParams
from coach.results import Ensemble, Results
from coach.scenario import Audience, Habits, Scenario, ScenarioError, Segment, TimelineStep, load_scenario

__all__ = [
    "Advice",
    "Audience",
    "Ensemble",
    "Habits",
    "ModelParams",
    "Results",
    "Scenario",
    "ScenarioError",
    "Segment",
    "TimelineStep",
    "__version__",
    "advise",
    "compare",
    "import_history",
    "load_scenario",
    "run_many",
    "simulate",
]

# Names the package used to export, still reachable for older code (not part of the API):
# import them from their submodule instead.
_MOVED = {
    "CHANNELS": "coach.results",
    "CHANNEL_WORDS": "coach.results",
    "REASONS": "coach.results",
    "REASON_WORDS": "coach.results",
    "paired_difference": "coach.results",
    "paired_differences": "coach.results",
    "PRESETS": "coach.platforms",
    "Platform": "coach.platforms",
    "Mechanisms": "coach.parameters",
    "estimated_seconds": "coach.experiments",
    "worker_count": "coach.experiments",
    "ArchiveError": "coach.importers",
    "ImportResult": "coach.importers",
    "bundled_scenarios": "coach.scenario",
    "dump_scenario": "coach.scenario",
    "parse_scenario": "coach.scenario",
    "scenario_from_data": "coach.scenario",
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module 'coach' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
