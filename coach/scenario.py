"""The scenario: one validated, frozen description of an account, its audience and platform.

A scenario is the only input of the simulation. It is read from YAML (``version: 1``,
CONTRACTS.md) with a safe loader, validated by the pydantic models below, and written back
with :func:`dump_scenario` so that ``load(dump(s)) == s``. Bounds, units and descriptions live
on the fields: the CLI, the app's sliders and the error messages all read them from here.

Bad input raises :class:`ScenarioError`, whose ``problems`` are one plain sentence each,
naming the file, the field path, the bad value and what is allowed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from coach import safe_yaml
from coach.messages import friendly_errors, quote, shorten
from coach.parameters import ModelParams
from coach.platforms import PRESETS, Platform

Num = Annotated[float, Strict()]
"""A number from YAML: ints and floats, never booleans or strings."""
Int = Annotated[int, Strict()]

MAX_FILE_BYTES = 1_000_000
_PACKAGED = Path(__file__).resolve().parent / "scenarios"  # in a wheel: copied in at build time (setup.py)
_CHECKOUT = Path(__file__).resolve().parent.parent / "scenarios"  # a checkout, PYTHONPATH or editable install
SCENARIO_DIR = _PACKAGED if _PACKAGED.is_dir() else _CHECKOUT
"""The persona library: inside the installed package, else the checkout's top-level ``scenarios/``."""
SHARE_TOLERANCE = 0.01


