"""The scenario format as JSON Schema (draft 2020-12), generated from the pydantic models.

The models stay the one definition of the format: this module only adds what pydantic's
schema cannot know from the types — that ``platform`` may also be a preset's name (the model
turns ``x`` into the preset before validating) — and a title and id for editors.
"""

from __future__ import annotations

from typing import Any

from coach.platforms import PRESETS
from coach.scenario import Scenario

SCHEMA_ID = "https://cadence-coach.example/scenario.schema.json"  # a name, not fetched by anything


def scenario_schema() -> dict[str, Any]:
    """JSON Schema of a scenario file (``version: 1``), as used by ``coach schema``."""
    schema = Scenario.model_json_schema(mode="validation")
    props = schema["properties"]
    platform = props["platform"]
    description = platform.pop("description", "x, mastodon, bluesky, or a mapping of values")
    props["platform"] = {
        "description": description,
        "anyOf": [
            {"type": "string", "enum": list(PRESETS), "description": "a preset platform"},
            {k: v for k, v in platform.items() if k != "default"},
        ],
    }
    schema["properties"]["version"] = {**props["version"], "const": 1}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "Cadence Coach scenario",
        "description": "A scenario file: an account's habits, its audience and the platform (CONTRACTS.md).",
    }
