"""Chart specs shared by every session: built once per scenario and view, then drawn from the cache.

Fifteen people opening the same page shared one simulation (``st.cache_data``), but each
session still built the page's four Altair charts and converted them to Vega-Lite, with
Altair's JSON-schema validation: about 0.4 s of CPU a session on this machine, under the
GIL and behind Streamlit's lock on Altair's global settings, so the fifteenth session
waited for fourteen others' charts (benchmarks/bench_sessions.py). Here the converted spec
is cached on a key that names everything the chart shows (the scenarios' JSON, which
determine their runs, and the labels and layout); a session whose key is known only
unpickles the spec.

The conversion is Streamlit's own (``st.altair_chart`` does exactly this before drawing),
so a cached chart is the element ``st.altair_chart`` would send. It is a private function:
if a Streamlit release drops it, charts are drawn with ``st.altair_chart`` again, uncached.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

try:
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec as _to_spec
except ImportError:  # a Streamlit without it: draw uncached
    _to_spec = None


@st.cache_data(show_spinner=False, max_entries=256)  # a spec with its data is ~10-50 kB
def _spec(key: str, _build: Callable[[], Any]) -> dict[str, Any]:
    """The Vega-Lite spec (data as Arrow) of the chart ``_build`` makes; ``key`` identifies it."""
    return _to_spec(_build())  # type: ignore[misc]


def draw(where: Any, key: str, build: Callable[[], Any]) -> None:
    """Draw the chart ``build()`` returns in ``where`` (full width, the charts' own theme),
    building it only if no session has drawn the same ``key`` yet."""
    if _to_spec is None:
        where.altair_chart(build(), width="stretch", theme=None)
        return
    where.vega_lite_chart(spec=_spec(key, build), width="stretch", theme=None)