class ScenarioError(ValueError):
    """A scenario that cannot be used, with one readable sentence per problem."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# --------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------

_FROZEN = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)  # .nan / .inf are never data


class Habits(BaseModel):
    """What the account does: the sliders of the app."""

    model_config = _FROZEN

    posts_per_day: Num = Field(2.0, ge=0, le=100, description="original posts per day (not replies)")
    posts_per_session: Num = Field(
        1.0,
        ge=1,
        le=50,
        description="mean posts published minutes apart in one sitting (burst size; sittings vary around it)",
    )
    link_share: Num = Field(0.2, ge=0, le=1, description="share of posts with an external link")
    promo_share: Num = Field(0.05, ge=0, le=1, description="share of posts promoting yourself")
    question_share: Num = Field(0.1, ge=0, le=1, description="share of posts that ask something")
    reply_rate: Num = Field(0.5, ge=0, le=1, description="share of incoming replies and mentions answered")
    reply_delay_hours: Num = Field(
        3.0, ge=0, le=168, description="typical hours until you answer (within active hours)"
    )
    outreach_per_day: Num = Field(2.0, ge=0, le=200, description="replies you leave on other people's posts, per day")
    follow_back_rate: Num = Field(0.2, ge=0, le=1, description="share of new followers you follow back")
    active_hours: tuple[Int, Int] = Field(
        (8, 22), description="local hours [start, end) when you post and answer; may wrap midnight"
    )
    minutes_per_post: Num = Field(3.0, ge=0, le=120, description="minutes one post costs you")
    minutes_per_reply: Num = Field(2.0, ge=0, le=120, description="minutes one reply costs you")

    @field_validator("active_hours")
    @classmethod
    def _hours_in_day(cls, value: tuple[int, int]) -> tuple[int, int]:
        start, end = value
        # [0, 24] is the whole day; [8, 8] could mean an empty or a whole day, so it is refused.
        if not (0 <= start <= 23 and 1 <= end <= 24) or start == end:
            raise ValueError(
                f"{list(value)} is not allowed; allowed: [start, end) with start 0..23, end 1..24, "
                "start != end (e.g. [8, 22]; [0, 24] is the whole day; [22, 6] wraps midnight)"
            )
        return value

    @model_validator(mode="after")
    def _shares_fit(self) -> Habits:
        total = self.link_share + self.promo_share + self.question_share
        if total > 1 + 1e-9:
            raise ValueError(
                f"link_share + promo_share + question_share = {total:g}; allowed: at most 1 (the rest are plain posts)"
            )
        return self

    @property
    def active_hour_list(self) -> list[int]:
        """The hours of the day (0..23) in which the account acts."""
        start, end = self.active_hours
        length = (end - start) % 24 or 24
        return [(start + k) % 24 for k in range(length)]


def _optional(info: FieldInfo) -> tuple[Any, FieldInfo]:
    """The same field, optional and defaulting to None, for partial habit changes."""
    copy = FieldInfo.merge_field_infos(info, default=None)
    return (info.annotation | None, copy)


HabitChanges = create_model(  # type: ignore[call-overload]
    "HabitChanges",
    __config__=_FROZEN,
    **{name: _optional(info) for name, info in Habits.model_fields.items()},
)
HabitChanges.__doc__ = "Some habits, changed from a given day on (a timeline step)."


class TimelineStep(BaseModel):
    """From `day` on, the account changes these habits."""

    model_config = _FROZEN

    day: Int = Field(..., ge=1, le=730, description="first day (1-based) with the new habits")
    habits: HabitChanges = Field(..., description="the habits that change; the rest stay")  # type: ignore[valid-type]


class Segment(BaseModel):
    """One kind of follower: what they came for and how much they put up with."""

    model_config = _FROZEN

    name: str = Field(..., min_length=1, max_length=40, description="label, e.g. peers or news_readers")
    share: Num = Field(..., ge=0, le=1, description="share of the followers in this segment")
    link_appetite: Num = Field(0.0, ge=-1, le=1, description="-1 hates links .. 1 came for links")
    chat_appetite: Num = Field(0.5, ge=0, le=1, description="how much conversation matters, 0..1")
    tolerance_posts_per_day: Num = Field(6.0, ge=0.1, le=500, description="median posts/day before fatigue (E:A9)")
    attention: Num = Field(0.3, ge=0, le=1, description="chance a follower online sees a given post")
    churn_per_month: Num = Field(0.015, ge=0, le=1, description="background unfollow share per month (E:A12)")


def _default_segments() -> tuple[Segment, ...]:
    return (Segment(name="general", share=1.0),)


class Audience(BaseModel):
    """Who follows the account now, and who may come across it."""

    model_config = _FROZEN

    followers: Int = Field(500, ge=0, le=10_000_000, description="followers at day 0")
    prospects_per_day: Num = Field(
        40.0, ge=0, le=1_000_000, description="people who come across the account per day by search or recommendation"
    )
    reachable: Int | None = Field(
        None,
        ge=1,
        le=1_000_000_000,
        description="people who could ever follow the account (default: 20 x starting followers, at least 20,000)",
    )
    segments: tuple[Segment, ...] = Field(
        default_factory=_default_segments,
        min_length=1,
        max_length=12,
        description="kinds of followers; shares sum to 1",
    )
    market: dict[str, Num] | None = Field(None, description="prospects' segment mix (default: the followers' mix)")
    activity_by_hour: tuple[Num, ...] | None = Field(
        None,
        min_length=24,
        max_length=24,
        description="24 non-negative weights: when the audience is online (default: a daytime curve)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Audience:
        names = [s.name for s in self.segments]
        if len(set(names)) != len(names):
            raise ValueError(f"segments: names must be unique; got {names}")
        total = sum(s.share for s in self.segments)
        if abs(total - 1) > SHARE_TOLERANCE:
            raise ValueError(f"segments: shares sum to {total:g}; allowed: 1 (within {SHARE_TOLERANCE})")
        if self.market is not None:
            unknown = sorted(set(self.market) - set(names))
            if unknown:
                raise ValueError(f"market: unknown segment {quote(unknown[0])}; allowed: {', '.join(names)}")
            if any(v < 0 for v in self.market.values()) or abs(sum(self.market.values()) - 1) > SHARE_TOLERANCE:
                raise ValueError(f"market: shares must be >= 0 and sum to 1; got {quote(dict(self.market))}")
        if self.activity_by_hour is not None:
            if min(self.activity_by_hour) < 0 or max(self.activity_by_hour) <= 0:
                raise ValueError("activity_by_hour: allowed: 24 non-negative weights, at least one positive")
        return self

    def reachable_people(self) -> int:
        """The finite market of possible followers: prospects thin out as it fills (Bass, E:G1)."""
        return self.reachable if self.reachable is not None else max(20 * self.followers, 20_000)

    def market_shares(self) -> list[float]:
        """Prospects' share per segment, in segment order."""
        if self.market is None:
            return [s.share for s in self.segments]
        return [self.market.get(s.name, 0.0) for s in self.segments]


