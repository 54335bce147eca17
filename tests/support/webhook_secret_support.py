"""Provider webhooks from the outside: integrations made and connected through the
JSON API (OAuth against the fake provider), calls signed as each provider documents."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import requests
import sqlalchemy as sa

from app.integrations.registry import PROVIDERS
from app.platform.config import provider_url_key
from app.platform.extensions import db
from app.platform.models import InboundWebhookEvent, PlatformEvent
from tests.conftest import opened
from tests.fakes.oauth_provider import FakeOAuthProvider
from tests.support.helpers import csrf_token_from, serving
from tests.support.jobs import drain_queues

# The fake provider's OAuth client; HubSpot signs its webhooks with this secret too.
CLIENT_ID = "client-123"
CLIENT_SECRET = "client-secret-abcdef-0123456789"  # noqa: S105
PUBLIC_BASE_URL = "http://127.0.0.1:5000"


def fake_oauth_provider():
    """Fixture body: ``oauth_provider = pytest.fixture(fake_oauth_provider, name=...)``."""
    yield from serving(FakeOAuthProvider(client_id=CLIENT_ID, client_secret=CLIENT_SECRET))


def app_on_fakes(make_app, oauth_provider):
    """Fixture body: an app whose every provider URL points at the fake provider."""
    urls = {}
    for provider in PROVIDERS.values():
        urls[provider.api_base_key] = oauth_provider.url
        if provider.is_oauth:
            urls[provider.oauth_authorize_url_key] = oauth_provider.authorize_url
            urls[provider.oauth_token_url_key] = oauth_provider.token_url
    assert urls[provider_url_key("zoho_crm", "OAUTH_TOKEN_URL")] == oauth_provider.token_url
    with opened(make_app(start_embedded_worker=False, **urls)) as app:
        yield app


def api_headers(client) -> dict:
    return {"X-CSRFToken": csrf_token_from(client.get("/integrations/").get_data(as_text=True))}


def create_connected(client, provider_key: str, **fields) -> dict:
    """Create an integration through the API and, for OAuth providers, connect it."""
    provider = PROVIDERS[provider_key]
    body = {"provider": provider_key, "sync_frequency": "manual", **fields}
    if provider.is_oauth:
        body.setdefault("client_id", CLIENT_ID)
        body.setdefault("client_secret", CLIENT_SECRET)
    else:
        body.setdefault("api_key", "sk_test_51SwitchboardKey0000")
    headers = api_headers(client)
    created = client.post("/api/integrations", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    data = created.get_json()["data"]
    if not provider.is_oauth:
        assert data["status"] == "active"
        return data
    started = client.post(
        "/api/integrations/oauth/initiate", json={"integration_id": data["id"]}, headers=headers
    )
    assert started.status_code == 200, started.get_json()
    at_provider = requests.get(
        started.get_json()["data"]["authorization_url"], allow_redirects=False, timeout=5
    )
    assert at_provider.status_code == 302, at_provider.text
    query = dict(
        part.split("=", 1) for part in at_provider.headers["Location"].split("?", 1)[1].split("&")
    )
    connected = client.post(
        "/api/integrations/oauth/callback",
        json={"state": query["state"], "code": query["code"]},
        headers=headers,
    )
    assert connected.status_code == 200, connected.get_json()
    assert connected.get_json()["data"]["status"] == "active"
    return connected.get_json()["data"]


def patch(client, integration_id: str, **fields):
    return client.patch(
        f"/api/integrations/{integration_id}", json=fields, headers=api_headers(client)
    )


def b64_hmac(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def hubspot_v3_headers(body: str, uri: str, secret: str) -> dict:
    timestamp = str(int(time.time() * 1000))
    return {
        "X-HubSpot-Signature-v3": b64_hmac(secret, f"POST{uri}{body}{timestamp}".encode()),
        "X-HubSpot-Request-Timestamp": timestamp,
        "Content-Type": "application/json",
    }


def stored_keys() -> list[str]:
    return sorted(db.session.scalars(sa.select(InboundWebhookEvent.dedupe_key)).all())


def stored_text() -> str:
    """Everything kept of the received calls (bodies and headers), to look for secrets in."""
    events = db.session.scalars(sa.select(InboundWebhookEvent)).all()
    return " ".join(f"{e.raw_body.decode()} {e.headers}" for e in events)


def platform_events(app) -> list[tuple[str, str | None]]:
    """Names and object ids of the platform events the stored calls became."""
    drain_queues(app)
    db.session.expire_all()
    return sorted(
        (event.name, event.payload.get("object_id"))
        for event in db.session.scalars(sa.select(PlatformEvent))
    )
