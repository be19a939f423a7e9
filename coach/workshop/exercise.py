"""Workshop exercises: a YAML file (``kind: workshop``) of rounds a class plays together.

Each round names a bundled persona (or a scenario file next to the exercise), says what
the class should try to achieve (``goal``, judged by ``metric``), what it may not do
(``constraints``: a time budget in minutes a day, narrower slider ranges), which habits the
participants may move (``habits``), whether they see their own prediction at once
(``reveal: live``) or only when the facilitator reveals it (``reveal: predict_then_reveal``),
and what to ask afterwards (``prompts``). The bundled kit lives in ``exercises/`` inside
this package, so an ordinary wheel install ships it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from coach import safe_yaml
from coach.messages import friendly_errors
from coach.scenario import (
    Habits,
    Scenario,
    ScenarioError,
    bundled_scenarios,
    load_scenario,
    read_yaml,
)

EXERCISE_DIR = Path(__file__).resolve().parent / "exercises"
_FROZEN = ConfigDict(frozen=True, extra="forbid")

# The habits a round may hand to its participants: the numeric sliders of the app.
# (Active hours are a pair of hours, not one slider.)
SLIDER_HABITS = tuple(name for name in Habits.model_fields if name != "active_hours")
METRICS = {
    "net": "net change in followers",
    "net_percent": "net change in followers, % of the start",
    "followers_end": "followers at the end",
    "unfollows": "unfollows (fewer is better)",
}
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class Constraints(BaseModel):
    """What the participants may not do in a round."""

    model_config = _FROZEN

    budget_minutes_per_day: float | None = Field(
        None, ge=0, le=1440, description="minutes a day the persona can spend; None: no limit"
    )
    ranges: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="narrower slider ranges, habit: [low, high] (within the habit's bounds)"
    )

    @field_validator("ranges")
    @classmethod
    def _ranges_fit(cls, value: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for habit, (lo, hi) in value.items():
            if habit not in SLIDER_HABITS:
                raise ValueError(f"{habit!r} is not a habit with a slider; allowed: {', '.join(SLIDER_HABITS)}")
            field_lo, field_hi = _field_bounds(habit)
            if not (field_lo <= lo < hi <= field_hi):
                raise ValueError(
                    f"{habit}: [{lo:g}, {hi:g}] is not allowed; allowed: low < high within {field_lo:g}..{field_hi:g}"
                )
        return value


class Round(BaseModel):
    """One round: a persona, a goal, the habits the class may move, and how results are revealed."""

    model_config = _FROZEN

    title: Text
    persona: str = Field(
        min_length=1, max_length=200, description="a bundled persona's name (billboard) or a scenario file"
    )
    minutes: float = Field(8, gt=0, le=180, description="planned length of the round, minutes")
    story: str = Field("", max_length=2000, description="shown to participants; default: the persona's story")
    goal: Text
    metric: Literal["net", "net_percent", "followers_end", "unfollows"] = "net"
    constraints: Constraints = Field(default_factory=Constraints)
    habits: tuple[str, ...] = Field(min_length=1, max_length=len(SLIDER_HABITS), description="habits participants set")
    reveal: Literal["live", "predict_then_reveal"] = "live"
    prompts: tuple[Text, ...] = Field((), max_length=20, description="questions for the discussion")
    days: int | None = Field(None, ge=1, le=365, description="horizon in days; default: the persona's")
    # 6 runs: paired seeds keep the ranking stable, and 30 submissions of a 3,000-follower
    # persona then fit in about 11 s of two idle cores (benchmarks/bench_workshop.py).
    replicates: int = Field(6, ge=1, le=50, description="runs per submission (median and 80% band)")
    seed: int = Field(7, ge=0, le=2**32 - 1, description="one seed for every submission: paired, fair comparisons")

    @field_validator("habits")
    @classmethod
    def _known_habits(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for habit in value:
            if habit not in SLIDER_HABITS:
                raise ValueError(f"{habit!r} is not a habit with a slider; allowed: {', '.join(SLIDER_HABITS)}")
        if len(set(value)) != len(value):
            raise ValueError("a habit is listed twice; list each once")
        return value

    @model_validator(mode="after")
    def _ranges_are_allowed_habits(self) -> Round:
        extra = sorted(set(self.constraints.ranges) - set(self.habits))
        if extra:
            raise ValueError(f"constraints.ranges names {', '.join(extra)}, which this round's habits do not list")
        return self


class Exercise(BaseModel):
    """A workshop: a title, its rounds in order, and how long it is meant to take."""

    model_config = _FROZEN

    kind: Literal["workshop"]
    version: Literal[1] = 1
    title: Text
    description: str = Field("", max_length=4000)
    minutes: float = Field(45, gt=0, le=600, description="planned length, minutes")
    rounds: tuple[Round, ...] = Field(min_length=1, max_length=20)


def _field_bounds(habit: str) -> tuple[float, float]:
    lo = hi = None
    for m in Habits.model_fields[habit].metadata:
        lo = getattr(m, "ge", getattr(m, "gt", lo))
        hi = getattr(m, "le", getattr(m, "lt", hi))
    return float(lo), float(hi)


def habit_range(round_: Round, habit: str) -> tuple[float, float]:
    """The slider range of one habit in a round (the constraint, else the habit's bounds)."""
    return round_.constraints.ranges.get(habit, _field_bounds(habit))


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


def bundled_exercises() -> dict[str, Path]:
    """The bundled exercises by name (file stem), sorted."""
    return {p.stem: p for p in sorted(EXERCISE_DIR.glob("*.yaml"))}


def parse_exercise(text: str | bytes, source: str = "<exercise>", base_dir: Path | None = None) -> Exercise:
    """Validate exercise YAML; every round's persona must load (checked here, not mid-workshop)."""
    data = read_yaml(text, source)
    if data.get("kind") != "workshop":
        raise ScenarioError(
            [f"{source}: kind: {data.get('kind')!r} is not allowed; a workshop exercise starts with `kind: workshop`"]
        )
    try:
        exercise = Exercise.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_problems(exc, source)) from None
    problems = []
    for i, round_ in enumerate(exercise.rounds):
        try:
            persona_scenario(round_.persona, base_dir)
        except ScenarioError as exc:
            problems.append(f"{source}: rounds[{i}].persona: {'; '.join(exc.problems)}")
    if problems:
        raise ScenarioError(problems)
    return exercise


