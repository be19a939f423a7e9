"""Text that a link, an upload or a person supplied, made safe to show on the page.

Streamlit renders Markdown (and its own directives: ``:red[…]``, ``:material/icon:``,
``$latex$``) in ``st.markdown``, ``st.caption``, ``st.warning``/``error``/``info``, toasts,
and in widget labels and help. A ``?persona=![x](https://host/p.png)`` link or a scenario
description was rendered live: the browser fetched the image. :func:`safe` escapes every
character that means something there with a backslash — CommonMark's escape, which
Streamlit's renderer honours — so the text shows exactly as typed and nothing in it is
interpreted: no links, images, HTML, entities, emphasis, headings, lists, tables,
colours, icons or formulas. Commas, quotes and the like stay as they are, so the
Markdown source stays readable.

Escapes alone do not stop bare links: Streamlit's renderer turns ``www.x.org``,
``https://…`` and ``me@x.org`` into live links even with their ``.``, ``:`` and ``@``
escaped (measured in Chromium). So a WORD JOINER (U+2060, invisible, no line break) goes
after ``www``, a scheme such as ``https`` and every ``@``: the text looks the same, and
no link is made.
"""

from __future__ import annotations

import re

MARKUP = "\\`*_{}[]()#+-.!|<>~&:$=^"
"""Every ASCII character with a meaning in Streamlit's Markdown (CommonMark, GFM, directives)."""
_MARKUP = re.compile("([" + re.escape(MARKUP) + "])")


JOINER = "\u2060"
"""WORD JOINER: breaks a bare link without showing (see the module's docstring)."""
_BARE_LINK = re.compile(r"(?i)\b(https?|ftps?|mailto|xmpp|www)(?=[:.])")


def safe(text: object) -> str:
    """``text`` as Markdown that renders as exactly these characters, with no live link."""
    unlinked = _BARE_LINK.sub(lambda m: m[1] + JOINER, str(text)).replace("@", "@" + JOINER)
    return _MARKUP.sub(r"\\\1", unlinked)
