"""Cadence Coach's Streamlit page, split by concern; ``streamlit_app.py`` is the entry point.

It runs from the checkout (it is not an installed package) and holds no model logic: every
number comes from ``coach``. The modules:

- ``state``: constants, field bounds, the persona library, cached runs, session state, callbacks
- ``urls``: the page address (a link reproduces the view) and a session's first run
- ``sidebar``: the controls
- ``predictions``, ``compare``, ``coaching``, ``history``, ``about``: one tab each
"""