def _problems(exc: ValidationError, source: str) -> list[str]:
    """The scenario format's friendly messages, with the choices spelled out for fixed words."""
    problems = []
    choices = {}
    for err in exc.errors():
        if err["type"] == "literal_error":
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
            choices[path] = f"{source}: {path}: {err['input']!r} is not allowed; allowed: {err['ctx']['expected']}"
    for problem in friendly_errors(exc, source, Exercise):
        path = problem.removeprefix(f"{source}: ").split(":", 1)[0]
        problems.append(
            choices.pop(path, problem.replace("see the scenario format in README.md", "see docs/workshop.md"))
        )
    return problems + list(choices.values())


def load_exercise(name_or_path: str | Path) -> tuple[str, Exercise, str]:
    """A bundled exercise by name, or an exercise file: (name, exercise, its YAML text)."""
    bundled = bundled_exercises()
    path = bundled.get(str(name_or_path)) or Path(name_or_path)
    try:
        raw = safe_yaml.read_regular(path)
    except FileNotFoundError:
        names = ", ".join(bundled) or "none"
        raise ScenarioError([f"{name_or_path}: no such exercise file or bundled exercise; bundled: {names}"]) from None
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot be read ({exc.strerror})"]) from None
    exercise = parse_exercise(raw, source=str(path), base_dir=path.parent)
    return path.stem, exercise, raw.decode("utf-8-sig")


def persona_scenario(persona: str, base_dir: Path | None = None) -> Scenario:
    """A round's persona: a bundled persona's name, or a scenario file (relative to the exercise)."""
    for path in bundled_scenarios():
        if path.stem == persona:
            return load_scenario(path)
    path = Path(persona)
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    if path.suffix in (".yaml", ".yml") and path.exists():
        return load_scenario(path)
    names = ", ".join(p.stem for p in bundled_scenarios())
    raise ScenarioError([f"{persona!r} is neither a bundled persona nor a scenario file; bundled personas: {names}"])


def round_scenario(round_: Round, base_dir: Path | None = None) -> Scenario:
    """The persona as the round plays it: the round's horizon, runs and seed."""
    scenario = persona_scenario(round_.persona, base_dir)
    update: dict[str, Any] = {"replicates": round_.replicates, "seed": round_.seed}
    if round_.days is not None and round_.days != scenario.days:
        if any(step.day > round_.days for step in scenario.timeline):
            raise ScenarioError([f"{round_.persona}: its timeline goes past the round's {round_.days} days"])
        update["days"] = round_.days
    return scenario.model_copy(update=update)


def metric_value(summary: dict[str, Any], metric: str, quantile: str = "median") -> float:
    """A round's metric from a ``coach run`` summary (higher is better, except ``unfollows``)."""
    if metric == "net_percent":
        start = summary["followers_start"]
        return 100.0 * summary["net"][quantile] / start if start else 0.0
    return float(summary[metric][quantile])


def better(metric: str) -> int:
    """+1 when a larger metric is better, -1 when smaller is."""
    return -1 if metric == "unfollows" else 1
