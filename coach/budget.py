"""What a run will cost before it starts, and a budget that stops it when it costs more.

The run time of a scenario is driven by the crowd it *reaches*, not the crowd it starts
with: 0 starting followers and 1,000,000 prospects a day once cost 114 s a run (12.6 M
followers by day 90) while the old estimate, built on the starting crowd, said 1 s; a
"reshare storm" (every seen post reshared, 1,000 prospects per reshare) allocated 5 GB in
one day. :func:`project` walks the horizon day by day with every inflow at its largest
mean (no unfollows, the best follow odds the model allows, every mechanism at full reach),
so its ``peak_followers`` and ``peak_prospects`` bound what a run can hold, and a second,
*typical* walk (the starting profile's follow odds) gives the time to expect.
:func:`check` turns a projection into refusals that say what is too big, the projected
number and what to lower.

:class:`Budget` is the other half: a ``should_stop`` callable for
:func:`coach.run_many` / :func:`coach.compare` / :func:`coach.run_batch` (asked between
runs and once per simulated day) that says stop once a deadline passes or this process and
its pool workers hold more memory than allowed; :meth:`Budget.watch` also shuts the worker
pool down from a watchdog thread, because a pooled run is only asked between runs.

Pure: no printing, no streamlit.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from coach import experiments
from coach.messages import counted, format_number
from coach.scenario import Scenario

# Memory one follower and one prospect may cost while a run holds them, bytes: upper bounds.
# A follower is 16 fields of 1-8 bytes (62 bytes), over-allocated by up to 1.5x, plus the
# passes' buffers (about 20 bytes) and, while the grid grows, one field's old copy; a prospect at the close is a handful of float64 columns and temporaries.
# benchmarks/bench_budget.py prints the projection beside real runs (tracemalloc peaks came
# to 7-20% of the bound: 100 bytes a follower, 40 a prospect, on the first-wave engine).
BYTES_PER_FOLLOWER = 160
BYTES_PER_PROSPECT = 120
BYTES_PER_RUN = 30e6  # a run's fixed overhead (the day series, SimPy, buffers), bytes
COST_PER_PROSPECT = 5.0e-8  # seconds to decide one prospect at the close (compiled pass)

MEMORY_CHECK_SECONDS = 0.05  # memory is read at most this often, seconds
SAFETY_SIGMAS = 5.0  # a bound's allowance for the day-to-day randomness, in standard deviations


@dataclass(frozen=True)
class Limits:
    """What one caller lets a scenario cost; None means no limit."""

    max_followers: float | None = None  # most followers one run may hold (bound)
    max_prospects_per_day: float | None = None  # most prospects one day may bring (bound)
    max_bytes_per_run: float | None = None  # memory one run may need (bound), bytes
    max_seconds: float | None = None  # expected wall time of the whole job, seconds


MEMORY_SHARE = 0.8  # share of this machine's memory the command line lets its runs' bound take


def cli_limits(workers: int = 1) -> Limits:
    """The command line's limits: what this machine's memory can hold with ``workers`` runs at once.

    Only memory is refused: a run that cannot fit would end in a MemoryError (or the kernel's
    OOM killer) after minutes; a long one is only announced, the person at the terminal decides.
    """
    import psutil

    total = psutil.virtual_memory().total
    return Limits(
        max_followers=None, max_prospects_per_day=None, max_bytes_per_run=MEMORY_SHARE * total / max(1, workers)
    )


@dataclass(frozen=True)
class Projection:
    """A scenario's projected cost for one run (``peak_*`` are upper bounds)."""

    peak_followers: float  # most followers any day of one run can hold
    peak_prospects: float  # most prospects decided at one day's close
    peak_day: int  # the day (1-based) the bound on followers is reached
    typical_followers: float  # the followers a typical run ends with (for the time estimate)
    seconds_per_run: float  # expected serial run time, seconds
    bytes_per_run: float  # upper bound of one run's memory, bytes
    driver: str  # what drives the bound: "followers" (the start), "reshare" or "prospects"

    def seconds(self, runs: int, workers: int = 1) -> float:
        """Expected wall time of ``runs`` runs spread over ``workers`` processes, seconds."""
        return self.seconds_per_run * math.ceil(runs / max(1, min(workers, runs)))


def _logistic(logit: float) -> float:
    return 1 / (1 + math.exp(-max(-50.0, min(50.0, logit))))


