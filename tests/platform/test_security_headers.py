"""Security headers on every response, checked from outside.

The browser side (htmx, Socket.IO and every script working under the policy) is
checked by every browser test: tests/e2e/conftest.py fails a test on any
Content-Security-Policy violation.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.platform.security.access import declare, public
from app.platform.security.headers import content_security_policy

ROOT = Path(__file__).resolve().parents[2]
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


@pytest.fixture
def signed_in(client, auth, make_user):
    auth.login(make_user("admin").email)
    return client


def test_every_page_carries_the_policy_and_the_other_headers(client):
    for response in (client.get("/login"), client.get("/no-such-page"), client.get("/healthz")):
        policy = directives(response)
        assert policy["script-src"] == "'self'"  # no inline script, no eval
        assert policy["style-src"] == "'self'"  # no inline style either
        assert policy["frame-ancestors"] == "'none'"
        assert policy["object-src"] == "'none'"
        assert policy["form-action"].startswith("'self'")
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "geolocation=()" in response.headers["Permissions-Policy"]
        assert "Strict-Transport-Security" not in response.headers  # plain http


def test_hsts_only_over_https(client):
    secure = client.get("/login", base_url="https://switchboard.example")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_pages_and_api_answers_with_personal_data_are_never_stored(signed_in, make_user):
    for path in ("/inbox", "/tasks", "/admin/users", "/api/communication/threads"):
        response = signed_in.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
    htmx = signed_in.get("/inbox", headers={"HX-Request": "true"})
    assert htmx.headers["Cache-Control"] == "no-store"
    refused = signed_in.post("/api/tasks", json={})
    assert refused.headers["Cache-Control"] == "no-store"


def test_static_files_keep_their_caching(client):
    script = client.get("/static/js/app.js")
    assert script.status_code == 200
    assert "no-store" not in script.headers.get("Cache-Control", "")
    assert script.headers["X-Content-Type-Options"] == "nosniff"


def test_form_action_allows_the_providers_a_form_is_redirected_to(app, client):
    # "Connect" posts to us and is redirected to the provider's authorize page;
    # Chromium checks that redirect against form-action.
    form_action = directives(client.get("/login"))["form-action"].split()
    assert form_action[0] == "'self'"
    assert "https://app.hubspot.com" in form_action
    assert "https://appcenter.intuit.com" in form_action
    assert "https://login.microsoftonline.com" in form_action
    app.config["HUBSPOT_OAUTH_AUTHORIZE_URL"] = "http://127.0.0.1:4567/oauth/authorize"
    assert "http://127.0.0.1:4567" in directives(client.get("/login"))["form-action"].split()


def test_the_policy_without_providers():
    assert content_security_policy(()) == POLICY
    assert content_security_policy(("not a url", None)) == POLICY


def test_a_route_that_sets_its_own_policy_keeps_it(app):
    @app.get("/sandboxed-for-test")
    @declare(public("a test route"))
    def sandboxed():
        return "x", 200, {"Content-Security-Policy": "default-src 'none'; sandbox"}

    answer = app.test_client().get("/sandboxed-for-test")
    assert answer.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert answer.headers["X-Frame-Options"] == "DENY"


INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "<style> element": re.compile(r"<style[\s>]", re.I),
    "event-handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "hx-on attribute": re.compile(r"\shx-on[:-]", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def test_no_template_needs_inline_script_or_style():
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for what, pattern in INLINE.items()
        if pattern.search(path.read_text())
    ]
    assert found == []


def test_htmx_is_told_not_to_inject_styles_or_eval(client):
    page = client.get("/login").get_data(as_text=True)
    config = json.loads(re.search(r"""<meta name="htmx-config" content='([^']*)'>""", page)[1])
    assert config["includeIndicatorStyles"] is False
    assert config["allowEval"] is False
    # Settling copies attributes with setAttribute: a style set by script (the
    # canned-reply menu's position) would break the CSP's style-src-attr.
    assert "style" not in config["attributesToSettle"]
