"""Markdown → safe HTML for instructions and chat messages.

CommonMark with raw HTML switched off: a `<script>` in the source comes out as text.
markdown-it also refuses `javascript:`/`vbscript:`/`data:` (except images) link targets.
Task content is never trusted; this is the only place HTML is made from it.
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table").enable("strikethrough")


@lru_cache(maxsize=4096)
def render(text: str) -> str:
    html = _md.render(text or "")
    # links from task content open elsewhere and do not leak the page URL
    return html.replace("<a href=", '<a rel="noopener noreferrer nofollow" target="_blank" href=')
