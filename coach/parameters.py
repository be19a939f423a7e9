"""The model's constants: every number the mechanisms use that is not a habit or an audience trait.

Each field carries its unit and where it comes from: a row of
``shared/research/EVIDENCE.md`` (``E:xx``) or ``assumed`` when it is our calibrated guess.
A scenario may override any of them under ``model:``; tests use ``model.mechanisms`` to
switch single mechanisms off. ``docs/model.md`` lists the same table for readers.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Mechanisms(BaseModel):
    """Switches for the eight mechanisms of the model (docs/model.md §Mechanisms)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)  # "no" is not false

    exposure_decay: bool = Field(
        True, description="Posts outside the audience's waking hours reach fewer people (visibility half-life)."
    )
    feed_discount: bool = Field(
        True, description="Ranked feeds show the 2nd, 3rd... post of a burst less (author-diversity discount)."
    )
    fatigue: bool = Field(
        True, description="Followers who see more posts than they tolerate unfollow (reason: fatigue)."
    )
    content: bool = Field(
        True, description="Posts that do not fit a follower's taste wear down satisfaction (reason: content)."
    )
    conversation: bool = Field(
        True, description="Followers reply; answered ones bond, ignored ones sour (reason: ignored)."
    )
    outreach: bool = Field(
        True, description="Replies left on other people's posts bring prospects (channel: outreach)."
    )
    discovery: bool = Field(
        True, description="Search and recommendations bring prospects every day (channel: discovery)."
    )
    reshare: bool = Field(True, description="Seen posts get reshared to non-followers (channel: reshare).")
    neglect: bool = Field(True, description="A silent account slowly loses followers (reason: neglect).")
    churn: bool = Field(True, description="Background churn, higher for new one-way ties (reason: churn).")


