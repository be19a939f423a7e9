"""A batch of replicates advancing together: the state of every mechanism, event by event.

:class:`ReplicateBatch` holds the account's shared timeline state (the feed load, the
ranked-feed refresh, the recent profile, the last post) and the crowds of ``R`` replicates
(:class:`~coach.model.crowd.Crowd`), and enacts each event of :mod:`coach.model.timeline` on
all replicates at once, calling the mechanism modules in the order stated in
:mod:`coach.model`. Per-replicate Python work is limited to drawing from each replicate's
own streams (one call per stream and day where it can), so a batch costs little more than
one replicate while replicate ``r`` stays the same in a batch of any size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from coach.model import churn, content, conversation, discovery, exposure, fatigue, kernels, neglect, reshare
from coach.model.content import LINK, QUESTION
from coach.model.crowd import F32, Crowd, Marked
from coach.results import CHANNELS, REASONS, Results
from coach.rng import Timeline, counter_keys, whole_count
from coach.scenario import Habits, Scenario

HOURS = 24.0  # the SimPy clock unit is the hour
RESHARE, CONVERSATION, OUTREACH, DISCOVERY = (CHANNELS.index(c) for c in CHANNELS)
REBASE_EXPONENT = 6.0  # scaled accumulators are rebased before their scale passes e^6 (about 400)
PROSPECT_CHUNK = 1 << 18  # prospects drawn and decided at once (about 24 MB of working arrays)
PROSPECT_UNIFORMS = 10  # per prospect: segment, extra exposures, target followed, follow, follow-back,
# 3 for traits, the channel it came by, the reason it would give for leaving


NOBODY = np.empty(0, dtype=np.int64)  # a post nobody replied to: no repliers, no replicates
NO_ANSWERS = np.empty(0, dtype=np.bool_)
NOBODY.flags.writeable = NO_ANSWERS.flags.writeable = False


class RunCancelled(RuntimeError):
    """A run stopped before its end because its caller asked (``should_stop`` returned True)."""


class ReplicateBatch:
    """``R`` replicates of one scenario on one seed, advanced by one SimPy timeline."""

    def __init__(self, scenario: Scenario, seed: int, replicates: Sequence[int]):
        self.scenario = scenario
        self.seed = seed
        self.replicates = list(replicates)
        self.R = R = len(self.replicates)
        self.params = p = scenario.model
        self.mechanisms = p.mechanisms
        self.platform = scenario.platform
        self.days = scenario.days
        self.timeline = Timeline(seed)
        self.crowd_keys = counter_keys(seed, self.replicates, "crowd")
        self.exposure_keys = counter_keys(seed, self.replicates, "exposure")
        self.prospect_keys = counter_keys(seed, self.replicates, "prospects")
        # The habits from each of their first days, with what a day's plan needs of them
        # (active hours, cumulative kind shares), worked out once per set of habits.
        self.schedule = [
            (first_day, h, frozenset(h.active_hour_list), np.cumsum(content.kind_shares(h)))
            for first_day, h in scenario.habit_schedule()
        ]
        self.habits: Habits = self.schedule[0][1]
        self.should_stop: Callable[[], bool] | None = None  # asked once per simulated day
        self.on_day: Callable[[int, int], None] | None = None  # told (days done, days) after each close

        audience = scenario.audience
        segs = audience.segments
        self.n_seg = len(segs)
        self.reachable = audience.reachable_people()
        self.market_cdf = np.cumsum(audience.market_shares())
        self.market_cdf /= self.market_cdf[-1]
        activity = np.array(audience.activity_by_hour or exposure.DEFAULT_ACTIVITY, dtype=float)
        activity /= activity.max()
        vis = exposure.visibility_by_hour(activity, p.visibility_half_life_minutes)
        # Read per post: Python floats (a numpy scalar per post costs more than the lookup).
        self.visibility = (vis if self.mechanisms.exposure_decay else np.full(24, vis.mean())).tolist()
        link_app = np.array([s.link_appetite for s in segs])
        self.chat_app = np.array([s.chat_appetite for s in segs])
        self.value = content.value_table(p, link_app, self.chat_app)
        self.reshare_p = reshare.reshare_table(p, link_app)
        self.kind_reach = exposure.kind_reach(self.platform).tolist()  # per post kind (Python floats, as above)
        self.follow_coef = discovery.follow_coefficients(p)
        # What every post's pass needs that the run does not change, worked out once.
        self.ranked = self.platform.ranked_feed and self.mechanisms.feed_discount
        self.feed_window_hours = p.feed_window_minutes / 60.0
        self.reply_bases = [conversation.reply_base(p, kind == QUESTION) for kind in range(len(self.kind_reach))]
        self.post_laws = (
            self.mechanisms.fatigue, p.fatigue_cap, p.fatigue_gamma, p.engagement_fatigue_power,
            self.mechanisms.content, self.mechanisms.conversation, reshare.like_chance(p),
            p.reshare_dispersion if self.mechanisms.reshare else 0.0,
        )  # fmt: skip
        self.chat_seg = self.chat_app.astype(F32)  # the chat appetite is the segment's: no field per follower
        # What a new follower gets from its segment, and the laws of its own draws (kernels.admit).
        self.traits = (
            np.array([s.tolerance_posts_per_day for s in segs], dtype=F32),
            np.array([s.attention for s in segs], dtype=F32),
            np.array([churn.daily_hazard(s.churn_per_month) for s in segs], dtype=F32),
        )
        self.laws = (float(p.tolerance_spread), float(p.reciprocal_ratio), float(p.new_tie_ratio))

        self.crowd = Crowd(R, int(audience.followers * 1.3) + 64)
        self.replies = np.empty((3, 0), dtype=np.int64)  # output buffers of the compiled passes
        self.post_crowd: tuple = ()  # what the post pass takes from the crowd (_post_buffers)
        self.post_moves, self.post_day = -1, -1  # the crowd's moves and the day when it was gathered
        self.reply_answered = np.empty(0, dtype=np.bool_)
        self.leavers = np.empty(0, dtype=np.int64)
        self.yes = np.empty(0, dtype=np.int64)
        self._seed_followers(audience.followers)

        # The account (shared by every replicate): feed load, ranked-feed refresh, profile.
        self.load = fatigue.FeedLoad(p.fatigue_memory_hours)
        self.feed_count = 0.0
        self.feed_t = 0.0
        self.t_ref = 0.0  # time the scaled crowd accumulators were last rebased
        self.tie_cutoff = -math.inf  # new-tie cutoff hour at the last close
        self.profile_keep = content.profile_keep(p)
        # The recent profile per segment, a running mean over the posts: the day's post kinds
        # are kept and added in order when prospects look at it (:meth:`_profile`).
        self.profile = content.kind_shares(self.habits) @ self.value.astype(float)
        self.profile_step = ((1 - self.profile_keep) * self.value).astype(float)  # a post's share, per kind and segment
        self.unprofiled: list[int] = []  # kinds of the posts not yet in the profile, in order
        self.recent_posts = self.habits.posts_per_day
        self.last_post = -HOURS / self.habits.posts_per_day if self.habits.posts_per_day > 0 else 0.0
        self.recent_answers = self._expected_answers()
        self.bonds = conversation.Bonds(R, p)
        self.bond_wanted = np.zeros(R, dtype=np.int64)  # per replicate: answered repliers who may bond (a post's)

        # Every daily series, day-major: a day's record is one contiguous (series, R) block the
        # compiled passes count into; ``daily[name]`` is the (R, days) view of one series.
        names = Results.series_names()
        self.record = np.zeros((self.days, len(names), R))
        self.daily = {key: self.record[:, i, :].T for i, key in enumerate(names)}
        self.rows = {key: i for i, key in enumerate(names)}
        self.unfollow_rows = np.array([self.rows["unfollows"]] + [self.rows[f"unfollows_{r}"] for r in REASONS])
        self.post_rows = np.array([self.rows[key] for key in ("impressions", "reshares", "replies_received")])
        self.answer_rows = np.array([self.rows[key] for key in ("replies_answered", "replies_ignored")])
        self.follow_rows = np.array(
            [self.rows["follows"], self.rows["follow_backs"]] + [self.rows[f"follows_{c}"] for c in CHANNELS]
        )
        self.day = 0
        self.room = np.ones(R)
        self._reset_pending()

    # -- set-up ----------------------------------------------------------------------------

    def _seed_followers(self, count: int) -> None:
        if not count:
            return
        shares = np.array([s.share for s in self.scenario.audience.segments])
        self.crowd.seed(
            self.crowd_keys, count, np.cumsum(shares / shares.sum()), self.habits.follow_back_rate,
            self.params.initial_tie_age_days * HOURS, self.traits, self.laws,
        )  # fmt: skip

    def _expected_answers(self) -> np.ndarray:
        if not self.mechanisms.conversation:
            return np.zeros(self.R)
        crowd = self.crowd
        att = crowd.grid("attention").sum(axis=1, dtype=np.float64) / np.maximum(crowd.n, 1)
        seen = crowd.followers * att * float(np.mean(self.visibility))
        return np.array([
            conversation.expected_answers(self.params, self.habits, 1.0, float(s), 1.0, float(np.mean(self.chat_app)))
            for s in seen
        ])  # fmt: skip

    def _reset_pending(self) -> None:
        # Per reach class (other posts, link posts) and replicate: rows, so each class is contiguous
        # (the compiled passes take one layout, whatever the batch size).
        self.reshare_shape = np.zeros((2, self.R))
        self.posts_today = 0  # counts shared by every replicate, written into the record at the close
        self.outreach_count = 0
        self.discovery_mean = np.zeros(self.R)
        self.expected_likes = np.zeros(self.R)

    # -- the day ---------------------------------------------------------------------------

    def begin_day(self, day: int) -> Habits:
        """Set the habits in force on ``day`` (0-based), plan the account's day, return the habits."""
        self.day = day
        if self.should_stop is not None and self.should_stop():
            raise RunCancelled(f"stopped on day {day + 1} of {self.days}")
        self.timeline.start_day(day)
        for first_day, habits, active_hours, kind_cdf in self.schedule:
            if first_day - 1 <= day:
                self.habits, self.active_hours, self.kind_cdf = habits, active_hours, kind_cdf
        h = self.habits
        # The market is finite (Bass, E:G1): the more of it already follows, the fewer of
        # the people the account meets are new. Poisson counts of prospects are thinned by
        # this share (a thinned Poisson count is a Poisson count with a smaller mean).
        self.room = np.maximum(0.0, 1.0 - self.crowd.followers / self.reachable)
        self._plan_posts(day)
        return h

    def _plan_posts(self, day: int) -> None:
        """The day's sittings (start hours, sizes), post kinds and reply hours: shared by all replicates."""
        h, rng = self.habits, self.timeline["posting"]
        size = h.posts_per_session
        sittings = whole_count(h.posts_per_day / size, rng)
        whole, frac = int(size), size - int(size)
        sizes = [whole] * sittings
        if frac > 0 and sittings:
            sizes = (whole + (rng.random(sittings) < frac)).tolist()  # sittings vary around the mean size
        gap = self.params.sitting_gap_minutes / 60.0
        burst_hours = (max(sizes) if sittings else whole) * gap
        starts = self.times_in_active_hours(day, sittings, rng, margin=burst_hours)
        # Sittings squeezed in before midnight queue behind each other; move them earlier
        # where needed so the last one still ends within the day.
        limit = HOURS * (day + 1) - 1 / 60
        for i in range(sittings - 1, -1, -1):
            starts[i] = min(starts[i], limit - (sizes[i] - 1) * gap)
            limit = starts[i]
        self.sitting_starts = [max(start, HOURS * day) for start in starts]
        self.sitting_sizes = sizes
        total = sum(sizes)
        self.kinds = np.searchsorted(self.kind_cdf, rng.random(total) * self.kind_cdf[-1] * (1 - 1e-12)).tolist()
        # When the account goes through each post's replies: after an exponential delay,
        # moved into its active hours; never if it answers nobody (then a day later the
        # replies count as ignored). Drawn for every post, so the timeline does not depend
        # on which replicates happen to get replies.
        answers = self.timeline["answers"]
        self.reply_delay = (
            answers.exponential(h.reply_delay_hours, total).tolist() if h.reply_delay_hours > 0 else [0.0] * total
        )
        self.reply_minute = answers.random(total).tolist()

    def times_in_active_hours(self, day: int, count: int, rng: np.random.Generator, margin: float = 0.0) -> list[float]:
        """``count`` sorted times on ``day``, one in each equal slice of the active hours.

        ``margin`` hours are kept free before midnight so a burst ends within the day. (At most a
        few hundred numbers: Python floats, cheaper here than numpy's per-call cost.)
        """
        if count == 0:
            return []
        start, _ = self.habits.active_hours
        width, latest = len(self.active_hours) / count, HOURS - margin - 1 / 60
        hours = [min((start + (i + u) * width) % HOURS, latest) for i, u in enumerate(rng.random(count).tolist())]
        return sorted(HOURS * day + hour for hour in hours)

    def reply_hours_after(self, j: int, now: float) -> float:
        """Hours from the ``j``-th post of the day until the account goes through its replies."""
        if self.habits.reply_rate <= 0 or not self.mechanisms.conversation:
            return HOURS
        t = now + self.reply_delay[j]
        hour = int(t % HOURS)
        if hour not in self.active_hours:
            wait = next(k for k in range(1, 25) if (hour + k) % 24 in self.active_hours)
            t = math.floor(t) + wait + self.reply_minute[j]  # some minute of the first active hour
        return t - now

    # -- events ----------------------------------------------------------------------------

    def begin_sitting(self, posts: int, t: float) -> None:
        """A sitting starts: its posts enter followers' feeds together (fatigue's felt rate)."""
        self.load.add_sitting(posts, t)
        self.sitting_strength = fatigue.sitting_strength(self.params, posts)

    def post(self, j: int, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The day's ``j``-th post at hour ``t``, offered to every replicate's crowd.

        Returns the repliers (:class:`~coach.model.crowd.Marked`), their replicates and whether
        the account will answer them.
        """
        kind = self.kinds[j]
        self.posts_today += 1
        feed = 1.0
        if self.ranked:
            p = self.params
            self.feed_count *= math.exp(-(t - self.feed_t) / self.feed_window_hours)
            self.feed_t = t
            feed = exposure.feed_multiplier(self.feed_count, p.feed_decay, p.feed_floor)
            self.feed_count += 1.0
        felt = self.load.felt_posts_per_day(t)
        self.unprofiled.append(kind)
        self.last_post = t
        reach = self.kind_reach[kind]
        p_see = self.visibility[int(t % HOURS)] * reach * feed
        if p_see <= 0:  # (an empty crowd needs no test: the pass over it does nothing)
            return NOBODY, NOBODY, NO_ANSWERS

        crowd = self.crowd
        if self.post_moves != crowd.moves or self.post_day != self.day:  # the crowd grows only at the close
            self._post_buffers()
        replied = kernels.post_pass(
            crowd.n, crowd.C, self.exposure_keys, self.day, j, kind, *self.post_crowd,
            p_see, felt, content.sat_scale(t, self.t_ref, self.params) / feed, self.sitting_strength / (reach * feed),
            self.reply_bases[kind], self.habits.reply_rate, *self.post_laws,
            self.expected_likes, self.reshare_shape, int(reach != 1.0), self.record, self.post_rows,
            self.replies, self.reply_answered,
        )  # fmt: skip
        if not replied:
            return NOBODY, NOBODY, NO_ANSWERS
        cells, rep_cells, uids = self.replies[:, :replied].copy()
        return crowd.mark(cells, rep_cells, uids), rep_cells, self.reply_answered[:replied].copy()

    def _post_buffers(self) -> None:
        """What every post's pass takes from the crowd, gathered again after its cells moved or it grew."""
        crowd, a = self.crowd, self.crowd.arrays
        if self.replies.shape[1] < crowd.span:
            self.replies = np.empty((3, crowd.span + crowd.span // 4), dtype=np.int64)  # room to grow
            self.reply_answered = np.empty(self.replies.shape[1], dtype=np.bool_)
        self.post_crowd = (
            a["attention"], a["tolerance"], a["fatigue"], a["sat"], a["segment"], a["reply_will"], a["uid"], self.chat_seg,
            self.value, self.reshare_p, np.empty(crowd.C, dtype=np.uint32), np.empty(crowd.C, dtype=F32),
        )  # fmt: skip
        self.post_moves, self.post_day = crowd.moves, self.day

    def go_through_replies(self, repliers: Marked, rep: np.ndarray, answered: np.ndarray, t: float) -> None:
        """The account goes through the replies to one post: answers some, skips the rest.

        Answered followers gain satisfaction and are bonded for weeks (E:A5), up to the
        account's conversational capacity (E:C5); their answers are public, so onlookers
        see the account. Skipped ones lose satisfaction, remember it, and reply less.
        """
        p, crowd = self.params, self.crowd
        if repliers.moves == crowd.moves:  # cells still theirs: leavers since are retired in place
            cells, rep_found, answered_found, check = repliers.cells, rep, answered, True
        else:
            cells, found = crowd.locate(repliers.keys)
            rep_found, answered_found, check = rep[found], answered[found], False
        a, scale = crowd.arrays, content.sat_scale(t, self.t_ref, p)
        if len(self.yes) < len(cells):
            self.yes = np.empty(2 * len(cells), dtype=np.int64)
        k = kernels.answer_replies(
            cells, rep_found, answered_found, rep, answered, check, a["budget"], a["sat"], a["reply_will"],
            a["ignored_chat"], a["segment"], self.chat_seg, p.answer_boost * scale, p.ignore_penalty * scale,
            conversation.ignored_scale(t, self.t_ref, p), p.ignored_reply_will_factor, self.record, self.day,
            self.answer_rows, self.bond_wanted, self.yes,
        )  # fmt: skip
        if k:
            granted = self.bonds.grant(t, self.bond_wanted, a["bonded_until"], crowd.n, crowd.C)
            kernels.bond_first(self.yes[:k], crowd.C, granted, a["bonded_until"], t + p.bond_days * HOURS)

    def reach_out(self, t: float) -> None:
        """One reply on someone else's post: that person and some onlookers see the account."""
        self.outreach_count += 1  # its onlookers come as prospects at the close (:meth:`_decide_prospects`)

    def discover(self, t: float) -> None:
        """The day's search and recommendation prospects (their number is drawn at the close)."""
        self.discovery_mean = discovery.discovery_mean(
            self.scenario.audience.prospects_per_day, self.recent_posts, self.room, self.params
        )

    # -- the close -------------------------------------------------------------------------

    def close_day(self, day: int) -> None:
        """Turn the day's hazards into unfollows, let the day's prospects decide, record the day.

        Hazards are per day and compete: each day's sum of all of them is taken from the
        follower's Exp(1) budget, and they leave once it is spent (so the same follower in a
        paired scenario leaves later when hazards are lower); the reason is drawn in
        proportion to that day's hazards, computed once for both.
        """
        p, mech, crowd, d = self.params, self.mechanisms, self.crowd, self.daily
        t = HOURS * (day + 1)
        # The post pass's references go: a crowd that grows at the close frees each old field
        # as it copies it (gathered again at the next post).
        self.post_crowd, self.post_moves = (), -1
        d["posts"][:, day] = self.posts_today
        d["outreach"][:, day] = self.outreach_count
        if crowd.n.any():
            a = crowd.arrays
            if len(self.leavers) < crowd.span:
                self.leavers = np.empty(crowd.span + crowd.span // 4, dtype=np.int64)  # room to grow
            cutoff = t - p.new_tie_days * HOURS  # ties started after it are still new
            left = kernels.close_pass(
                crowd.n, crowd.C, a["budget"], a["fatigue"], a["churn"], a["churn_now"], a["tie_start"], a["sat"],
                a["ignored_chat"], a["bonded_until"], a["reason_u"],
                mech.churn, mech.fatigue, mech.content, mech.conversation, F32(self.tie_cutoff), F32(cutoff),
                content.hazard_scale(t, self.t_ref, p), p.content_threshold, p.content_strength,
                conversation.ignored_factor(t, self.t_ref, p), neglect.neglect_hazard(t, self.last_post, p),
                p.bond_hazard_ratio, self.bonds.until_max > t, t, self.leavers, self.record[day], self.unfollow_rows,
            )  # fmt: skip
            self.tie_cutoff = cutoff
            if left:
                crowd.retire(self.leavers[:left].copy())
        self._rebase_if_due(t)
        self._decide_prospects(t)

        h = self.habits
        d["followers"][:, day] = crowd.followers
        d["minutes"][:, day] = (
            d["posts"][:, day] * h.minutes_per_post
            + (d["replies_answered"][:, day] + d["outreach"][:, day]) * h.minutes_per_reply
            + d["follow_backs"][:, day] * p.minutes_per_follow_back
        )
        d["engagements"][:, day] = d["likes"][:, day] + d["replies_received"][:, day] + d["reshares"][:, day]
        keep = discovery.activity_keep(p)
        self.recent_posts = keep * self.recent_posts + (1 - keep) * self.posts_today
        self.recent_answers = keep * self.recent_answers + (1 - keep) * d["replies_answered"][:, day]
        self._reset_pending()
        if self.on_day is not None:
            self.on_day(day + 1, self.days)

    def _rebase_if_due(self, t: float) -> None:
        """Fold the decay into the scaled accumulators before their scale grows large.

        Nothing reads the stored values without their scale (:func:`content.hazard_scale`,
        :func:`conversation.ignored_factor`), so when this happens does not change any
        result; waiting until the next day's scale would pass ``e^REBASE_EXPONENT`` saves a
        pass over every follower on most days.
        """
        p = self.params
        shortest = min(p.satisfaction_memory_days, p.ignored_memory_days) * HOURS
        if (t + HOURS - self.t_ref) / shortest <= REBASE_EXPONENT:
            return
        self.crowd.rebase({
            "sat": math.exp(-(t - self.t_ref) / (p.satisfaction_memory_days * HOURS)),
            "ignored_chat": math.exp(-(t - self.t_ref) / (p.ignored_memory_days * HOURS)),
        })  # fmt: skip
        self.t_ref = t

    def _decide_prospects(self, t: float) -> None:
        """Everyone who came across the account today looks at its profile; some follow.

        A replicate's ``prospects`` key gives three events a day (:mod:`coach.model.kernels`):
        the day's gammas (discovery, reshares by reach class); one Poisson draw of the
        prospects and one of the likes; and per prospect :data:`PROSPECT_UNIFORMS` uniforms
        (counter ``prospect x PROSPECT_UNIFORMS + column``) that decide everything about it: segment,
        extra exposures, whether an outreach target is followed by the account, the follow
        decision, the follow-back, the new follower's tolerance, hazard budget and reason
        draw, and the channel it came by. Pieces of at most :data:`PROSPECT_CHUNK` prospects of
        several replicates are decided together in one vectorised step; a huge count never
        allocates more.
        """
        p, R, day = self.params, self.R, self.day
        self.channel_cdf = np.empty((R, len(CHANNELS)))
        totals = np.empty(R, dtype=np.int64)
        kernels.day_prospects(
            self.prospect_keys, day, self.discovery_mean, p.discovery_dispersion, self.mechanisms.reshare,
            self.reshare_shape, p.prospects_per_reshare, p.reshare_dispersion, np.array([self.kind_reach[0], self.kind_reach[LINK]]),
            self.platform.out_of_network, self.room,
            p.onlookers_per_answer * self.daily["replies_answered"][:, day] * self.room,  # the answers' onlookers
            p.onlookers_per_outreach * self.outreach_count * self.room, self.expected_likes,
            self.outreach_count, self.record[day], self.rows["likes"], self.channel_cdf, totals,
        )  # fmt: skip
        if totals.sum() <= PROSPECT_CHUNK:  # the usual day: every replicate's prospects at once
            present = np.flatnonzero(totals)
            if len(present):
                self._decide_pieces(present, np.zeros(len(present), np.int64), totals[present], t)
            return
        pieces, rows = [], 0
        for b in np.flatnonzero(totals).tolist():
            for lo in range(0, int(totals[b]), PROSPECT_CHUNK):
                hi = min(int(totals[b]), lo + PROSPECT_CHUNK)
                pieces.append((b, lo, hi - lo))
                rows += hi - lo
                if rows >= PROSPECT_CHUNK:
                    self._decide_pieces(*np.array(pieces, dtype=np.int64).T, t)
                    pieces, rows = [], 0
        if pieces:
            self._decide_pieces(*np.array(pieces, dtype=np.int64).T, t)

    def _profile(self) -> np.ndarray:
        """The account's recent profile per segment, with every post so far (in order, as post by post)."""
        if self.unprofiled:
            kernels.add_to_profile(self.profile, self.profile_step, self.profile_keep, np.array(self.unprofiled))
            self.unprofiled.clear()
        return self.profile

    def _decide_pieces(self, replicate: np.ndarray, first: np.ndarray, sizes: np.ndarray, t: float) -> None:
        """Prospects ``first .. first + sizes`` of each of these replicates decide, in one pass."""
        p, day = self.params, self.day
        posts = self.recent_posts
        rows = int(sizes.sum())
        out = {
            "rep": np.empty(rows, np.int64), "seg": np.empty(rows, np.int8), "followed": np.empty(rows, np.bool_),
            "back": np.empty(rows, np.bool_), "channel": np.empty(rows, np.int64), "noise": np.empty(rows),
            "budget": np.empty(rows, F32), "reason": np.empty(rows, F32),
        }  # fmt: skip
        k = kernels.decide_prospects(
            self.prospect_keys, day, np.ascontiguousarray(replicate, dtype=np.int64),
            np.ascontiguousarray(first, dtype=np.int64), np.ascontiguousarray(sizes, dtype=np.int64),
            PROSPECT_UNIFORMS, self.outreach_count,
            OUTREACH, self.channel_cdf, self.market_cdf, self._profile(), self.chat_app, self.recent_answers,
            float(posts), p.extra_exposures_per_post * posts, p.max_extra_exposures, p.outreach_to_followed_share,
            self.follow_coef, neglect.abandoned(t, self.last_post, p), self.habits.follow_back_rate,
            out["rep"], out["seg"], out["followed"], out["back"], out["channel"], out["noise"], out["budget"],
            out["reason"], self.record[day], self.follow_rows,
        )  # fmt: skip
        if not k:
            return
        new = {name: arr[:k] for name, arr in out.items()}
        self.crowd.admit(
            new["rep"], new["seg"], new["followed"] | new["back"], new["noise"], new["budget"], new["reason"], t,
            self.traits, self.laws,
        )  # fmt: skip

    # -- results ---------------------------------------------------------------------------

    def results(self) -> list[Results]:
        """One :class:`Results` per replicate of the batch."""
        return [
            Results(
                scenario_name=self.scenario.name,
                seed=self.seed,
                replicate=r,
                followers_start=self.scenario.audience.followers,
                daily={key: series[b].copy() for key, series in self.daily.items()},
            )
            for b, r in enumerate(self.replicates)
        ]
