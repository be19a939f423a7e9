"""Charts on the page without paying for Altair on every rerun.

``st.altair_chart`` turns a chart into Vega-Lite with ``chart.to_dict()``, which validates
the whole spec against the Vega-Lite JSON schema: measured on the Predictions tab that was
about a third of the page's own time per rerun (four layered charts), for charts that
``coach.plots`` builds the same way every time. Here a chart becomes its spec once,
unvalidated (``to_dict(validate=False)``, Altair's documented switch), with its data kept as
data frames that Streamlit sends as Arrow, exactly as ``st.altair_chart`` would; the specs
of a view are cached on the scenario's JSON, so a rerun that changes nothing in the charts
(another widget, a tab switch, a setting seen before) builds none of them.

The charts' tests (``tests/test_app.py``) read the same ``vega_lite_chart`` elements,
datasets and specs as before; ``coach.plots`` is unchanged and still validates when used
on its own (CLI, notebooks, PNG export of an Altair chart).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import altair as alt
import pandas as pd

try:  # Streamlit's own lock around Altair's process-wide data transformer and theme
    from streamlit.elements.vega_charts import _altair_globals_lock as _LOCK
except ImportError:  # a Streamlit without it: our own lock still keeps our threads apart
    _LOCK = threading.Lock()

_TRANSFORMER = "coach_frames"


def _keep_frames(data: Any, frames: dict[str, Any]) -> dict[str, str]:
    """Altair data transformer: leave the frame as it is, refer to it by name."""
    name = f"data-{len(frames)}"
    frames[name] = data
    return {"name": name}


alt.data_transformers.register(_TRANSFORMER, _keep_frames)


def vega_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec, unvalidated, its datasets as the frames the chart holds.

    The theme is Altair's "none", as in ``st.altair_chart`` (the default theme adds a 300 px
    default size that the page replaces anyway).
    """
    frames: dict[str, Any] = {}
    with _LOCK:
        theme = alt.theme.enable("none") if alt.theme.active == "default" else contextlib.nullcontext()
        with theme, alt.data_transformers.enable(_TRANSFORMER, frames=frames):
            spec = chart.to_dict(validate=False)
    spec["datasets"] = {**spec.get("datasets", {}), **frames}
    return spec


def with_frames(template: dict[str, Any], old: pd.DataFrame, new: pd.DataFrame) -> dict[str, Any] | None:
    """The template's spec with every dataset equal to ``old`` replaced by ``new``, or None if
    none is: the same chart for other runs without building it again.

    Only the data may differ: the template's title, labels, markers and scales must be the
    ones the new chart would have (the caller keys templates on everything but the runs, and
    ``tests/test_app_newcomer.py`` checks the result against a chart built from scratch).
    """
    datasets = dict(template.get("datasets", {}))
    hits = [name for name, data in datasets.items() if isinstance(data, pd.DataFrame) and data.equals(old)]
    if not hits:
        return None
    for name in hits:
        datasets[name] = new
    return {**template, "datasets": datasets}


def draw(where: Any, spec: dict[str, Any]) -> None:
    """Put a spec on the page at full width, without Streamlit's theme (the charts carry their own)."""
    where.vega_lite_chart(_copy(spec), width="stretch", theme=None)


def _copy(spec: dict[str, Any]) -> dict[str, Any]:
    # Streamlit pops the datasets out of the spec it is given: hand it a shallow copy so a
    # spec kept for the PNG button stays whole.
    out = dict(spec)
    if "datasets" in out:
        out["datasets"] = dict(out["datasets"])
    return out


def spec_png(spec: dict[str, Any], context: list[str] | tuple[str, ...] = (), scale: float = 2.0) -> bytes:
    """A spec from :func:`vega_spec` as a PNG for slides, as ``coach.plots.chart_png`` makes it."""
    import json

    from coach import plots

    out = plots.with_context(_copy(spec), context)
    out["datasets"] = {
        name: json.loads(data.to_json(orient="records", date_format="iso")) if isinstance(data, pd.DataFrame) else data
        for name, data in out.get("datasets", {}).items()
    }
    return plots.chart_png_from_spec(out, scale=scale)
