"""/api/docs links to the partners' guide, served from docs/partners.md."""

from __future__ import annotations

import re

from app.integrations.api_docs.guide import GUIDE, render_guide
from app.orders.partners.error_codes import ERROR_CODES


def test_the_guide_is_served_rendered_and_public(client):
    page = client.get("/api/docs/partners")  # nobody signed in
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<h2 id="getting-started">Getting started</h2>' in html
    assert '<h2 id="error-codes">Error codes</h2>' in html
    assert 'href="#error-codes"' in html  # the intro's link lands on the table
    rows = re.findall(r"<tr>\n<td><code>([a-z_]+)</code></td>", html)
    assert set(entry.code for entry in ERROR_CODES) <= set(rows)
    assert '<code class="language-python">' in html
    assert "<!--" not in html  # the generated tables' markers stay out
    # Within the CSP: no inline script or style.
    assert "<script" not in html and "style=" not in html
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_the_markdown_is_the_file(client):
    answer = client.get("/api/docs/partners.md")
    assert answer.status_code == 200
    assert answer.mimetype == "text/markdown"
    assert answer.get_data(as_text=True) == GUIDE.read_text(encoding="utf-8")


def test_raw_html_in_the_guide_is_shown_as_text_not_run():
    html = str(render_guide('<script>alert(1)</script>\n\n<img src=x onerror="alert(1)">\n'))
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert "<a" not in str(render_guide("[x](javascript:alert(1))"))


def test_api_docs_and_the_openapi_document_link_to_the_guide(client):
    page = client.get("/api/docs").get_data(as_text=True)
    assert 'href="/api/docs/partners"' in page
    description = client.get("/api/v1/openapi.json").get_json()["info"]["description"]
    assert "](/api/docs/partners)" in description
    assert "](/api/docs/partners#error-codes)" in description
    error = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["ErrorDetail"]
    assert "/api/docs/partners#error-codes" in error["properties"]["code"]["description"]
