"""A provider's webhook carries no cookie: nobody to load, no session to sign.

Flask opened a session for every request, building its signer from the secret
key, and the partner confinement hook asked Flask-Login for ``current_user``,
which tried every loader: a tenth of a webhook's CPU. Without credentials
neither is needed; with them, both still run (the confinement tests in
``test_portal.py`` hold for signed-in partners).
"""

from __future__ import annotations

import pytest
from flask.sessions import SecureCookieSessionInterface

from app.platform.auth.cookies import CookieSessions, carries_credentials
from tests.fakes import whatsapp as wa
from tests.support.whatsapp_support import CUSTOMER, fake_whatsapp_server, post_signed, whatsapp_app

fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")
app = pytest.fixture(whatsapp_app, name="app")


@pytest.fixture
def asked(app, monkeypatch) -> list[str]:
    """What the request asked for: a session signer, a user from a loader."""
    seen: list[str] = []
    signer = SecureCookieSessionInterface.get_signing_serializer

    def signing_serializer(self, flask_app):
        seen.append("signer")
        return signer(self, flask_app)

    monkeypatch.setattr(SecureCookieSessionInterface, "get_signing_serializer", signing_serializer)
    login = app.login_manager
    for name in ("_user_callback", "_request_callback"):
        loader = getattr(login, name)

        def recorded(*args, _loader=loader, _name=name):
            seen.append(_name)
            return _loader(*args)

        monkeypatch.setattr(login, name, recorded)
    return seen


def test_a_signed_webhook_loads_no_user_and_signs_no_session(app, client, asked):
    payload = wa.webhook(messages=[wa.text_message(CUSTOMER, "Hallo", "wamid.cycle1", 1)])
    response = post_signed(client, payload)
    assert response.status_code == 200
    assert response.get_json() == {"status": "received"}
    assert response.mimetype == "application/json"
    assert "Set-Cookie" not in response.headers
    assert asked == []


def test_a_request_with_a_session_cookie_still_opens_it_and_asks_for_the_user(
    app, client, asked
):
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], "not-a-valid-session")
    payload = wa.webhook(messages=[wa.text_message(CUSTOMER, "Hallo", "wamid.cycle2", 1)])
    assert post_signed(client, payload).status_code == 200
    assert "signer" in asked
    assert "_request_callback" in asked  # no user in the (unreadable) session: the loaders


def test_credentials_are_a_session_or_remember_cookie_or_an_authorization_header(app):
    cases = {
        (): False,
        (("Cookie", "theme=dark"),): False,
        (("Cookie", f"{app.config['SESSION_COOKIE_NAME']}=x"),): True,
        (("Cookie", "switchboard_remember=x"),): True,
        (("Cookie", "remember_token=x"),): True,
        (("Authorization", "Bearer sb_pat_x"),): True,
    }
    for headers, expected in cases.items():
        with app.test_request_context("/api/v1/webhooks/whatsapp", headers=list(headers)):
            from flask import request

            assert carries_credentials(request, app) is expected, headers
    assert isinstance(app.session_interface, CookieSessions)