class Scenario(BaseModel):
    """Everything one simulation needs (CONTRACTS.md, ``version: 1``)."""

    model_config = _FROZEN

    version: Literal[1] = Field(1, description="scenario format version")
    name: str = Field("Untitled", min_length=1, max_length=80, description="shown in the app and CLI")
    description: str = Field("", max_length=2000, description="the persona's story")
    days: Int = Field(90, ge=1, le=730, description="horizon in days")
    replicates: Int = Field(30, ge=1, le=500, description="runs for the median and bands")
    seed: Int = Field(7, ge=0, le=2**32 - 1, description="default random seed")
    platform: Platform = Field(
        default_factory=lambda: PRESETS["mastodon"], description="x, mastodon, bluesky, or a mapping of values"
    )
    habits: Habits = Field(default_factory=Habits)
    audience: Audience = Field(default_factory=Audience)
    timeline: tuple[TimelineStep, ...] = Field((), max_length=50, description="habit changes from a given day on")
    model: ModelParams = Field(default_factory=ModelParams, description="model constants (advanced)")

    @field_validator("platform", mode="before")
    @classmethod
    def _preset(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value not in PRESETS:
                raise ValueError(f"unknown platform {value!r}; allowed: {', '.join(PRESETS)} or a mapping of values")
            return PRESETS[value]
        return value

    @model_validator(mode="after")
    def _timeline_fits(self) -> Scenario:
        days = [step.day for step in self.timeline]
        if len(set(days)) != len(days):
            raise ValueError("timeline: two steps share a day; allowed: one step per day")
        for i, step in enumerate(self.timeline):
            if step.day > self.days:
                raise ValueError(f"timeline[{i}].day: {step.day} is after the horizon (days: {self.days})")
        self.habit_schedule()  # every merged habit set must be valid too
        return self

    def habit_schedule(self) -> list[tuple[int, Habits]]:
        """(first day, habits) pairs in day order; the first pair starts on day 1."""
        schedule = [(1, self.habits)]
        current = self.habits.model_dump()
        for step in sorted(self.timeline, key=lambda s: s.day):
            current.update(step.habits.model_dump(exclude_none=True))
            try:
                schedule.append((step.day, Habits(**current)))
            except ValidationError as exc:
                err = exc.errors()[0]
                message = str(err.get("ctx", {}).get("error", err["msg"]))
                raise ValueError(f"timeline (from day {step.day} on): {message}") from None
        return schedule

    def with_habits(self, **changes: Any) -> Scenario:
        """A copy with some habits changed (validated)."""
        habits = Habits(**{**self.habits.model_dump(), **changes})
        return self.model_copy(update={"habits": habits})


# --------------------------------------------------------------------------------------
# Reading and writing
# --------------------------------------------------------------------------------------


def bundled_scenarios() -> list[Path]:
    """The persona library's files, sorted by name."""
    return sorted(SCENARIO_DIR.glob("*.yaml"))


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read, override (``field.path=value``) and validate one scenario file."""
    path = Path(path)
    try:
        raw = safe_yaml.read_regular(path)
    except FileNotFoundError:
        raise ScenarioError([f"{path}: no such file"]) from None
    except IsADirectoryError:
        raise ScenarioError([f"{path}: is a folder; give a .yaml scenario file"]) from None
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot be read ({exc.strerror})"]) from None
    return parse_scenario(raw, source=str(path), overrides=overrides)


def parse_scenario(text: str | bytes, source: str = "<scenario>", overrides: Iterable[str] = ()) -> Scenario:
    """Validate scenario YAML given as text or bytes (for uploads)."""
    data = read_yaml(text, source)
    data = apply_overrides(data, overrides)  # the overrides are --set values, whichever file they change
    return scenario_from_data(data, source)


def read_yaml(text: str | bytes, source: str) -> dict[str, Any]:
    """Safe-load YAML into a mapping, turning every failure into a ScenarioError."""
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise ScenarioError(
                [f"{source}: {len(text):,} bytes is too large for a scenario; allowed: up to {MAX_FILE_BYTES:,} bytes"]
            )
        for bom, encoding in ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")):  # fmt: skip
            if text.startswith(bom):  # Notepad's "Unicode": text, but not the UTF-8 a scenario is read as
                raise ScenarioError([f"{source}: this is {encoding} text; save the scenario as UTF-8 (any editor's 'Save as' offers it)"])  # fmt: skip
        if b"\x00" in text:
            raise ScenarioError(
                [
                    f"{source}: this is binary data, not a YAML scenario (a text file with keys like version, name, habits)"
                ]
            )
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ScenarioError(
                [f"{source}: not UTF-8 text (bad byte at position {exc.start}); save the scenario as UTF-8 YAML"]
            ) from None
    try:
        data = safe_yaml.load(text)
    except safe_yaml.YamlRefused as exc:
        raise ScenarioError([f"{source}: {exc.problem}"]) from None
    except yaml.constructor.ConstructorError as exc:
        tag = getattr(exc, "problem", "") or ""
        where = _mark(exc.problem_mark)
        raise ScenarioError(
            [f"{source}{where}: {tag.strip()}; scenario files may hold plain data only (no !!python or other tags)"]
        ) from None
    except yaml.YAMLError as exc:
        where = _mark(getattr(exc, "problem_mark", None))
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError([f"{source}{where}: not valid YAML: {problem}"]) from None
    if data is None:
        raise ScenarioError([f"{source}: the file is empty; a scenario needs at least `version: 1`"])
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise ScenarioError([f"{source}: expected a mapping of keys (version, name, habits, ...), got a {kind}"])
    return data


def _mark(mark: Any) -> str:
    return f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""


def apply_overrides(data: dict[str, Any], assignments: Iterable[str], source: str = "--set") -> dict[str, Any]:
    """Return a copy of raw scenario data with ``a.b.c=value`` assignments applied.

    Values are parsed as YAML scalars or flow collections (``8``, ``0.5``, ``[7, 23]``, ``x``).
    ``source`` starts a mistake's message: the option (``--set``) or where else the
    assignments were written (a sweep file's ``study.yaml: set:``).
    """
    result = copy.deepcopy(data)
    for assignment in assignments:
        key, sep, value_text = assignment.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ScenarioError([f"{source} {quote(assignment)}: expected FIELD=VALUE, e.g. habits.posts_per_day=8"])
        shown = shorten(key)
        try:
            value = safe_yaml.load(value_text) if value_text.strip() else None
        except safe_yaml.YamlRefused as exc:
            raise ScenarioError(
                [f"{source} {shown}: {exc.problem.replace(' (line 1)', '')}"]
            ) from None  # one line: no number
        except yaml.YAMLError:
            raise ScenarioError([f"{source} {shown}: cannot read the value {quote(value_text)}"]) from None
        parts = key.split(".")
        node = result
        for i, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if i == 0 and part == "platform" and isinstance(child, str) and child in PRESETS:
                # `platform.link_reach=…` on a preset: start from the preset's values
                child = node[part] = PRESETS[child].model_dump(mode="json")
            if not isinstance(child, dict):
                raise ScenarioError(
                    [
                        f"{source} {shown}: {shorten('.'.join(parts[: i + 1]))} is not a mapping, so it has no field {quote(parts[i + 1])}"
                    ]
                )
            node = child
        node[parts[-1]] = value
    return result


def scenario_from_data(data: Mapping[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate already-parsed scenario data, with friendly messages."""
    version = data.get("version", None)
    if version is None:
        raise ScenarioError([f"{source}: version: missing; allowed: 1 (start the file with `version: 1`)"])
    if version != 1 or isinstance(version, bool):
        raise ScenarioError(
            [f"{source}: version: {version!r} is not supported by this version of Cadence Coach; allowed: 1"]
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(friendly_errors(exc, source, Scenario, aliases={HabitChanges: Habits})) from None


def dump_scenario(scenario: Scenario) -> str:
    """YAML text for a scenario; loading it back gives an equal scenario."""
    data = scenario.model_dump(mode="json", exclude={"model", "platform", "timeline"})
    preset = PRESETS.get(scenario.platform.name)
    data["platform"] = (
        scenario.platform.name if preset == scenario.platform else scenario.platform.model_dump(mode="json")
    )
    audience = data["audience"]
    for key in ("reachable", "market", "activity_by_hour"):
        if audience[key] is None:
            del audience[key]
    if scenario.timeline:
        data["timeline"] = [
            {"day": s.day, "habits": s.habits.model_dump(mode="json", exclude_none=True)} for s in scenario.timeline
        ]
    model = scenario.model.model_dump(mode="json", exclude_defaults=True)
    if model:
        data["model"] = model
    order = [
        "version",
        "name",
        "description",
        "days",
        "replicates",
        "seed",
        "platform",
        "habits",
        "audience",
        "timeline",
        "model",
    ]
    ordered = {key: data[key] for key in order if key in data}
    return yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=100)
