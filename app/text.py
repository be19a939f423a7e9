"""Text that a link, an upload or a person supplied, made safe to show on the page.

Streamlit renders Markdown (and its own directives: ``:red[…]``, ``:material/icon:``,
``$latex$``) in ``st.markdown``, ``st.caption``, ``st.warning``/``error``/``info``, toasts,
and in widget labels and help. A ``?persona=![x](https://host/p.png)`` link or a scenario
description was rendered live: the browser fetched the image. :func:`safe` escapes every
character that means something there with a backslash — CommonMark's escape, which
Streamlit's renderer honours — so the text shows exactly as typed and nothing in it is
interpreted: no links (``.`` and ``:`` are escaped, so neither ``www.x.org`` nor
``https://…`` becomes one), images, HTML, entities, emphasis, headings, lists, tables,
colours, icons or formulas. Commas, quotes and the like stay as they are, so the
Markdown source stays readable.
"""

from __future__ import annotations

import re

MARKUP = "\\`*_{}[]()#+-.!|<>~&:$=^"
"""Every ASCII character with a meaning in Streamlit's Markdown (CommonMark, GFM, directives)."""
_MARKUP = re.compile("([" + re.escape(MARKUP) + "])")


def safe(text: object) -> str:
    """``text`` as Markdown that renders as exactly these characters."""
    return _MARKUP.sub(r"\\\1", str(text))
