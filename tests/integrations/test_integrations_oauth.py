"""OAuth 2.0 for integrations against a fake provider: the dance, refresh, failed refresh."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import sqlalchemy as sa

from app.integrations import oauth
from app.integrations.oauth import STATE_KEY
from app.platform.extensions import db
from app.platform.models import AuditLog, Integration, Notification
from tests.conftest import opened
from tests.fakes.oauth_provider import FakeOAuthProvider, s256
from tests.support.helpers import csrf_token_from, serving, signed_in_admin

CLIENT_SECRET = "client-secret-abcdef-0123456789"  # noqa: S105


@pytest.fixture
def provider():
    yield from serving(FakeOAuthProvider(client_secret=CLIENT_SECRET))


@pytest.fixture
def app(make_app, provider):
    # No embedded worker: the periodic refresh must not race the test's own calls,
    # and queued alerts stay in the queue for the test to read.
    built = make_app(
        start_embedded_worker=False,
        HUBSPOT_OAUTH_AUTHORIZE_URL=provider.authorize_url,
        HUBSPOT_OAUTH_TOKEN_URL=provider.token_url,
        HUBSPOT_API_BASE=provider.url,
        QUICKBOOKS_OAUTH_AUTHORIZE_URL=provider.authorize_url,
        QUICKBOOKS_OAUTH_TOKEN_URL=provider.token_url,
        QUICKBOOKS_API_BASE=provider.url,
    )
    with opened(built) as app:
        yield app


admin = pytest.fixture(signed_in_admin, name="admin")


def _csrf(client) -> str:
    return csrf_token_from(client.get("/integrations/").get_data(as_text=True))


def _create(client, provider_key="hubspot") -> Integration:
    response = client.post(
        "/integrations/",
        data={
            "csrf_token": _csrf(client),
            "provider": provider_key,
            "name": "HubSpot NL",
            "client_id": "client-123",
            "client_secret": CLIENT_SECRET,
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    integration = db.session.scalar(sa.select(Integration))
    assert integration.status == "inactive"
    return integration


def _connect(client, integration) -> str:
    """Run the whole dance through the browser's hops; returns the callback's Location."""
    start = client.post(
        f"/integrations/{integration.id}/oauth/start", data={"csrf_token": _csrf(client)}
    )
    assert start.status_code == 303
    # The admin's browser goes to the provider, which sends it back with a code.
    at_provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["Location"])
    assert f"{back.scheme}://{back.netloc}" == "http://127.0.0.1:5000"  # PUBLIC_BASE_URL
    callback = client.get(f"{back.path}?{back.query}")
    assert callback.status_code == 303
    return callback.headers["Location"]


def _expire_in(integration_id, seconds: float) -> None:
    integration = db.session.get(Integration, integration_id)
    credentials = oauth.integration_credentials(integration)
    credentials["expires_at"] = int(time.time() + seconds)
    integration.credentials = credentials
    db.session.commit()


def test_authorization_code_flow_with_state_and_pkce(app, client, admin, provider):
    integration = _create(client)
    start = client.post(
        f"/integrations/{integration.id}/oauth/start", data={"csrf_token": _csrf(client)}
    )
    authorize = urlsplit(start.headers["Location"])
    params = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    assert start.headers["Location"].startswith(provider.authorize_url)
    assert params["response_type"] == "code"
    assert params["client_id"] == "client-123"
    assert params["redirect_uri"] == "http://127.0.0.1:5000/integrations/oauth/callback"
    assert params["code_challenge_method"] == "S256"
    assert "crm.objects.contacts.read" in params["scope"]
    assert CLIENT_SECRET not in start.headers["Location"]
    # state and the code verifier are kept server-side for ten minutes, bound to this admin.
    redis = app.extensions["broker"].connection
    stored = json.loads(redis.get(STATE_KEY.format(params["state"])))
    assert stored["user_id"] == str(admin.id)
    assert s256(stored["code_verifier"]) == params["code_challenge"]
    assert 0 < redis.ttl(STATE_KEY.format(params["state"])) <= 600

    at_provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(at_provider.headers["Location"])
    callback = client.get(f"{back.path}?{back.query}")
    assert callback.status_code == 303
    assert callback.headers["Location"].endswith(f"/integrations/{integration.id}")

    (exchange,) = provider.token_requests("authorization_code")
    assert s256(exchange.form()["code_verifier"]) == params["code_challenge"]
    db.session.expire_all()
    integration = db.session.get(Integration, integration.id)
    assert integration.status == "active"
    assert integration.config["realm_id"] == "9130350000000001"
    issued = provider.issued[-1]
    credentials = oauth.integration_credentials(integration)
    assert credentials["access_token"] == issued["access_token"]
    assert credentials["refresh_token"] == issued["refresh_token"]
    assert integration.token_expires_at.timestamp() == pytest.approx(time.time() + 3600, abs=30)
    # Encrypted at rest: the raw column holds neither token.
    raw = db.session.execute(sa.text("SELECT credentials FROM integrations")).scalar_one()
    assert issued["access_token"] not in str(raw) and CLIENT_SECRET not in str(raw)
    # The state was spent: replaying the callback is refused.
    assert client.get(f"{back.path}?{back.query}").status_code == 400
    actions = db.session.scalars(sa.select(AuditLog.action)).all()
    assert "integration_oauth_connected" in actions

    # The token works against the provider's API through the connector.
    test = client.post(f"/integrations/{integration.id}/test", data={"csrf_token": _csrf(client)})
    assert test.status_code == 303
    api_calls = [r for r in provider.requests if r.path.startswith("/crm/v3/objects/contacts")]
    assert api_calls[-1].headers["Authorization"] == f"Bearer {issued['access_token']}"


def test_callback_refuses_unknown_forged_or_foreign_state(
    app, client, admin, provider, make_user, auth
):
    integration = _create(client)
    assert client.get("/integrations/oauth/callback?code=x&state=made-up").status_code == 400
    start = client.post(
        f"/integrations/{integration.id}/oauth/start", data={"csrf_token": _csrf(client)}
    )
    at_provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(at_provider.headers["Location"])
    # Another admin cannot finish this admin's flow.
    other = make_user("admin")
    auth.logout()
    auth.login(other.email)
    assert client.get(f"{back.path}?{back.query}").status_code == 400
    assert provider.token_requests() == []
    db.session.expire_all()
    assert db.session.get(Integration, integration.id).status == "inactive"


def test_declined_authorization_leaves_the_integration_unconnected(app, client, admin, provider):
    integration = _create(client)
    provider.deny_next = True
    location = _connect(client, integration)
    assert location.endswith(f"/integrations/{integration.id}")
    assert provider.token_requests() == []
    db.session.expire_all()
    integration = db.session.get(Integration, integration.id)
    assert integration.status == "inactive"
    assert "access_token" not in oauth.integration_credentials(integration)


def test_access_token_refreshes_within_five_minutes_of_expiry(app, client, admin, provider):
    integration = _create(client)
    _connect(client, integration)
    first = provider.issued[-1]

    # An hour left: the stored token is used as it is.
    db.session.expire_all()
    assert (
        oauth.access_token(db.session.get(Integration, integration.id)) == (first["access_token"])
    )
    assert provider.token_requests("refresh_token") == []

    _expire_in(integration.id, 120)
    token = oauth.access_token(db.session.get(Integration, integration.id))
    (refresh,) = provider.token_requests("refresh_token")
    assert refresh.form()["refresh_token"] == first["refresh_token"]
    second = provider.issued[-1]
    assert token == second["access_token"] != first["access_token"]
    db.session.expire_all()
    integration = db.session.get(Integration, integration.id)
    credentials = oauth.integration_credentials(integration)
    assert credentials["refresh_token"] == second["refresh_token"]  # rotated and kept
    assert integration.status == "active"
    assert integration.token_expires_at.timestamp() == pytest.approx(time.time() + 3600, abs=30)
    # Fresh again: no second refresh.
    oauth.access_token(integration)
    assert len(provider.token_requests("refresh_token")) == 1


def test_periodic_job_refreshes_tokens_expiring_soon_only(app, client, admin, provider):
    soon = _create(client)
    _connect(client, soon)
    _expire_in(soon.id, 600)
    integration = db.session.get(Integration, soon.id)
    integration.token_expires_at = integration.token_expires_at.fromtimestamp(
        time.time() + 600, tz=integration.token_expires_at.tzinfo
    )
    db.session.commit()

    assert oauth.refresh_expiring_tokens() == 1
    assert len(provider.token_requests("refresh_token")) == 1
    # Now an hour away: the next run leaves it.
    assert oauth.refresh_expiring_tokens() == 0
    assert len(provider.token_requests("refresh_token")) == 1


def test_failed_refresh_marks_error_and_alerts_admins_once(
    app, client, admin, provider, make_user, caplog
):
    caplog.set_level(logging.DEBUG)
    other_admin = make_user("admin")
    agent = make_user("agent")
    integration = _create(client)
    _connect(client, integration)
    issued = provider.issued[-1]
    provider.fail_refresh = True
    _expire_in(integration.id, 30)

    with pytest.raises(oauth.IntegrationAuthError):
        oauth.access_token(db.session.get(Integration, integration.id))
    db.session.expire_all()
    integration = db.session.get(Integration, integration.id)
    assert integration.status == "error"
    assert "invalid_grant" in integration.last_error_message
    assert integration.last_error_at is not None
    notified = db.session.scalars(
        sa.select(Notification.user_id).where(Notification.notification_type == "integration_error")
    ).all()
    assert sorted(map(str, notified)) == sorted([str(admin.id), str(other_admin.id)])
    assert agent.id not in notified
    # Teams hears of it through the system_error card.
    queued = app.extensions["broker"].queue("deliveries").jobs
    cards = [
        job
        for job in queued
        if job.func_name == "app.conversations.channels.teams.sender.post_card"
    ]
    assert cards and all(job.args[1] == "system_error" for job in cards)
    assert "HubSpot NL" in cards[0].args[2]

    # A second failing use does not alert again.
    with pytest.raises(oauth.IntegrationAuthError):
        oauth.access_token(integration)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 2
    # The page shows the error; no token or secret is in it or in any log line.
    page = client.get(f"/integrations/{integration.id}").get_data(as_text=True)
    assert "Token refresh failed" in page
    for secret in (issued["access_token"], issued["refresh_token"], CLIENT_SECRET):
        assert secret not in page
        assert secret not in caplog.text
        assert all(secret not in str(job.args) for job in cards)


def test_reconnecting_after_an_error_makes_it_active_again(app, client, admin, provider):
    integration = _create(client)
    _connect(client, integration)
    provider.fail_refresh = True
    _expire_in(integration.id, 30)
    with pytest.raises(oauth.IntegrationAuthError):
        oauth.access_token(db.session.get(Integration, integration.id))
    provider.fail_refresh = False
    _connect(client, integration)
    db.session.expire_all()
    integration = db.session.get(Integration, integration.id)
    assert integration.status == "active"
    assert oauth.access_token(integration) == provider.issued[-1]["access_token"]


def test_json_api_oauth_initiate_and_callback(app, client, admin, provider):
    integration = _create(client)
    headers = {"X-CSRFToken": _csrf(client)}
    initiated = client.post(
        "/api/integrations/oauth/initiate",
        json={"integration_id": str(integration.id)},
        headers=headers,
    )
    assert initiated.status_code == 200
    url = initiated.get_json()["data"]["authorization_url"]
    at_provider = requests.get(url, allow_redirects=False, timeout=5)
    query = parse_qs(urlsplit(at_provider.headers["Location"]).query)
    done = client.post(
        "/api/integrations/oauth/callback",
        json={"state": query["state"][0], "code": query["code"][0]},
        headers=headers,
    )
    assert done.status_code == 200
    body = done.get_data(as_text=True)
    assert done.get_json()["data"]["status"] == "active"
    assert done.get_json()["data"]["credentials"]["connected"] == "yes"
    for secret in (provider.issued[-1]["access_token"], CLIENT_SECRET):
        assert secret not in body
