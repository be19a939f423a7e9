"""Shared test settings."""

import os

# The app's look-ahead (app/prefetch.py) simulates in the background after a page is drawn;
# tests/test_prefetch.py turns it on for itself. Elsewhere it would only add background work
# to tests that measure budgets and queues. Set before any app server starts (they inherit it).
os.environ["COACH_LOOK_AHEAD"] = "0"
