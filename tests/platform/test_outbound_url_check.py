"""Server-side requests only to addresses the outbound URL check passed.

Three URLs an outside review could point at our private network: a Web Push
subscription's endpoint, a hub connector's base URL, a partner's callback URL.
Each is refused when it is saved (localhost, literal private, loopback and
link-local addresses), and each request is checked again at connect time, so a
URL saved while the exception (``ALLOW_PRIVATE_WEBHOOK_URLS``, tests and
development) was on, or a name whose DNS answer changed, reaches nothing.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import Integration, Organization, PushSubscription
from tests.conftest import opened
from tests.fakes.oauth_provider import FakeOAuthProvider
from tests.support.helpers import csrf_token_from, customer_writes, signed_in_admin
from tests.support.jobs import drain_queues
from tests.support.partner_support import make_partner
from tests.support.push_support import VAPID_SETTINGS, fake_push_service
from tests.support.push_support import visit_with_conversation as conversation_of_visit

INTERNAL = (
    "https://127.0.0.1/x",
    "https://10.1.2.3/x",
    "https://[::1]/x",
    "https://169.254.169.254/latest/meta-data",
    "https://localhost:8443/x",
    "http://push.example.com/x",
)
API_KEY = "sk_test_outbound_0123456789"

push_service = pytest.fixture(fake_push_service, name="push_service")


@pytest.fixture
def stripe_api():
    server = FakeOAuthProvider().start()
    server.access_tokens.add(API_KEY)
    yield server
    server.stop()


@pytest.fixture
def app(make_app, stripe_api):
    with opened(make_app(STRIPE_API_BASE=stripe_api.url, **VAPID_SETTINGS)) as app:
        yield app


@pytest.fixture
def vetting(app, monkeypatch):
    """The exception off, as in production."""

    def on():
        monkeypatch.setitem(app.config, "ALLOW_PRIVATE_WEBHOOK_URLS", False)

    return on


# -- Web Push --------------------------------------------------------------------


def _subscribe(client, auth, subscription):
    token = auth.csrf_token("/m/")
    return client.post("/m/push/subscription", json=subscription, headers={"X-CSRFToken": token})


def test_a_push_endpoint_at_an_internal_address_is_refused_when_saved(
    client, auth, make_user, vetting, push_service
):
    vetting()
    tech = make_user("technician")
    auth.login(tech.email)
    keys = push_service.subscribe()["keys"]
    for endpoint in INTERNAL:
        answer = _subscribe(client, auth, {"endpoint": endpoint, "keys": keys})
        assert answer.status_code == 422, endpoint
    assert db.session.scalar(sa.select(sa.func.count(PushSubscription.id))) == 0


def test_a_push_to_an_internal_address_is_refused_at_connect_time(
    app, client, auth, make_user, vetting, push_service
):
    tech = make_user("technician")
    _order, channel, customer, _thread = conversation_of_visit(tech)
    auth.login(tech.email)
    # Saved while the exception was on (the fake push service listens on 127.0.0.1).
    assert _subscribe(client, auth, push_service.subscribe()).status_code == 201
    vetting()
    customer_writes(channel, customer, "wamid.ssrf", "Bent u er al?")
    drain_queues(app)
    assert push_service.received == []


# -- hub connectors (Yardi, ROVIDA, …) ----------------------------------------------


def test_a_connector_base_url_at_an_internal_address_is_refused_when_saved(
    client, auth, make_user, vetting
):
    vetting()
    signed_in_admin(auth, make_user)
    token = csrf_token_from(client.get("/integrations/").get_data(as_text=True))
    for base_url in INTERNAL[:-1]:
        answer = client.post(
            "/api/integrations",
            json={"provider": "rovida", "api_key": "k" * 20, "base_url": base_url},
            headers={"X-CSRFToken": token},
        )
        assert answer.status_code == 422, base_url
        assert answer.get_json()["error"]["fields"]["base_url"] == (
            "must not point at a private or local address"
        )
    assert db.session.scalar(sa.select(sa.func.count(Integration.id))) == 0


def test_a_connector_call_to_an_internal_address_is_refused_at_connect_time(
    client, auth, make_user, vetting, stripe_api
):
    signed_in_admin(auth, make_user)
    token = csrf_token_from(client.get("/integrations/").get_data(as_text=True))
    created = client.post(
        "/api/integrations",
        json={"provider": "stripe", "api_key": API_KEY},
        headers={"X-CSRFToken": token},
    )
    assert created.status_code == 201
    vetting()  # Stripe's fake answers on 127.0.0.1: now an internal address like any other
    tested = client.post(
        f"/api/integrations/{created.get_json()['data']['id']}/test",
        headers={"X-CSRFToken": token},
    )
    assert tested.get_json()["data"]["ok"] is False
    assert "private or reserved address" in tested.get_json()["data"]["message"]
    assert stripe_api.requests_to("/v1/customers", "GET") == []


# -- partners' callback URLs ---------------------------------------------------------


def test_a_partner_webhook_url_at_an_internal_address_is_refused_when_saved(
    client, auth, make_user, vetting
):
    vetting()
    partner = make_partner("Groendus")
    signed_in_admin(auth, make_user)
    token = csrf_token_from(client.get("/partners/").get_data(as_text=True))
    for url in INTERNAL[:-1]:
        page = client.post(
            "/partners/", data={"csrf_token": token, "name": "Kwaad B.V.", "webhook_url": url}
        )
        assert page.status_code == 422, url
        api = client.post(
            f"/api/v1/partners/{partner.id}/integration-config",
            json={"webhook_url": url},
            headers={"Authorization": f"Bearer {partner.api_key}"},
        )
        assert api.status_code == 422, (url, api.get_json())
        assert api.get_json()["error"]["fields"]
    db.session.expire_all()
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Organization.id)).where(Organization.name == "Kwaad B.V.")
        )
        == 0
    )
    assert partner.integration.webhook_url != INTERNAL[0]
