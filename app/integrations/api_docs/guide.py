"""The partners' getting-started guide (``docs/partners.md``) as a page of ``/api/docs``.

The Markdown file is the one source: GitHub shows it, a test runs its examples,
and this renders it for partners who only have our site. Raw HTML in it is not
passed through (``html`` off): the generated tables' marker comments are
dropped and anything else would be shown as text, so the page stays within
the Content-Security-Policy (no inline script or style).
"""

from __future__ import annotations

import re
from pathlib import Path

from markupsafe import Markup

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "partners.md"
_COMMENT = re.compile(r"^<!--.*?-->\n", re.M | re.S)


def guide_markdown() -> str:
    return GUIDE.read_text(encoding="utf-8")


def slug(title: str) -> str:
    """GitHub's heading anchor: ``## Error codes`` is ``#error-codes``."""
    kept = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return kept.replace(" ", "-")


def _focusable_code(default):
    """A code block's renderer whose <pre> takes focus: a wide example scrolls
    sideways, and a keyboard can only scroll what it can focus (WCAG 2.1.1)."""

    def render(self, tokens, idx, options, env):
        return default(tokens, idx, options, env).replace("<pre>", '<pre tabindex="0">', 1)

    return render


def render_guide(markdown: str | None = None) -> Markup:
    """The guide as HTML, each heading with the anchor GitHub would give it."""
    from markdown_it import MarkdownIt  # the guide's page only: no other process needs it

    parser = MarkdownIt("commonmark", {"html": False}).enable("table")
    for kind in ("fence", "code_block"):
        parser.add_render_rule(kind, _focusable_code(parser.renderer.rules[kind]))
    tokens = parser.parse(_COMMENT.sub("", guide_markdown() if markdown is None else markdown))
    for opening, inline in zip(tokens, tokens[1:], strict=False):
        if opening.type == "heading_open":
            opening.attrSet("id", slug(inline.content))
    for token in tokens:
        if token.type == "table_open":  # scrolls sideways on a phone, as code does
            token.attrSet("tabindex", "0")
    # Safe to mark up: markdown-it escapes raw HTML (``html`` off) and refuses
    # javascript: and data: links.
    return Markup(parser.renderer.render(tokens, parser.options, {}))  # noqa: S704
