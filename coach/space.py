"""The coach's search space, declared as data: which habits, on which grid, said in which words.

Each :class:`Dimension` names a habit of :class:`coach.scenario.Habits`, the grid of values
the coach may give it (even steps, or a ladder where equal steps would be wrong), and the
sentence that tells a person the change. One grid step is also the *realistic step* of the
sensitivity analysis. The app, the CLI and the tests read :data:`DEFAULT_SPACE`; a caller
may pass its own tuple of dimensions to :func:`coach.search.search` or
:func:`coach.advisor.advise`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _times_a_day(v: float) -> str:
    words = {0.5: "every other day", 1.0: "once a day", 2.0: "twice a day"}
    return words.get(float(v), f"{v:g} times a day")


def _in_ten(v: float) -> str:
    tenths = v * 10
    return f"{tenths:.0f} in 10" if abs(tenths - round(tenths)) < 1e-9 else f"{v:.0%}"


def _plural(singular: str, plural: str) -> Callable[[float], str]:
    return lambda v: f"{v:g} {singular if v == 1 else plural}"


FORMATS: dict[str, Callable[[float], str]] = {
    "times_a_day": _times_a_day,
    "posts": _plural("post", "posts"),
    "in_ten": _in_ten,
    "percent": lambda v: f"{v:.0%}",
    "hours": _plural("hour", "hours"),
    "replies_a_day": lambda v: f"{_plural('reply', 'replies')(v)} a day",
}
"""How a value reads in a sentence, by the name a :class:`Dimension` gives in ``style``."""


@dataclass(frozen=True)
class Dimension:
    """One habit the coach may change, the grid it moves on, and how to say a change.

    The grid is ``low, low + step, … high``, or an explicit ``ladder`` of values when
    equal steps would be wrong (going from 1 to 2 posts a day is as big a change as from 10
    to 20). One grid step is the *realistic step* of the sensitivity analysis.
    """

    habit: str
    low: float = 0.0
    high: float = 1.0
    step: float = 0.1
    ladder: tuple[float, ...] = ()
    integer: bool = False
    style: str = "percent"  # a key of FORMATS
    say: str = "Change {habit} to {new} instead of {old}"  # fields: {new}, {old}, {habit}
    say_zero: str = ""  # for a change to 0, when "0% of your posts" would read badly

    def __post_init__(self) -> None:
        if self.ladder:
            if list(self.ladder) != sorted(set(self.ladder)):
                raise ValueError(f"{self.habit}: ladder must be strictly increasing")
        elif not (self.step > 0 and self.high > self.low):
            raise ValueError(f"{self.habit}: need low < high and step > 0, or a ladder")
        if self.style not in FORMATS:
            raise ValueError(f"{self.habit}: style {self.style!r} is not one of {', '.join(FORMATS)}")

    def grid(self) -> tuple[float, ...]:
        """Every value the search may give this habit, ascending."""
        if self.ladder:
            values = self.ladder
        else:
            count = math.floor((self.high - self.low) / self.step + 1e-9)
            values = tuple(round(self.low + k * self.step, 10) for k in range(count + 1))
        return tuple(self.coerce(v) for v in values)

    def coerce(self, value: float) -> float:
        """The value in the habit's own type (posts per sitting are whole numbers)."""
        return round(value) if self.integer else float(value)

    def moves(self, current: float, direction: int) -> tuple[float, ...]:
        """Grid values beyond ``current`` in ``direction`` (-1 or +1), nearest first.

        When ``current`` is off the grid, a grid value closer than half the local spacing is
        skipped, so the first move is always a real step (0.37 moves to 0.5 or 0.3, not 0.4).
        """
        grid = self.grid()
        ahead = [v for v in grid if (v - current) * direction > 1e-9]
        if direction < 0:
            ahead.reverse()
        if not ahead:
            return ()
        behind = [v for v in grid if (v - current) * direction <= 1e-9]
        last = behind[-1] if direction > 0 and behind else (behind[0] if behind else None)
        if last is not None and abs(ahead[0] - current) < 0.5 * abs(ahead[0] - last) - 1e-9:
            ahead = ahead[1:]
        return tuple(ahead)

    def phrase(self, old: float, new: float) -> str:
        """The change as an instruction, e.g. "Answer 6 in 10 replies instead of 1 in 10"."""
        fmt = FORMATS[self.style]
        template = self.say_zero if self.say_zero and new == 0 else self.say
        return template.format(new=fmt(new), old=fmt(old), habit=self.habit.replace("_", " "))

    def to_dict(self) -> dict[str, Any]:
        return {
            "habit": self.habit,
            "grid": list(self.grid()),
            "style": self.style,
            "say": self.say,
            "say_zero": self.say_zero,
        }


SearchSpace = tuple[Dimension, ...]

POSTS_LADDER = (0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40)
DEFAULT_SPACE: SearchSpace = (
    Dimension("posts_per_day", ladder=POSTS_LADDER, style="times_a_day", say="Post {new} instead of {old}"),
    Dimension("posts_per_session", ladder=(1, 2, 3, 4, 6, 8, 10, 15, 20, 30), integer=True, style="posts",
              say="Publish {new} per sitting instead of {old}"),
    Dimension("link_share", 0.0, 1.0, 0.1, say="Put a link in {new} of your posts instead of {old}",
              say_zero="Stop putting links in your posts (now in {old})"),
    Dimension("promo_share", 0.0, 0.5, 0.05, say="Promote yourself in {new} of your posts instead of {old}",
              say_zero="Stop promoting yourself (now in {old} of your posts)"),
    Dimension("question_share", 0.0, 0.6, 0.1, say="Ask a question in {new} of your posts instead of {old}",
              say_zero="Stop asking questions in your posts (now in {old})"),
    Dimension("reply_rate", 0.0, 1.0, 0.1, style="in_ten", say="Answer {new} replies instead of {old}",
              say_zero="Stop answering replies (now {old})"),
    Dimension("reply_delay_hours", ladder=(0.5, 1, 2, 3, 4, 6, 8, 12, 24, 48), style="hours",
              say="Answer within about {new} instead of {old}"),
    Dimension("outreach_per_day", ladder=(0, 1, 2, 3, 5, 8, 10, 15, 20, 30, 40), style="replies_a_day",
              say="Leave {new} on other people's posts instead of {old}",
              say_zero="Stop replying on other people's posts (now {old})"),
    Dimension("follow_back_rate", 0.0, 1.0, 0.1, say="Follow back {new} of your new followers instead of {old}",
              say_zero="Stop following back new followers (now {old} of them)"),
)  # fmt: skip
"""The habits the coach tunes. Not here: active hours (a pair of hours, not a number) and
the minutes a post or reply costs (facts about the person, not habits to change)."""
