"""SimPy processes: the account's timeline.

Each process is a plain generator function, as SimPy recommends; each event it yields acts
on the whole crowd at once through :class:`coach.engine.World`. There is never a process
per follower. The order of same-time events is documented in :mod:`coach.engine`.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import numpy as np
import simpy

if TYPE_CHECKING:
    from coach.engine import World

HOURS_PER_DAY = 24.0


def day_cycle(env: simpy.Environment, world: World) -> Generator[simpy.Event, None, None]:
    """The master clock: start each day's processes, then close the day at midnight."""
    for day in range(world.days):
        habits = world.begin_day(day)
        env.process(posting_day(env, world, day))
        if world.mechanisms.outreach and habits.outreach_per_day > 0:
            env.process(outreach_day(env, world, day))
        if world.mechanisms.discovery:
            env.process(discovery_day(env, world, day))
        yield env.timeout(HOURS_PER_DAY)
        world.close_day(day)


def posting_day(env: simpy.Environment, world: World, day: int) -> Generator[simpy.Event, None, None]:
    """Sittings of ``posts_per_session`` posts, spread over the day's active hours."""
    habits = world.habits
    rng = world.rng["posting"]
    sittings = _count(habits.posts_per_day / habits.posts_per_session, rng)
    if sittings == 0:
        return
    gap = world.params.sitting_gap_minutes / 60.0
    burst_hours = habits.posts_per_session * gap
    starts = world.times_in_active_hours(day, sittings, rng, margin=burst_hours)
    kinds = world.draw_kinds(sittings * habits.posts_per_session, rng)
    k = 0
    for start in starts:
        # A sitting squeezed in before midnight may start before the last one ended: go on.
        yield env.timeout(max(0.0, start - env.now))
        world.begin_sitting(habits.posts_per_session, env.now)
        for j in range(habits.posts_per_session):
            if j:
                yield env.timeout(gap)
            repliers = world.publish(int(kinds[k]), env.now)
            k += 1
            if len(repliers):
                env.process(conversation(env, world, repliers))


def conversation(env: simpy.Environment, world: World, repliers: np.ndarray) -> Generator[simpy.Event, None, None]:
    """Replies to one post: the account goes through them after a delay in its active hours.

    It answers a share ``reply_rate`` of them and skips the rest; when it answers none,
    a reply left for a day counts as ignored.
    """
    rng = world.rng["conversation"]
    answered = rng.random(len(repliers)) < world.habits.reply_rate
    yield env.timeout(world.answer_delay(env.now, rng) if answered.any() else HOURS_PER_DAY)
    world.respond(repliers, answered, env.now)


def outreach_day(env: simpy.Environment, world: World, day: int) -> Generator[simpy.Event, None, None]:
    """Replies the account leaves on other people's posts, spread over active hours."""
    rng = world.rng["outreach"]
    count = _count(world.habits.outreach_per_day, rng)
    for t in world.times_in_active_hours(day, count, rng):
        yield env.timeout(t - env.now)
        world.outreach(env.now)


def discovery_day(env: simpy.Environment, world: World, day: int) -> Generator[simpy.Event, None, None]:
    """The day's search and recommendation prospects, decided in one batch at noon."""
    yield env.timeout(HOURS_PER_DAY * day + 12.0 - env.now)
    world.discover(env.now)


def _count(mean: float, rng: np.random.Generator) -> int:
    """A whole count with the given mean and the least spread: floor, plus one by chance."""
    whole = int(mean)
    return whole + int(rng.random() < mean - whole)