def project(scenario: Scenario) -> Projection:
    """Walk the horizon with every inflow at its largest mean (see the module docstring)."""
    p, mech, audience = scenario.model, scenario.model.mechanisms, scenario.audience
    segments = audience.segments
    schedule = scenario.habit_schedule()
    # Sittings a day are the mean's floor plus one by chance: at most one sitting more than the mean.
    posts = max(h.posts_per_day + h.posts_per_session for _, h in schedule)
    outreach = max(h.outreach_per_day for _, h in schedule) if mech.outreach else 0.0
    reply_rate = max(h.reply_rate for _, h in schedule)
    attention = max(s.attention for s in segments)
    chat = max(s.chat_appetite for s in segments)
    link_app = max(s.link_appetite for s in segments)

    # The best profile the model can show a prospect: the most satisfying post kind.
    best_value = max(p.value_plain, p.value_link * max(link_app, 0.0), p.value_question * chat, p.value_promo)
    base_logit = math.log(p.follow_base_probability / (1 - p.follow_base_probability))
    follow_max = _logistic(
        base_logit
        + p.fit_weight * max(best_value, 0.0)
        + p.chat_weight * chat
        + math.log(p.exposure_odds) * p.max_extra_exposures
    )
    # The typical odds: the starting habits' profile for the market, little conversation.
    first = schedule[0][1]
    plain = max(0.0, 1 - first.link_share - first.promo_share - first.question_share)
    shares = audience.market_shares()
    profile = sum(
        share
        * (
            plain * p.value_plain
            + first.link_share * p.value_link * s.link_appetite
            + first.promo_share * p.value_promo
            + first.question_share * p.value_question * s.chat_appetite
        )
        for share, s in zip(shares, segments, strict=True)
    )
    extra = min(p.extra_exposures_per_post * first.posts_per_day, p.max_extra_exposures)
    follow_typical = _logistic(base_logit + p.fit_weight * profile + math.log(p.exposure_odds) * extra)

    # The most reshared kind (reshare.reshare_table): links for link readers, or questions or
    # promotion when their factors are set above a plain post's.
    kinds = max(1.0, p.link_reshare_boost * (1 + link_app) / 2, p.promo_reshare_factor, p.question_reshare_factor)
    reshare_p = min(1.0, p.reshare_probability * kinds)
    reply_p = min(1.0, p.reply_probability * p.question_reply_boost * chat)
    # Prospects per follower per day, at full room: reshares and public answers reach strangers.
    per_follower = 0.0
    if mech.reshare:
        per_follower += posts * attention * reshare_p * p.prospects_per_reshare * scenario.platform.out_of_network
    if mech.conversation:
        per_follower += posts * attention * reply_p * reply_rate * p.onlookers_per_answer
    fixed = outreach * (1 + p.onlookers_per_outreach)
    if mech.discovery:
        fixed += audience.prospects_per_day * (1 + p.discovery_activity_weight)
    reachable = float(audience.reachable_people())

    # Day-to-day randomness: discovery is gamma-Poisson with shape discovery_dispersion a day
    # (coefficient of variation 1/sqrt(shape)); a day's bound allows SAFETY_SIGMAS of it, the
    # followers' bound the same of the running sum. Cascades have shape reshare_dispersion per
    # reshare, so they are bursty only while reshares are few, and then they cost little.
    day_burst = 1 + SAFETY_SIGMAS / math.sqrt(p.discovery_dispersion)

    def inflow(crowd: float) -> float:
        """Mean prospects of a day that starts with ``crowd`` followers (thinned by the room left)."""
        return (fixed + per_follower * crowd) * max(0.0, 1 - crowd / reachable)

    def largest(f, upper: float, vertex: float) -> float:
        """The crowd in [0, upper] where the concave f is largest: upper, or f's vertex below it."""
        return vertex if 0 < vertex < upper and f(vertex) > f(upper) else upper

    # grow(F) = F + follow_max * inflow(F) is concave in F (the room thins the inflow), so a
    # smaller crowd than the bound can grow more in a day: take the largest growth over every
    # crowd the bound allows, at the vertex of grow or of inflow when it lies below the bound.
    slope = follow_max * per_follower
    grow_vertex = reachable * (1 + slope - follow_max * fixed / reachable) / (2 * slope) if slope > 0 else math.inf
    inflow_vertex = (reachable - fixed / per_follower) / 2 if per_follower > 0 else math.inf

    def grow(crowd: float) -> float:
        return crowd + follow_max * inflow(crowd)

    bound = typical = float(audience.followers)
    peak_followers = bound
    peak_prospects = 0.0
    peak_day = 0
    sum_followers = 0.0
    sum_prospects = 0.0
    for day in range(scenario.days):
        busiest = inflow(largest(inflow, bound, inflow_vertex))
        peak_prospects = max(peak_prospects, busiest * day_burst + SAFETY_SIGMAS * math.sqrt(busiest) + outreach)
        worst = largest(grow, bound, grow_vertex)
        mean = inflow(worst)
        spread = SAFETY_SIGMAS * math.sqrt(mean * (1 + 1 / p.discovery_dispersion))
        bound = max(bound, grow(worst) + follow_max * spread + outreach)
        if bound > peak_followers:
            peak_followers, peak_day = bound, day + 1
        typical_mean = inflow(typical)
        typical += follow_typical * typical_mean
        sum_followers += typical
        sum_prospects += typical_mean

    grown = peak_followers - audience.followers
    if audience.followers >= grown:
        driver = "followers"
    else:
        driver = "reshare" if per_follower * peak_followers > fixed else "prospects"
    exposure_cost = experiments.COST_PER_POST + experiments.COST_PER_EXPOSURE * sum_followers / max(scenario.days, 1)
    seconds = (
        scenario.days * (experiments.COST_PER_DAY + max(h.posts_per_day for _, h in schedule) * exposure_cost)
        + experiments.COST_PER_FOLLOWER_DAY * sum_followers
        + COST_PER_PROSPECT * sum_prospects
        + experiments.COST_PER_START_FOLLOWER * audience.followers
    )
    memory = BYTES_PER_RUN + BYTES_PER_FOLLOWER * peak_followers + BYTES_PER_PROSPECT * peak_prospects
    return Projection(
        peak_followers=peak_followers,
        peak_prospects=peak_prospects,
        peak_day=peak_day,
        typical_followers=typical,
        seconds_per_run=seconds,
        bytes_per_run=memory,
        driver=driver,
    )


