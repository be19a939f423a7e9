"""One simulation run: ``simulate(scenario, seed, replicate) -> Results``.

Time
    The SimPy clock counts **hours** from the start; day ``d`` (0-based, reported as day
    ``d + 1``) covers ``[24 d, 24 d + 24)``. The hour of day is ``t % 24`` in the audience's
    local time, the same clock as ``active_hours`` and ``activity_by_hour``.

Order of events
    1. At ``24 d`` the day cycle re-aligns every random stream to day ``d`` (:mod:`coach.rng`),
       sets the day's habits (timeline), and starts that day's posting, outreach and
       discovery processes.
    2. During the day, in time order: sittings (each enters followers' feeds whole, then its
       posts expose the crowd one by one, updating fatigue and satisfaction and drawing
       replies, reshares and the prospects reshares reach); the account going through a
       post's replies (answers and skips, with onlookers); outreach replies (the person
       answered and onlookers); and at noon the day's discovery prospects. Sittings are
       placed so that a whole burst ends before midnight, and answers fall at random
       minutes, so no event shares the instant of a close.
    3. At ``24 (d + 1)`` the day closes: each follower's hazards for the day are summed,
       followers whose cumulative hazard reaches their budget leave (each with one reason,
       drawn in proportion to that day's hazards); then the day's prospects decide in one
       batch and those who follow join (they face hazards from the next day on); last, the
       day's counts are recorded.

So ``followers[d] = followers[d - 1] + follows[d] - unfollows[d]`` holds exactly.
Every random draw comes from a named stream (:mod:`coach.rng`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

import numpy as np
import simpy

from coach.audience import F32, Crowd
from coach.processes import day_cycle
from coach.results import CHANNELS, REASONS, Results
from coach.rng import Streams, make_streams
from coach.scenario import Habits, Scenario

POST_KINDS = ("plain", "link", "promo", "question")
PLAIN, LINK, PROMO, QUESTION = range(4)
REASON_CHURN = REASONS.index("churn")
RESHARE, CONVERSATION, OUTREACH, DISCOVERY = (
    CHANNELS.index(c) for c in ("reshare", "conversation", "outreach", "discovery")
)

DEFAULT_ACTIVITY = (
    0.15, 0.08, 0.05, 0.04, 0.04, 0.08, 0.2, 0.45, 0.7, 0.9, 1.0, 1.0,
    0.95, 0.95, 0.95, 0.9, 0.85, 0.8, 0.8, 0.8, 0.75, 0.6, 0.45, 0.3,
)  # fmt: skip
"""Share of the audience online by local hour, peak = 1: weekday daytime peak (E:E9)."""

HOURS = 24.0  # the SimPy clock unit is the hour
DEAD_PENALTY = 4.0  # log-odds lost by an abandoned-looking profile (assumed, E:A14)
QUIET_GRACE_DAYS = 3.0  # days of silence before the profile starts to look abandoned
QUESTION_RESHARE = 0.8  # questions are reshared a little less than plain posts (assumed)
TYPICAL_ENGAGEMENT = 0.7  # 1 / (1 + (felt / tolerance)^2) at everyday posting, to seed the profile


def visibility_by_hour(activity: np.ndarray, half_life_minutes: float) -> np.ndarray:
    """Relative reach of a post published at each hour: the audience online during its life.

    A post's impressions decay with the given half-life (E:E1); its reach is the activity
    curve averaged under that decay, normalised so the best hour is 1.
    """
    rate = math.log(2) / (half_life_minutes / 60.0)  # per hour
    hours = np.arange(25)
    weights = np.diff(-np.exp(-rate * hours))  # share of impressions in each following hour
    vis = np.array([sum(activity[(h + j) % 24] * weights[j] for j in range(24)) for h in range(24)])
    return vis / vis.max()


class World:
    """The state of one run: the account, its crowd of followers, and the day's tallies."""

    def __init__(self, scenario: Scenario, streams: Streams):
        self.scenario = scenario
        self.params = p = scenario.model
        self.mechanisms = p.mechanisms
        self.platform = scenario.platform
        self.rng = streams
        self.days = scenario.days
        self.schedule = scenario.habit_schedule()
        self.habits: Habits = self.schedule[0][1]
        audience = scenario.audience
        segs = audience.segments
        self.n_seg = len(segs)
        self.reachable = audience.reachable_people()
        self.market_cdf = np.cumsum(audience.market_shares())
        self.market_cdf /= self.market_cdf[-1]

        activity = np.array(audience.activity_by_hour or DEFAULT_ACTIVITY, dtype=float)
        activity /= activity.max()
        vis = visibility_by_hour(activity, p.visibility_half_life_minutes)
        self.visibility = vis if self.mechanisms.exposure_decay else np.full(24, vis.mean())

        link_app = np.array([s.link_appetite for s in segs])
        chat_app = np.array([s.chat_appetite for s in segs])
        # Satisfaction a seen post of each kind brings to each segment (kinds x segments).
        self.value = np.array([
            np.full(self.n_seg, p.value_plain),
            p.value_link * link_app,
            np.full(self.n_seg, p.value_promo),
            p.value_question * chat_app,
        ], dtype=F32)  # fmt: skip
        # Chance a follower who sees a post reshares it, by kind and segment, before fatigue
        # (E:C4: links reshare more, the more so for readers who came for links).
        self.reshare_p = (p.reshare_probability * np.array([
            np.ones(self.n_seg),
            p.link_reshare_boost * (1 + link_app) / 2,
            np.full(self.n_seg, p.promo_reshare_factor),
            np.full(self.n_seg, QUESTION_RESHARE),
        ])).astype(F32)  # fmt: skip
        self.chat_app = chat_app
        self._draw = self._threshold = np.empty(0, F32)  # exposure buffers, see _exposed()
        self._hit = np.empty(0, bool)

        self.crowd = Crowd.empty(
            int(audience.followers * 1.3) + 64,
            segment_traits={
                "tolerance": np.array([s.tolerance_posts_per_day for s in segs], dtype=F32),
                "attention": np.array([s.attention for s in segs], dtype=F32),
                "chat": chat_app.astype(F32),
                # churn_per_month as a daily hazard: 1 - (1 - c)^(1/30) = -ln(1 - c) / 30
                "churn": np.array([-math.log1p(-min(s.churn_per_month, 0.999)) / 30 for s in segs], dtype=F32),
            },
        )
        self._seed_followers(audience.followers)

        # Account state. Leaky load of posts in followers' feeds (scalar: every follower's
        # feed receives the same posts; felt posts/day = load x 24 h / memory), and the
        # recent-profile summaries prospects see.
        self.tau_load = p.fatigue_memory_hours
        self.load = 0.0
        self.load_t = 0.0
        self.feed_count = 0.0
        self.feed_t = 0.0
        self.t_ref = 0.0  # time the scaled crowd accumulators were last rebased
        self.bonded_until_max = 0.0  # no follower is bonded after this hour
        self.bonds_made: deque[float] = deque()  # expiry hours of running bonds, oldest first
        self.profile = self._expected_profile(self.habits)
        self.recent_posts = self.habits.posts_per_day
        self.recent_answers = self._expected_answers(self.habits)
        self.last_post = -HOURS / max(self.habits.posts_per_day, 1e-9) if self.habits.posts_per_day > 0 else 0.0

        self.daily = {key: np.zeros(self.days) for key in Results.series_names()}
        self.reason_keys = [f"unfollows_{r}" for r in REASONS]
        self.channel_keys = [f"follows_{c}" for c in CHANNELS]
        self.expected_likes = 0.0  # drawn as one Poisson count at the close
        self.day = 0
        self.should_stop: Callable[[], bool] | None = None  # asked once per simulated day
        # Prospects met during the day, decided in one vectorised batch at the close.
        self.pending = np.zeros(len(CHANNELS), dtype=np.int64)
        self.pending_targets: list[bool] = []  # outreach targets: does the account follow them?

    # -- set-up ----------------------------------------------------------------------------

    def _seed_followers(self, count: int) -> None:
        rng = self.rng["crowd"]
        shares = np.array([s.share for s in self.scenario.audience.segments])
        segments = rng.choice(self.n_seg, size=count, p=shares / shares.sum()).astype(np.int8)
        reciprocal = rng.random(count) < self.habits.follow_back_rate
        self.crowd.add(segments, 0.0, reciprocal, rng, self.params.tolerance_spread, self.params.reciprocal_ratio)
        # Starting ties are of mixed age: exponential around the mean age (assumed). Sorted
        # oldest first, so tie starts never decrease along the rows (later followers join at
        # the end): the ties still young at any time are a suffix, found by binary search.
        self.crowd.tie_start[:] = np.sort(-rng.exponential(self.params.initial_tie_age_days * HOURS, count))

    def _kind_shares(self, habits: Habits) -> np.ndarray:
        link, promo, question = habits.link_share, habits.promo_share, habits.question_share
        return np.array([max(0.0, 1 - link - promo - question), link, promo, question])

    def _expected_profile(self, habits: Habits) -> np.ndarray:
        return self._kind_shares(habits) @ self.value.astype(float)

    def _expected_answers(self, habits: Habits) -> float:
        """Answers per day the starting habits would give, to start the recent-profile memory."""
        p = self.params
        seen = (
            self.crowd.n * float(np.mean(self.crowd.attention)) * float(self.visibility.mean()) if self.crowd.n else 0.0
        )
        boost = 1 + (p.question_reply_boost - 1) * habits.question_share
        replies = (
            habits.posts_per_day
            * seen
            * p.reply_probability
            * float(np.mean(self.chat_app))
            * boost
            * TYPICAL_ENGAGEMENT
        )
        return replies * habits.reply_rate if self.mechanisms.conversation else 0.0

    # -- the day ---------------------------------------------------------------------------

    def begin_day(self, day: int) -> Habits:
        """Set the habits in force on ``day`` (0-based) and return them."""
        self.day = day
        if self.should_stop is not None and self.should_stop():
            raise RunCancelled(f"stopped on day {day + 1} of {self.days}")
        if day:  # day 0 starts where the streams start; the set-up drew from "crowd" only
            self.rng.start_day(day)
        for first_day, habits in self.schedule:
            if first_day - 1 <= day:
                self.habits = habits
        self.active_hours = frozenset(self.habits.active_hour_list)
        self.kind_cdf = np.cumsum(self._kind_shares(self.habits))
        # The market is finite (Bass, E:G1): the more of it already follows, the fewer of
        # the people the account meets are new. Poisson counts of prospects are thinned by
        # this share (a thinned Poisson count is a Poisson count with a smaller mean).
        self.room = max(0.0, 1.0 - self.crowd.followers / self.reachable)
        return self.habits

    def times_in_active_hours(self, day: int, count: int, rng: np.random.Generator, margin: float = 0.0) -> np.ndarray:
        """``count`` sorted times on ``day``, one in each equal slice of the active hours.

        ``margin`` hours are kept free before midnight so a burst ends within the day.
        """
        if count == 0:
            return np.empty(0)
        start, _ = self.habits.active_hours
        length = float(len(self.active_hours))
        offsets = (np.arange(count) + rng.random(count)) * (length / count)
        hours = (start + offsets) % HOURS
        hours = np.minimum(hours, HOURS - margin - 1 / 60)
        return np.sort(HOURS * day + hours)

    def draw_kinds(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """Post kinds (indices into POST_KINDS) for ``count`` posts, by the habits' shares."""
        return np.searchsorted(self.kind_cdf, rng.random(count) * self.kind_cdf[-1] * (1 - 1e-12))

    def answer_delay(self, now: float, rng: np.random.Generator) -> float:
        """Hours until the account answers: exponential around the habit, then into active hours."""
        t = now + rng.exponential(self.habits.reply_delay_hours) if self.habits.reply_delay_hours > 0 else now
        active = self.active_hours
        hour = int(t % HOURS)
        if hour not in active:
            wait = next(k for k in range(1, 25) if (hour + k) % 24 in active)
            t = math.floor(t) + wait + rng.random()  # some minute of the first active hour
        return t - now

    # -- events ----------------------------------------------------------------------------

    def _exposed(self, rng: np.random.Generator, p_see: np.float32) -> np.ndarray:
        """Rows of the followers who see a post offered with probability ``attention x p_see``.

        The hottest loop of the model: one uniform per follower per post, drawn into buffers
        reused from post to post rather than allocated each time.
        """
        n = self.crowd.n
        if len(self._draw) < n:
            size = self.crowd.capacity
            self._draw, self._threshold, self._hit = np.empty(size, F32), np.empty(size, F32), np.empty(size, bool)
        draw, threshold, hit = self._draw[:n], self._threshold[:n], self._hit[:n]
        rng.random(out=draw, dtype=F32)
        np.multiply(self.crowd.arrays["attention"][:n], p_see, out=threshold)
        np.less(draw, threshold, out=hit)
        return np.flatnonzero(hit)

    def begin_sitting(self, posts: int, t: float) -> None:
        """A sitting starts: its posts enter followers' feeds together.

        Followers meet a burst as a wall of posts (they open the app minutes to hours later,
        E:E1), so the whole sitting counts toward the felt rate of each of its posts. A ranked
        feed ranks a burst's later posts lower (fewer see them) but does not hide them.
        """
        self.load = self.load * math.exp(-(t - self.load_t) / self.tau_load) + posts
        self.load_t = t

    def publish(self, kind: int, t: float) -> np.ndarray:
        """One post at hour ``t``: expose the crowd; return the uids of followers who reply."""
        p, mech, crowd, day = self.params, self.mechanisms, self.crowd, self.day
        d = self.daily
        d["posts"][day] += 1
        feed = 1.0
        if self.platform.ranked_feed and mech.feed_discount:
            self.feed_count *= math.exp(-(t - self.feed_t) / (p.feed_window_minutes / 60.0))
            self.feed_t = t
            feed = p.feed_floor + (1 - p.feed_floor) * p.feed_decay**self.feed_count
            self.feed_count += 1.0
        felt = self.load * math.exp(-(t - self.load_t) / self.tau_load) * HOURS / self.tau_load
        self.profile = 0.95 * self.profile + 0.05 * self.value[kind]  # ~ the last 20 posts
        self.last_post = t
        reach = self.platform.link_reach if kind == LINK else 1.0
        p_see = self.visibility[int(t % HOURS)] * reach * feed
        if crowd.n == 0 or p_see <= 0:
            return np.empty(0, dtype=np.int64)

        rng = self.rng["exposure"]
        seen = self._exposed(rng, F32(p_see))
        d["impressions"][day] += len(seen)
        if len(seen) == 0:
            return np.empty(0, dtype=np.int64)
        a = crowd.arrays
        ratio = F32(felt) / a["tolerance"][seen]
        if mech.fatigue:
            over = np.flatnonzero(ratio > 1)  # usually few: the power is costly, skip the rest
            if len(over):
                excess = np.minimum(ratio[over], F32(p.fatigue_cap)) - F32(1)
                # The ranking (link reach, a burst's later posts) decides who engages with a
                # post, not whose feed it fills: followers scroll past the posts ranked low
                # too. Each follower who sees this post stands for 1 / (reach x feed) who
                # meet it, so in expectation the crowd tires as if nothing were ranked down.
                strength = p.fatigue_strength / (reach * feed)
                a["fatigue"][seen[over]] += F32(strength) * excess ** F32(p.fatigue_gamma)
        k = p.engagement_fatigue_power
        engage = F32(1) / (F32(1) + (ratio * ratio if k == 2 else ratio ** F32(k)))
        segs = a["segment"][seen]
        if mech.content:
            a["sat"][seen] += self.value[kind][segs] * F32(self._sat_scale(t))

        u = rng.random((2, len(seen)), dtype=F32)
        reshare_p = self.reshare_p[kind][segs] * engage
        reshares = int(np.count_nonzero(u[1] < reshare_p))
        d["reshares"][day] += reshares
        self.expected_likes += p.like_probability * float(engage.sum())
        if mech.reshare and reshares:
            mean = p.prospects_per_reshare * self.platform.out_of_network * reach * self.room
            shape = p.reshare_dispersion * reshares
            cascade = self.rng["reshare"]
            self.pending[RESHARE] += cascade.poisson(cascade.gamma(shape, mean / p.reshare_dispersion))
        if not mech.conversation:
            return np.empty(0, dtype=np.int64)
        boost = p.question_reply_boost if kind == QUESTION else 1.0
        reply_p = F32(p.reply_probability * boost) * a["chat"][seen] * a["reply_will"][seen] * engage
        repliers = seen[u[0] < reply_p]
        d["replies_received"][day] += len(repliers)
        return a["uid"][repliers]

    def respond(self, uids: np.ndarray, answered: np.ndarray, t: float) -> None:
        """The account goes through the replies to one post: answers some, skips the rest.

        Answered followers gain satisfaction and are bonded for weeks (E:A5), up to the
        account's conversational capacity (E:C5); their answers are public, so onlookers
        see the account. Skipped ones lose satisfaction, remember it, and reply less.
        """
        p, crowd, d = self.params, self.crowd, self.daily
        n_answered = int(answered.sum())
        d["replies_answered"][self.day] += n_answered
        d["replies_ignored"][self.day] += len(uids) - n_answered
        rows, found = crowd.locate(uids)
        if len(rows):
            a, scale = crowd.arrays, self._sat_scale(t)
            yes, no = rows[answered[found]], rows[~answered[found]]
            if len(yes):
                a["sat"][yes] += F32(p.answer_boost * scale)
                a["reply_will"][yes] = 1.0
                free = self._bond_room(t, len(yes))
                if free:
                    a["bonded_until"][yes[:free]] = t + p.bond_days * HOURS
                    self.bonded_until_max = t + p.bond_days * HOURS
            if len(no):
                a["sat"][no] -= F32(p.ignore_penalty * scale)
                a["ignored"][no] += F32(math.exp((t - self.t_ref) / (p.ignored_memory_days * HOURS)))
                a["reply_will"][no] *= F32(0.6)
        if n_answered:
            self.pending[CONVERSATION] += self.rng["conversation"].poisson(
                p.onlookers_per_answer * n_answered * self.room
            )

    def _bond_room(self, t: float, wanted: int) -> int:
        """How many more followers can be bonded now, within the conversational capacity."""
        capacity = self.params.conversation_capacity
        # Expiries of the bonds made and still running bound the bonded count from above
        # (re-bonded followers appear twice). They are appended in time order, so the expired
        # ones sit at the left. Count exactly, a pass over the crowd, only near the capacity.
        made = self.bonds_made
        while made and made[0] <= t:
            made.popleft()
        if len(made) + wanted <= capacity:
            granted = wanted
        else:
            bonded = int(np.count_nonzero(self.crowd.bonded_until > t))
            granted = max(0, min(wanted, capacity - bonded))
        made.extend([t + self.params.bond_days * HOURS] * granted)
        return granted

    def outreach(self, t: float) -> None:
        """One reply on someone else's post: that person and some onlookers see the account."""
        p, rng = self.params, self.rng["outreach"]
        self.daily["outreach"][self.day] += 1
        self.pending_targets.append(bool(rng.random() < p.outreach_to_followed_share))
        self.pending[OUTREACH] += rng.poisson(p.onlookers_per_outreach * self.room)

    def discover(self, t: float) -> None:
        """The day's search and recommendation prospects; more while the account is active."""
        p, h = self.params, self.scenario.audience.prospects_per_day
        x, ref, w = self.recent_posts, p.discovery_reference_posts, p.discovery_activity_weight
        rate = h * ((1 - w) + w * 2 * x / (x + ref)) * self.room
        rng = self.rng["discovery"]
        # Recommendation systems favour an account on some days more than others (E:B6).
        self.pending[DISCOVERY] += rng.poisson(rng.gamma(p.discovery_dispersion, rate / p.discovery_dispersion))

    def decide_prospects(self, t: float) -> None:
        """Everyone who came across the account today looks at its profile; some follow.

        Follow odds (E:B4 and assumed weights): content fit of the recent posts for the
        prospect's segment, how conversational the account looks, x2 per extra post seen,
        x0.989 per post/day, x27 if the account already follows them, and a penalty for
        a profile that looks abandoned.
        """
        targets = np.array(self.pending_targets, dtype=bool)
        counts = self.pending
        count = int(counts.sum()) + len(targets)
        self.pending = np.zeros(len(CHANNELS), dtype=np.int64)
        self.pending_targets = []
        if count == 0:
            return
        p, rng = self.params, self.rng["prospects"]
        # Rows: outreach targets first, then each channel's other prospects in CHANNELS order.
        n_targets = len(targets)
        ends = n_targets + np.cumsum(counts)
        followed = np.zeros(count, dtype=bool)
        followed[:n_targets] = targets
        segs = np.searchsorted(self.market_cdf, rng.random(count) * (1 - 1e-12)).astype(np.int8)
        answers, posts = self.recent_answers, self.recent_posts
        conv_share = answers / (answers + posts) if answers + posts > 0 else 0.0
        extra = np.minimum(rng.poisson(p.extra_exposures_per_post * posts, count), p.max_extra_exposures)
        silent_days = (t - self.last_post) / HOURS
        dead = min(1.0, max(0.0, silent_days - QUIET_GRACE_DAYS) / max(p.silent_days_dead - QUIET_GRACE_DAYS, 1e-9))
        logit = (
            math.log(p.follow_base_probability / (1 - p.follow_base_probability))
            + p.fit_weight * self.profile[segs]
            + p.chat_weight * self.chat_app[segs] * conv_share
            + math.log(p.exposure_odds) * extra
            + math.log(p.volume_odds) * posts
            + math.log(p.followed_odds) * followed
            - DEAD_PENALTY * dead
        )
        logit[:n_targets] += math.log(p.outreach_odds)
        follows = rng.random(count) < 1 / (1 + np.exp(-logit))
        k = int(follows.sum())
        if k == 0:
            return
        followed_back = rng.random(k) < self.habits.follow_back_rate
        self.daily["follow_backs"][self.day] += int(np.count_nonzero(followed_back & ~followed[follows]))
        reciprocal = followed[follows] | followed_back
        self.crowd.add(segs[follows], t, reciprocal, self.rng["crowd"], p.tolerance_spread, p.reciprocal_ratio)
        idx = np.flatnonzero(follows)
        by_channel = np.bincount(np.searchsorted(ends, idx, side="right"), minlength=len(CHANNELS))
        by_channel[OUTREACH] += np.count_nonzero(idx < n_targets)
        by_channel[0] -= np.count_nonzero(idx < n_targets)  # targets fell in the first bin above
        self.daily["follows"][self.day] += k
        for key, c in zip(self.channel_keys, by_channel.tolist(), strict=True):
            self.daily[key][self.day] += c

    # -- the close -------------------------------------------------------------------------

    def close_day(self, day: int) -> None:
        """Turn the day's hazards into unfollows, record the day, fold in decay.

        Hazards are per day and compete: a follower leaves when the running sum of all
        of them reaches their Exp(1) budget (so the same follower in a paired scenario
        leaves later when hazards are lower), and the reason is drawn in proportion to
        that day's hazards.
        """
        p, mech, crowd, d = self.params, self.mechanisms, self.crowd, self.daily
        t = HOURS * (day + 1)
        n = crowd.n
        if n:
            a = {name: arr[:n] for name, arr in crowd.arrays.items()}
            total = a["fatigue"].copy() if mech.fatigue else np.zeros(n, F32)
            # Content and ignored hazards touch few followers: compute them only there.
            if mech.content:
                rows = np.flatnonzero(a["sat"] < F32(-p.content_threshold / self._sat_scale(t)))
                total[rows] += self._content_of(a["sat"][rows], t)
            if mech.conversation:
                rows = np.flatnonzero(a["ignored"] > 0)
                total[rows] += self._ignored_of(a["ignored"][rows], a["chat"][rows], t)
            total += F32(self._neglect_hazard(t))
            if mech.churn:
                young = self._young_ties(a, t)  # rows from here on hold new ties
                total[:young] += self._churn_of(a["churn"][:young], young=False)
                total[young:] += self._churn_of(a["churn"][young:], young=True)
            if self.bonded_until_max > t:
                total[a["bonded_until"] > t] *= F32(p.bond_hazard_ratio)
            a["spent"] += total
            leaving = a["spent"] >= a["budget"]
            if leaving.any():
                rows = np.flatnonzero(leaving)
                self._count_reasons(self._hazards_of(a, rows, t), day)
                crowd.retire(rows)
            crowd.arrays["fatigue"][: crowd.n] = 0.0
        self._rebase(t)
        self.decide_prospects(t)

        habits = self.habits
        d["followers"][day] = crowd.followers
        d["minutes"][day] = (
            d["posts"][day] * habits.minutes_per_post
            + (d["replies_answered"][day] + d["outreach"][day]) * habits.minutes_per_reply
            + d["follow_backs"][day] * p.minutes_per_follow_back
        )
        d["likes"][day] = self.rng["exposure"].poisson(self.expected_likes)
        self.expected_likes = 0.0
        d["engagements"][day] = d["likes"][day] + d["replies_received"][day] + d["reshares"][day]
        keep = math.exp(-1 / 7)  # one-week memory of the profile's activity
        self.recent_posts = keep * self.recent_posts + (1 - keep) * d["posts"][day]
        self.recent_answers = keep * self.recent_answers + (1 - keep) * d["replies_answered"][day]

    def _content_of(self, sat: np.ndarray, t: float) -> np.ndarray:
        """The "not for me" hazard per day of followers with these (scaled) satisfactions."""
        p = self.params
        dissatisfaction = -sat * F32(self._sat_scale(t)) - F32(p.content_threshold)
        return F32(p.content_strength) * np.maximum(dissatisfaction, F32(0))

    def _ignored_of(self, ignored: np.ndarray, chat: np.ndarray, t: float) -> np.ndarray:
        """The hazard per day of followers remembering these (scaled) ignored replies."""
        p = self.params
        decay = math.exp(-(t - self.t_ref) / (p.ignored_memory_days * HOURS))
        return ignored * chat * F32(p.ignored_strength * decay)

    def _churn_of(self, churn: np.ndarray, young: bool | np.ndarray) -> np.ndarray:
        """Background churn per day, higher for new ties (E:A3)."""
        return churn * np.where(young, F32(self.params.new_tie_ratio), F32(1))

    def _neglect_hazard(self, t: float) -> float:
        """The same small hazard for everyone while the account is silent (E:A14)."""
        silent_days = (t - self.last_post) / HOURS
        if not self.mechanisms.neglect or silent_days <= 1:
            return 0.0
        return self.params.neglect_strength * min(1.0, silent_days / self.params.neglect_full_days)

    def _young_ties(self, a: dict[str, np.ndarray], t: float) -> int:
        """First row whose tie is still new (tie starts never decrease along the rows)."""
        return int(np.searchsorted(a["tie_start"], F32(t - self.params.new_tie_days * HOURS), side="right"))

    def _hazards_of(self, a: dict[str, np.ndarray], rows: np.ndarray, t: float) -> np.ndarray:
        """Each reason's hazard today for the given rows (reasons x rows), for attribution."""
        mech = self.mechanisms
        out = np.zeros((len(REASONS), len(rows)), dtype=F32)
        if mech.fatigue:
            out[0] = a["fatigue"][rows]
        if mech.content:
            out[1] = self._content_of(a["sat"][rows], t)
        if mech.conversation:
            out[2] = self._ignored_of(a["ignored"][rows], a["chat"][rows], t)
        out[3] = self._neglect_hazard(t)
        if mech.churn:
            out[4] = self._churn_of(a["churn"][rows], rows >= self._young_ties(a, t))
        return out

    def _count_reasons(self, hazards: np.ndarray, day: int) -> None:
        """One reason per leaver, drawn in proportion to that day's competing hazards."""
        k = hazards.shape[1]
        cum = np.cumsum(hazards, axis=0)
        draw = self.rng["unfollow"].random(k, dtype=F32) * cum[-1]
        reason = np.minimum((cum < draw).sum(axis=0), len(REASONS) - 1)
        reason[cum[-1] <= 0] = REASON_CHURN
        counts = np.bincount(reason, minlength=len(REASONS))
        self.daily["unfollows"][day] += k
        for key, c in zip(self.reason_keys, counts.tolist(), strict=True):
            self.daily[key][day] += c

    def _sat_scale(self, t: float) -> float:
        return math.exp((t - self.t_ref) / (self.params.satisfaction_memory_days * HOURS))

    def _rebase(self, t: float) -> None:
        p = self.params
        self.crowd.rebase({
            "sat": math.exp(-(t - self.t_ref) / (p.satisfaction_memory_days * HOURS)),
            "ignored": math.exp(-(t - self.t_ref) / (p.ignored_memory_days * HOURS)),
        })  # fmt: skip
        self.t_ref = t


class RunCancelled(RuntimeError):
    """A run stopped before its end because its caller asked (``should_stop`` returned True)."""


def simulate(
    scenario: Scenario,
    seed: int | None = None,
    replicate: int = 0,
    *,
    should_stop: Callable[[], bool] | None = None,
) -> Results:
    """Run one replicate of ``scenario``; the seed defaults to the scenario's.

    ``should_stop`` is asked once per simulated day; when it returns True the run raises
    :class:`RunCancelled` (a time or memory budget ran out, or nobody waits any more).
    """
    seed = scenario.seed if seed is None else seed
    world = World(scenario, make_streams(seed, replicate))
    world.should_stop = should_stop
    env = simpy.Environment()
    env.process(day_cycle(env, world))
    env.run()
    return Results(
        scenario_name=scenario.name,
        seed=seed,
        replicate=replicate,
        followers_start=scenario.audience.followers,
        daily=world.daily,
    )


__all__ = ["CHANNELS", "POST_KINDS", "REASONS", "RunCancelled", "World", "simulate", "visibility_by_hour"]
