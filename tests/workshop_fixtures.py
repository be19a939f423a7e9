"""Shared by the workshop tests: a small, fast exercise and a store on a temporary SQLite file."""

from __future__ import annotations

from pathlib import Path

# Two short rounds on a small persona (500 followers, 20 days, 3 runs): seconds, not minutes.
FAST_EXERCISE = """\
kind: workshop
version: 1
title: Test workshop <b>not bold</b>
minutes: 10
rounds:
  - title: Answer people
    persona: conversationalist
    minutes: 5
    goal: Grow the account.
    metric: net
    constraints:
      budget_minutes_per_day: 60
      ranges:
        posts_per_day: [1, 8]
    habits: [posts_per_day, reply_rate]
    reveal: live
    prompts: ["What changed?"]
    days: 20
    replicates: 3
  - title: Predict first
    persona: conversationalist
    goal: Lose fewer people.
    metric: unfollows
    habits: [reply_rate]
    reveal: predict_then_reveal
    days: 20
    replicates: 3
"""


def write_exercise(folder: Path, text: str = FAST_EXERCISE) -> Path:
    path = folder / "fast.yaml"
    path.write_text(text, encoding="utf-8")
    return path