def _count(value: float) -> str:
    return format_number(round(value, -3) if value >= 10_000 else round(value))


def _size(value: float) -> str:
    return f"{value / 1e9:,.1f} GB" if value >= 1e9 else f"{value / 1e6:,.0f} MB"


LARGE_START_SHARE = 0.1  # a start this share of the projected peak is named first among what to lower


def _what_to_lower(scenario: Scenario, proj: Projection) -> str:
    """The inputs that drive the projected crowd, largest first."""
    a = scenario.audience
    if proj.driver == "followers":
        return "lower audience.followers"
    if proj.driver == "reshare":
        reshares = (
            "habits.posts_per_day or the reshare constants (model.reshare_probability, model.prospects_per_reshare)"
        )
        # Reshares reach strangers in proportion to the followers: from a large start, it is the start.
        if a.followers >= LARGE_START_SHARE * proj.peak_followers:
            return f"lower audience.followers (now {_count(a.followers)}), {reshares}"
        return f"lower {reshares}, or set a smaller audience.reachable"
    reach = f" or a smaller audience.reachable (now {_count(a.reachable_people())})"
    return f"lower audience.prospects_per_day (now {_count(a.prospects_per_day)}){reach}, or the horizon (days)"


TIME_LEVERS = "the runs (replicates), the horizon (days) or the starting followers"


def check(
    scenario: Scenario, limits: Limits, runs: int | None = None, workers: int = 1, where: str = "These settings",
    levers: str = TIME_LEVERS, projection: Projection | None = None,
) -> list[str]:  # fmt: skip
    """Sentences for each limit the scenario's projection passes (empty: within limits).

    ``levers``: what the time sentence tells the reader to lower (a job whose runs are its own,
    like the coach's, leaves the runs out); ``projection``: the scenario's, when the caller has it.
    """
    proj = project(scenario) if projection is None else projection
    runs = scenario.replicates if runs is None else runs
    crowd = (
        f"about {_count(proj.peak_followers)} followers by day {proj.peak_day} and "
        f"{_count(proj.peak_prospects)} prospects in one day (projected upper bounds)"
    )
    lower = _what_to_lower(scenario, proj)
    problems = []
    if limits.max_followers is not None and proj.peak_followers > limits.max_followers:
        problems.append(
            f"{where} can reach {crowd}; allowed: up to {_count(limits.max_followers)} followers. To fit, {lower}."
        )
    elif limits.max_prospects_per_day is not None and proj.peak_prospects > limits.max_prospects_per_day:
        problems.append(
            f"{where} can reach {crowd}; allowed: up to {_count(limits.max_prospects_per_day)} prospects a day. "
            f"To fit, {lower}."
        )
    elif limits.max_bytes_per_run is not None and proj.bytes_per_run > limits.max_bytes_per_run:
        problems.append(
            f"One run of {where[:1].lower() + where[1:]} can need about {_size(proj.bytes_per_run)} of memory ({crowd}); "
            f"allowed: up to {_size(limits.max_bytes_per_run)}. To fit, {lower}."
        )
    if limits.max_seconds is not None:
        # The engine's own estimate (it knows its batching), on this projection's crowd
        # (experiments.cost_followers: the typical walk ignores unfollows, so it is tempered by
        # the start); the crowd that runs away is caught by the memory bound above and the
        # running budget.
        seconds = experiments.estimated_seconds(scenario, runs, proj) / max(1, min(workers, runs))
        if seconds > limits.max_seconds:
            took, allowed = describe_seconds(seconds), describe_seconds(limits.max_seconds)
            # Just over the limit, both round alike ("about 10 seconds ... allowed: about 10 seconds").
            took = f"a little over {allowed}" if took == allowed else f"about {took}"
            problems.append(
                f"{where} would take {took} to simulate ({counted(runs, 'run')} of "
                f"{counted(scenario.days, 'day')}, from {format_number(scenario.audience.followers)} followers to about "
                f"{_count(proj.typical_followers)}); allowed here: about {allowed}. To fit, lower {levers}."
            )
    return problems


