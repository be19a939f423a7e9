"""Conversation: followers reply; answered ones bond, ignored ones sour (MODEL.md §4.4).

State: ``reply_will``, ``ignored_chat`` (remembered ignored replies times the chat
appetite, the hazard's product, stored scaled) and ``bonded_until`` per follower (the chat
appetite is the segment's, read from its table, not stored per follower); per replicate, the bonds running (for the capacity) and the
recent answers per day (prospects see a conversational profile). Parameters:
``reply_probability``, ``question_reply_boost``, ``answer_boost``, ``ignore_penalty``,
``ignored_reply_will_factor``, ``ignored_strength``, ``ignored_memory_days``, ``bond_days``,
``bond_hazard_ratio``, ``conversation_capacity``, ``onlookers_per_answer``,
``typical_engagement``. Reason fed: ``ignored``; channel fed: ``conversation``.

A follower who sees a post replies with ``reply_probability x boost(question) x chat x
reply_will x engagement``; the account answers a share ``reply_rate`` (decided per reply from
the exposure uniform) when it goes through the post's replies — a time on the shared
timeline. Answered followers gain satisfaction and are bonded for ``bond_days`` (hazards x
``bond_hazard_ratio``) within the conversational capacity; public answers bring
onlookers. Skipped ones lose satisfaction, remember it, and reply less.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from coach.model.crowd import F32

FIELDS = ("reply_will", "ignored_chat", "bonded_until")
PARAMS = (
    "reply_probability", "question_reply_boost", "answer_boost", "ignore_penalty",
    "ignored_reply_will_factor", "ignored_strength", "ignored_memory_days", "bond_days",
    "bond_hazard_ratio", "conversation_capacity", "onlookers_per_answer", "typical_engagement",
)  # fmt: skip
REASON = "ignored"
CHANNEL = "conversation"
HOURS = 24.0


def reply_chance(p, is_question: bool, chat: np.ndarray, reply_will: np.ndarray, engage: np.ndarray) -> np.ndarray:
    """Chance each follower who saw the post replies to it."""
    return reply_chance_of(F32(reply_base(p, is_question)), chat, reply_will, engage)


def reply_base(p, is_question: bool) -> float:
    """The reply chance of a follower with full chat appetite, reply will and engagement."""
    return p.reply_probability * (p.question_reply_boost if is_question else 1.0)


def reply_chance_of(base: float, chat, reply_will, engage):
    """``base x chat x reply_will x engagement`` (scalar or array)."""
    return base * chat * reply_will * engage


def ignored_scale(t: float, t_ref: float, p) -> float:
    return math.exp((t - t_ref) / (p.ignored_memory_days * HOURS))


def ignored_hazard(ignored_chat: np.ndarray, t: float, t_ref: float, p) -> np.ndarray:
    """The hazard per day of followers remembering these (stored) ignored replies, times their chat appetite."""
    return ignored_hazard_of(ignored_chat, F32(ignored_factor(t, t_ref, p)))


def ignored_hazard_of(ignored_chat, factor):
    """``ignored_chat x factor`` (scalar or array; compiled into the close): see :func:`ignored_factor`."""
    return ignored_chat * factor


def ignored_factor(t: float, t_ref: float, p) -> float:
    """Hazard per day per (stored) remembered ignored reply and unit of chat appetite at ``t``."""
    return p.ignored_strength * math.exp(-(t - t_ref) / (p.ignored_memory_days * HOURS))


def expected_answers(p, habits, followers: float, attention: float, visibility: float, chat: float) -> float:
    """Answers per day the starting habits would give, to start the recent-answers memory."""
    boost = 1 + (p.question_reply_boost - 1) * habits.question_share
    replies = habits.posts_per_day * followers * attention * visibility * p.reply_probability * chat * boost
    return replies * p.typical_engagement * habits.reply_rate


class Bonds:
    """Running bonds per replicate, to keep each within the conversational capacity.

    Every bond lasts ``bond_days``, so bonds expire in the order they were made: a queue of
    (expiry hour, bonds made per replicate) bounds each replicate's bonded count from above
    (re-bonded followers count twice). Only replicates near the capacity count exactly.
    """

    def __init__(self, replicates: int, p):
        from coach.model.kernels import grant_bonds  # the kernels compile this module's laws

        self.grant_bonds = grant_bonds  # looked up once: grant runs after nearly every post
        self.capacity = p.conversation_capacity
        self.duration = p.bond_days * HOURS
        self.made: deque[tuple[float, np.ndarray]] = deque()
        self.running = np.zeros(replicates, dtype=np.int64)
        self.until_max = 0.0  # no follower is bonded after this hour

    def grant(self, t: float, wanted: np.ndarray, bonded_until: np.ndarray, n: np.ndarray, C: int) -> np.ndarray:
        """How many of ``wanted`` (per replicate) may bond now.

        ``bonded_until``, ``n``, ``C``: the crowd's field and rows (:class:`~coach.model.crowd.Crowd`),
        counted exactly (:func:`coach.model.kernels.grant_bonds`) only in replicates the queue
        says may be at the capacity.
        """
        while self.made and self.made[0][0] <= t:
            self.running -= self.made.popleft()[1]
        granted = np.empty_like(wanted)
        if self.grant_bonds(self.running, wanted, self.capacity, bonded_until, n, C, t, granted):
            self.made.append((t + self.duration, granted))
            self.until_max = t + self.duration
        return granted
