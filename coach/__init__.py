"""Cadence Coach: how posting habits win and lose followers, simulated.

The public API, used by the command line, the app and the README:

>>> from coach import load_scenario, run_many
>>> ensemble = run_many(load_scenario("scenarios/conversationalist.yaml"), replicates=5)
>>> ensemble.summary()["followers_end"]["median"]  # doctest: +SKIP
"""

from coach._version import __version__
from coach.advisor import Advice, advise
from coach.engine import simulate
from coach.experiments import compare, estimated_seconds, run_many, worker_count
from coach.importers import ArchiveError, ImportResult, import_history
from coach.parameters import Mechanisms, ModelParams
from coach.platforms import PRESETS, Platform
from coach.results import (
    CHANNEL_WORDS,
    CHANNELS,
    REASON_WORDS,
    REASONS,
    Ensemble,
    Results,
    paired_difference,
    paired_differences,
)
from coach.scenario import (
    Audience,
    Habits,
    Scenario,
    ScenarioError,
    Segment,
    TimelineStep,
    bundled_scenarios,
    dump_scenario,
    load_scenario,
    parse_scenario,
    scenario_from_data,
)

__all__ = [
    "CHANNELS",
    "CHANNEL_WORDS",
    "PRESETS",
    "REASONS",
    "REASON_WORDS",
    "Advice",
    "ArchiveError",
    "Audience",
    "Ensemble",
    "Habits",
    "ImportResult",
    "Mechanisms",
    "ModelParams",
    "Platform",
    "Results",
    "Scenario",
    "ScenarioError",
    "Segment",
    "TimelineStep",
    "__version__",
    "advise",
    "bundled_scenarios",
    "compare",
    "dump_scenario",
    "estimated_seconds",
    "import_history",
    "load_scenario",
    "paired_difference",
    "paired_differences",
    "parse_scenario",
    "run_many",
    "scenario_from_data",
    "simulate",
    "worker_count",
]