def describe_seconds(seconds: float) -> str:
    """``0.4 seconds``, ``12 seconds``, ``2.5 minutes``, ``14 minutes``, ``2.5 hours``."""
    if seconds < 10:
        return f"{seconds:.1f} seconds"
    if seconds < 90:
        return f"{seconds:.0f} seconds"
    if seconds < 600:  # 150 s is 2.5 minutes, not 2
        return f"{seconds / 60:.1f}".removesuffix(".0") + " minutes"
    if seconds < 5400:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} hours"
    return f"{format_number(round(seconds / 86400))} days"


# --------------------------------------------------------------------------------------
# Budgets that cancel running work
# --------------------------------------------------------------------------------------


def process_bytes(pids: Iterator[int] | list[int] = ()) -> int:
    """Resident memory of this process and the given ones (the pool's workers), bytes."""
    import psutil  # only where a budget is watched

    total = 0
    for pid in [None, *pids]:
        try:
            total += psutil.Process(pid).memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


class Budget:
    """A time and memory budget for one job, usable as ``should_stop``.

    ``seconds`` counts from construction; ``extra_bytes`` is the memory the job may add to
    what this process and the pool's workers hold when it starts; ``interrupt`` may give
    another reason to stop (a server shutting down). ``reason`` says, once exceeded, why the
    job stops (one clause, for the person who waits).
    """

    def __init__(
        self,
        seconds: float | None,
        extra_bytes: float | None = None,
        interrupt: Callable[[], str | None] | None = None,
    ):
        self.seconds = seconds
        self.interrupt = interrupt  # another reason to stop (the server shuts down), or None
        self.extra_bytes = extra_bytes
        self.started = time.monotonic()
        self.deadline = None if seconds is None else self.started + seconds
        self.baseline = process_bytes(experiments.pool_pids()) if extra_bytes is not None else 0
        self.reason: str | None = None
        self._lock = threading.Lock()
        self._next_memory_check = 0.0

    def exceeded(self) -> str | None:
        """Why the budget is exhausted, or None while it lasts."""
        with self._lock:
            if self.reason is None:
                if self.interrupt is not None and (why := self.interrupt()):
                    self.reason = why
                elif self.deadline is not None and time.monotonic() > self.deadline:
                    self.reason = (
                        f"it ran longer than its budget of {describe_seconds(self.seconds or 0)} and was stopped"
                    )
                elif self.extra_bytes is not None and time.monotonic() >= self._next_memory_check:
                    # Reading the processes' memory costs ~0.1 ms; a day can take far less.
                    self._next_memory_check = time.monotonic() + MEMORY_CHECK_SECONDS
                    used = process_bytes(experiments.pool_pids()) - self.baseline
                    if used > self.extra_bytes:
                        self.reason = (
                            f"it needed more than its memory budget of {_size(self.extra_bytes)} "
                            f"(about {_size(used)}) and was stopped"
                        )
            return self.reason

    def __call__(self) -> bool:
        return self.exceeded() is not None

    @contextmanager
    def watch(self, interval: float = 0.25) -> Iterator[Budget]:
        """Check the budget every ``interval`` seconds from a thread while the block runs.

        Once it is exceeded, the worker pool is shut down and its processes terminated: a
        pooled run is asked only between runs, and a run far over its budget may never end.
        The block then fails (RunCancelled from the engine, or a broken pool); turn that into
        a message with :meth:`reason`.
        """
        done = threading.Event()

        def guard() -> None:
            while not done.wait(interval):
                if self.exceeded() is not None:
                    experiments.shutdown_pool()
                    return

        thread = threading.Thread(target=guard, name="coach-budget", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            done.set()
            thread.join()