class ModelParams(BaseModel):
    """Calibrated constants of the follower model, with units and sources.

    Strict and finite: ``true``, ``"0.5"`` or ``.nan`` are errors, not 1.0, 0.5 or a silent NaN.
    Lower bounds are realistic, not just positive: a memory of 0.0001 days or a half-life of
    5e-324 minutes overflows the engine's exponentials.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    mechanisms: Mechanisms = Field(default_factory=Mechanisms)

    # --- exposure -------------------------------------------------------------------------
    visibility_half_life_minutes: float = Field(
        80.0, ge=5, le=1440, description="minutes; half of a post's impressions come within this time (E:E1)"
    )
    feed_window_minutes: float = Field(
        30.0, ge=1, le=1440, description="minutes; posts this close compete in one feed refresh (assumed, E:F2)"
    )
    feed_decay: float = Field(
        0.5, ge=0, le=1, description="author-diversity decay per earlier post in the refresh (E:F2)"
    )
    feed_floor: float = Field(0.25, ge=0, le=1, description="lowest author-diversity multiplier (E:F2)")
    sitting_gap_minutes: float = Field(
        2.0, ge=0, le=60, description="minutes between posts published in one sitting (assumed)"
    )

    # --- fatigue --------------------------------------------------------------------------
    fatigue_memory_hours: float = Field(
        24.0,
        ge=1,
        le=72,
        description="hours; memory of the leaky count of the account's posts in a follower's feed (assumed, E:A3)",
    )
    tolerance_spread: float = Field(
        0.7, ge=0, le=2, description="log-normal sigma of follower tolerance around the segment median (assumed, E:A9)"
    )
    fatigue_gamma: float = Field(
        1.5, ge=1, le=4, description="steepness of the fatigue hazard above tolerance (assumed, MODEL.md 1.5-2)"
    )
    fatigue_cap: float = Field(
        2.5,
        ge=1.1,
        le=100,
        description="felt rate over tolerance beyond which fatigue grows no further: the rest already skim past (assumed)",
    )
    fatigue_strength: float = Field(
        0.0025, ge=0, le=1, description="unfollow hazard per seen post at twice the tolerance (assumed)"
    )
    burst_flood_weight: float = Field(
        0.05,
        ge=0,
        le=1,
        description="extra fatigue per seen post for each other post of its sitting: a burst floods the feed (assumed, E:A3, F2)",
    )
    engagement_fatigue_power: float = Field(
        2.0, ge=0, le=6, description="engagement falls as 1/(1+(felt rate/tolerance)^k) (assumed, E:D1-D4)"
    )

    # --- content fit ----------------------------------------------------------------------
    satisfaction_memory_days: float = Field(
        10.0, ge=1, le=365, description="days; memory of the satisfaction accumulator (assumed)"
    )
    value_plain: float = Field(0.05, ge=-2, le=2, description="satisfaction per seen plain post (assumed)")
    value_link: float = Field(
        0.45, ge=0, le=2, description="satisfaction per seen link post, times link_appetite (assumed, E:B3, A10)"
    )
    value_promo: float = Field(
        -0.35, ge=-2, le=0, description="satisfaction per seen promotional post (assumed, E:A10)"
    )
    value_question: float = Field(
        0.25, ge=0, le=2, description="satisfaction per seen question, times chat_appetite (assumed)"
    )
    profile_memory_posts: float = Field(
        20.0,
        ge=1,
        le=1000,
        description="posts; how many recent posts a prospect's impression of the profile reflects (assumed)",
    )
    content_strength: float = Field(
        0.0025, ge=0, le=1, description="unfollow hazard per day per unit of dissatisfaction (assumed)"
    )
    content_threshold: float = Field(
        0.5, ge=0, le=20, description="dissatisfaction tolerated before the 'not for me' hazard starts (assumed)"
    )

    # --- conversation ---------------------------------------------------------------------
    reply_probability: float = Field(
        0.03, ge=0, le=1, description="chance a follower who sees a post replies, times chat_appetite (assumed, E:D6)"
    )
    question_reply_boost: float = Field(
        3.0, ge=1, le=20, description="questions draw this many times more replies (assumed)"
    )
    answer_boost: float = Field(
        1.5, ge=0, le=10, description="satisfaction gained by a follower whose reply is answered (assumed, E:A5)"
    )
    ignore_penalty: float = Field(
        0.6, ge=0, le=10, description="satisfaction lost by a follower whose reply is ignored (assumed, E:A10)"
    )
    ignored_strength: float = Field(
        0.004,
        ge=0,
        le=1,
        description="unfollow hazard per day per recent ignored reply, times chat_appetite (assumed, E:A10, A11)",
    )
    ignored_memory_days: float = Field(
        21.0, ge=1, le=365, description="days; how long an ignored reply is remembered (assumed)"
    )
    ignored_reply_will_factor: float = Field(
        0.6,
        ge=0,
        le=1,
        description="multiplier on a follower's willingness to reply after each ignored reply (assumed)",
    )
    typical_engagement: float = Field(
        0.7,
        ge=0.05,  # 1 / (1 + x^2) = 0.05 at posting 4.4x a follower's tolerance: fatigue unfollows first
        le=1,
        description="1 / (1 + (felt / tolerance)^2) at everyday posting, to seed the recent-answers memory (assumed)",
    )
    bond_days: float = Field(
        42.0, ge=0, le=365, description="days a follower stays bonded after an answer (assumed, E:A5)"
    )
    bond_hazard_ratio: float = Field(
        0.6, ge=0, le=1, description="unfollow hazard multiplier while bonded (assumed 0.5-0.7, E:A5)"
    )
    conversation_capacity: int = Field(
        150, ge=1, le=10_000, description="most followers bonded at once (E:C5, 100-200)"
    )
    onlookers_per_answer: float = Field(0.4, ge=0, le=100, description="prospects who see a public answer (assumed)")

    # --- outreach and discovery -----------------------------------------------------------
    onlookers_per_outreach: float = Field(
        1.0, ge=0, le=100, description="prospects besides the person answered who see an outreach reply (assumed)"
    )
    outreach_to_followed_share: float = Field(
        0.1, ge=0, le=1, description="share of outreach replies that go to people the account follows (assumed)"
    )
    outreach_odds: float = Field(
        2.0, ge=1, le=100, description="follow odds multiplier for the person the account answered (assumed)"
    )
    discovery_activity_weight: float = Field(
        0.7, ge=0, le=1, description="share of discovery prospects that scale with recent posting (assumed, E:B7)"
    )
    discovery_dispersion: float = Field(
        2.0,
        ge=0.1,
        le=1000,
        description="gamma shape of the day-to-day variation of discovery; small = bursty days (assumed, E:B6)",
    )
    discovery_reference_posts: float = Field(
        3.0, ge=0.1, le=100, description="posts/day at which activity-driven discovery reaches its base rate (assumed)"
    )

    # --- reshare --------------------------------------------------------------------------
    reshare_probability: float = Field(
        0.0015,
        ge=0,
        le=1,
        description="chance a follower who sees a post reshares it (assumed; E:F5, D6 put all engagement near 0.4% of impressions)",
    )
    link_reshare_boost: float = Field(
        1.6, ge=0, le=10, description="reshare multiplier for links, times (1 + link_appetite)/2 (E:C4, assumed x1.5-2)"
    )
    promo_reshare_factor: float = Field(0.3, ge=0, le=1, description="reshare multiplier for promotion (assumed)")
    prospects_per_reshare: float = Field(
        25.0,
        ge=0,
        le=1000,
        description="mean non-followers per reshare who look at the profile (assumed: ~3% of the ~1,000 a reshare reaches, E:C1)",
    )
    reshare_dispersion: float = Field(
        0.3, ge=0.05, le=100, description="gamma shape of prospects per reshare; small = viral bursts (assumed, E:B6)"
    )
    question_reshare_factor: float = Field(
        0.8,
        ge=0,
        le=10,
        description="reshare multiplier for questions: reshared a little less than plain posts (assumed)",
    )
    like_probability: float = Field(
        0.02, ge=0, le=1, description="chance a follower who sees a post likes it (assumed)"
    )

    # --- follow decision ------------------------------------------------------------------
    follow_base_probability: float = Field(
        0.04, ge=0.0001, le=0.5, description="chance a prospect follows a plain, fitting, active account (assumed)"
    )
    fit_weight: float = Field(
        2.5, ge=0, le=20, description="log-odds per unit of content fit of the recent posts (assumed, E:B1, B3)"
    )
    chat_weight: float = Field(
        1.0, ge=0, le=20, description="log-odds per unit of conversational share, times chat_appetite (assumed, E:B1)"
    )
    exposure_odds: float = Field(
        2.0, ge=1, le=10, description="follow odds multiplier per extra post seen (E:B4, OR 2.01)"
    )
    max_extra_exposures: int = Field(
        2, ge=0, le=20, description="extra exposures counted at most (saturation, assumed)"
    )
    extra_exposures_per_post: float = Field(
        0.05, ge=0, le=10, description="mean extra posts a prospect has seen, per post/day of the account (assumed)"
    )
    volume_odds: float = Field(0.989, ge=0.5, le=1, description="follow odds multiplier per post/day (E:B4, OR 0.989)")
    followed_odds: float = Field(
        27.3, ge=1, le=100, description="follow odds multiplier when the account already follows the prospect (E:B4)"
    )
    minutes_per_follow_back: float = Field(
        0.5, ge=0, le=60, description="minutes a follow-back costs: a look at the profile, a click (assumed)"
    )
    activity_memory_days: float = Field(
        7.0,
        ge=1,  # a profile shows at least a day of posts; the memory is updated once a day
        le=365,
        description="days; memory of the profile's recent posts and answers per day (assumed: one week)",
    )
    dead_penalty: float = Field(
        4.0, ge=0, le=20, description="log-odds of following lost by a profile that looks abandoned (assumed, E:A14)"
    )
    quiet_grace_days: float = Field(
        3.0, ge=0, le=365, description="days of silence before the profile starts to look abandoned (assumed, E:A14)"
    )
    silent_days_dead: float = Field(
        10.0, ge=4, le=365, description="days without a post after which the profile looks abandoned (assumed, E:A14)"
    )

    # --- neglect and churn ----------------------------------------------------------------
    neglect_strength: float = Field(
        0.0012,
        ge=0,
        le=1,
        description="extra unfollow hazard per day once silent for neglect_full_days (assumed, E:A14)",
    )
    neglect_full_days: float = Field(
        60.0, ge=1, le=730, description="days of silence until the neglect hazard is full (assumed)"
    )
    new_tie_days: float = Field(30.0, ge=0, le=365, description="days a tie counts as new (assumed, E:A3)")
    new_tie_ratio: float = Field(2.0, ge=1, le=10, description="churn multiplier for new ties (assumed, E:A3)")
    reciprocal_ratio: float = Field(
        0.3, ge=0, le=1, description="churn multiplier for reciprocal ties (assumed 0.2-0.35, E:A2, C1)"
    )
    initial_tie_age_days: float = Field(
        365.0, ge=1, le=5000, description="mean age of the starting followers' ties (assumed)"
    )
