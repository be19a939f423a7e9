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
from typing import TYPE_CHECKING, Any

from coach._version import __version__

if TYPE_CHECKING:  # imported when first used (below): `import coach` costs nothing until then
    from coach.advisor import Advice, advise
    from coach.engine import simulate
    from coach.experiments import compare, run_many
    from coach.importers import import_history
    from coach.parameters import ModelParams
    from coach.results import Ensemble, Results
    from coach.scenario import Audience, Habits, Scenario, ScenarioError, Segment, TimelineStep, load_scenario

# Where each public name lives. They are imported on first use, so a command that needs
# little (``coach --version``, the command's launcher) does not load numba and the engine.
_HOME = {
    "Advice": "coach.advisor",
    "advise": "coach.advisor",
    "simulate": "coach.engine",
    "compare": "coach.experiments",
    "run_many": "coach.experiments",
    "import_history": "coach.importers",
    "ModelParams": "coach.parameters",
    "Ensemble": "coach.results",
    "Results": "coach.results",
    **dict.fromkeys(
        ("Audience", "Habits", "Scenario", "ScenarioError", "Segment", "TimelineStep", "load_scenario"),
        "coach.scenario",
    ),
}

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
    home = _HOME.get(name) or _MOVED.get(name)
    if home is not None:
        value = getattr(importlib.import_module(home), name)
        if name in _HOME:
            globals()[name] = value  # found once; later lookups do not come here
        return value
    if not name.startswith("_"):  # a submodule not imported yet: coach.engine after `import coach`
        try:
            return importlib.import_module(f"coach.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"coach.{name}":
                raise
    raise AttributeError(f"module 'coach' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
