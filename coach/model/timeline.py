"""SimPy processes: the account's timeline, shared by every replicate of a batch.

Each process is a plain generator function, as SimPy recommends, driving an object with the
event methods of :class:`coach.model.day.ReplicateBatch` (passed in; this module imports no
engine); a post's replies are a single timeout with a callback (:func:`conversation`). Each
event acts on every replicate's crowd at once: there is never a process per follower or per
replicate. The order of same-time events is stated in :mod:`coach.model`.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from coach.rng import whole_count

HOURS_PER_DAY = 24.0


def day_cycle(env: simpy.Environment, batch: Any) -> Generator[simpy.Event, None, None]:
    """The master clock: start each day's processes, then close the day at midnight."""
    for day in range(batch.days):
        habits = batch.begin_day(day)
        env.process(posting_day(env, batch, day))
        if batch.mechanisms.outreach and habits.outreach_per_day > 0:
            env.process(outreach_day(env, batch, day))
        if batch.mechanisms.discovery:
            env.process(discovery_day(env, batch, day))
        yield env.timeout(HOURS_PER_DAY)
        batch.close_day(day)


def posting_day(env: simpy.Environment, batch: Any, day: int) -> Generator[simpy.Event, None, None]:
    """The day's sittings (planned when the day began), their posts minutes apart.

    The plan keeps every sitting within the day; a post that would still fall on or after
    midnight (only with absurdly long sittings) is not published. A post's replies are
    scheduled (:func:`conversation`) just after this process's next step, so when the account
    goes through them at the very instant of its next post (no reply delay, no gap between a
    sitting's posts) the post comes first.
    """
    gap = batch.params.sitting_gap_minutes / 60.0
    midnight = HOURS_PER_DAY * (day + 1)
    j = 0
    replies: tuple | None = None  # the last post's, until this process's next step is scheduled

    def schedule_replies() -> None:
        nonlocal replies
        if replies is not None:
            conversation(env, batch, *replies)
            replies = None

    for start, size in zip(batch.sitting_starts, batch.sitting_sizes, strict=True):
        # A sitting squeezed in before midnight may start before the last one ended: go on.
        step = env.timeout(max(0.0, start - env.now))
        schedule_replies()
        yield step
        if env.now >= midnight:
            return
        batch.begin_sitting(size, env.now)
        for k in range(size):
            if k:
                step = env.timeout(gap)
                schedule_replies()
                yield step
                if env.now >= midnight:
                    return
            repliers, rep, answered = batch.post(j, env.now)
            delay = batch.reply_hours_after(j, env.now)
            j += 1
            if len(repliers):
                replies = (delay, repliers, rep, answered)
    schedule_replies()  # the day's last post's


def conversation(
    env: simpy.Environment, batch: Any, delay: float, repliers: Any, rep: np.ndarray, answered: np.ndarray
) -> simpy.Timeout:
    """Replies to one post: the account goes through them after a delay in its active hours.

    One timeout with a callback rather than a process: a process would add two events per
    post with replies (its start and its timeout) for a single step.
    """

    def go_through(event: simpy.Event) -> None:
        batch.go_through_replies(repliers, rep, answered, env.now)

    timeout = env.timeout(delay)
    timeout.callbacks.append(go_through)
    return timeout


def outreach_day(env: simpy.Environment, batch: Any, day: int) -> Generator[simpy.Event, None, None]:
    """Replies the account leaves on other people's posts, spread over active hours."""
    rng = batch.timeline["outreach"]
    count = whole_count(batch.habits.outreach_per_day, rng)
    for t in batch.times_in_active_hours(day, count, rng):
        yield env.timeout(t - env.now)
        batch.reach_out(env.now)


def discovery_day(env: simpy.Environment, batch: Any, day: int) -> Generator[simpy.Event, None, None]:
    """The day's search and recommendation prospects, set at noon, decided at the close."""
    yield env.timeout(HOURS_PER_DAY * day + 12.0 - env.now)
    batch.discover(env.now)
