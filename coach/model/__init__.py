"""The follower model, one module per mechanism (MODEL.md §4, docs/model.md).

=========================  ==================================================  ==============
module                     mechanism                                           feeds
=========================  ==================================================  ==============
:mod:`.exposure`           who sees a post (hour, link reach, ranked feed)     impressions
:mod:`.fatigue`            too many posts, or too many at once                 ``fatigue``
:mod:`.content`            posts that do not fit a follower's taste            ``content``
:mod:`.conversation`       replies, answers, bonds, ignored replies            ``ignored``, ``conversation``
:mod:`.reshare`            reshares reaching people who do not follow yet      ``reshare``
:mod:`.outreach`           replies left on other people's posts                ``outreach``
:mod:`.discovery`          search/recommendations, and the follow decision     ``discovery``
:mod:`.neglect`            a silent account slowly losing followers            ``neglect``
:mod:`.churn`              background churn, higher for new one-way ties       ``churn``
=========================  ==================================================  ==============

Each module declares the per-follower fields it owns (``FIELDS``, stored in
:mod:`.crowd`), the :class:`~coach.parameters.ModelParams` it reads (``PARAMS``), the reason
or channel it feeds, and its vectorised steps. :mod:`.timeline` holds the SimPy processes
(the account's timeline); :mod:`.day` holds the state and enacts the events on every
replicate of a batch at once.

Time
    The SimPy clock counts **hours** from the start; day ``d`` (0-based, reported as day
    ``d + 1``) covers ``[24 d, 24 d + 24)``. The hour of day is ``t % 24`` in the audience's
    local time, the same clock as ``active_hours`` and ``activity_by_hour``.

Shared and per-replicate randomness (:mod:`coach.rng`)
    The account's timeline — sitting times and sizes, post kinds, outreach times, when the
    account goes through each post's replies — is drawn from streams keyed by the seed only,
    so all replicates of a seed follow one concrete schedule. The crowd's response — who
    sees, replies, reshares, likes, leaves, which prospects come and follow — comes from each
    replicate's own streams ``(seed, replicate, name)``. The bands of an ensemble are
    therefore the spread of the audience's response to one concrete schedule of the habits.

Order of events
    1. At ``24 d`` the day cycle re-aligns every stream to day ``d``, sets the day's habits
       (timeline), plans the account's day (sittings, kinds, reply hours; each replicate's
       exposure uniforms for the day are drawn on first use) and starts that day's posting,
       outreach and discovery processes.
    2. During the day, in time order: sittings (each enters followers' feeds whole —
       :mod:`.fatigue`'s load — then its posts expose every crowd one by one: exposure,
       fatigue, content, reshares, likes, replies); the account going through a post's
       replies (:mod:`.conversation`: answers and skips, bonds, onlookers); outreach replies
       (:mod:`.outreach`); and at noon the day's discovery rate (:mod:`.discovery`).
       Sittings are placed so that a whole burst ends before midnight, and answers fall at
       random minutes, so no event shares the instant of a close. Replies gone through at
       the very instant of the next post (no reply delay, no gap between a sitting's posts)
       come after it.
    3. At ``24 (d + 1)`` the day closes: each follower's hazards for the day are computed
       once (fatigue, content, ignored, neglect, churn; x ``bond_hazard_ratio`` while
       bonded) and summed, and taken from each follower's budget; those whose budget is spent
       leave, each with one reason drawn in proportion to those same hazards. Then the day's
       prospects (reshare, conversation, outreach, discovery) are counted and decide in one
       batch, and those who follow join (they face hazards from the next day on); last,
       the day's counts are recorded.

So ``followers[d] = followers[d - 1] + follows[d] - unfollows[d]`` holds exactly.
"""
