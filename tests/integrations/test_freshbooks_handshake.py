"""Signed webhooks from FreshBooks: the callback.verify handshake, from the outside.

FreshBooks posts ``callback.verify`` with a new callback's verifier; the
receiver stores it and answers 200, the webhook job PUTs the verifier back to
(a fake) FreshBooks with the integration's OAuth token, and only once FreshBooks
accepts it is the verifier the integration's webhook secret. A forged
``callback.verify`` is refused by FreshBooks and changes nothing.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import InboundWebhookEvent
from tests.fakes.freshbooks import FakeFreshBooks
from tests.support.helpers import csrf_token_from, serving, signed_in_admin
from tests.support.jobs import drain_queues
from tests.support.webhook_secret_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    PUBLIC_BASE_URL,
    api_headers,
    app_on_fakes,
    create_connected,
    platform_events,
)

app = pytest.fixture(app_on_fakes, name="app")
admin = pytest.fixture(signed_in_admin, name="admin")

HOOK_URL = PUBLIC_BASE_URL + "/api/v1/webhooks/freshbooks"
INVOICE = {
    "name": "invoice.create",
    "object_id": "1234567",
    "account_id": "6BApk",
    "business_id": "6543",
    "identity_id": "1234",
    "user_id": "1",
}


@pytest.fixture(name="oauth_provider")
def fake_freshbooks():
    yield from serving(FakeFreshBooks(client_id=CLIENT_ID, client_secret=CLIENT_SECRET))


def _post_form(client, fields: dict):
    return client.post(
        "/api/v1/webhooks/freshbooks",
        data=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def _secret_shown(client, integration_id: str):
    answer = client.get(f"/api/integrations/{integration_id}", headers=api_headers(client))
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["data"]["credentials"].get("webhook_secret")


def _handshakes() -> list[InboundWebhookEvent]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(InboundWebhookEvent)
        .where(InboundWebhookEvent.event_type == "callback.verify")
        .order_by(InboundWebhookEvent.created_at)
    ).all()


def _puts(fake: FakeFreshBooks) -> list:
    return [r for r in fake.requests if r.method == "PUT"]


def test_registration_handshake_sets_the_verifier(app, client, admin, oauth_provider):
    fake = oauth_provider
    created = create_connected(client, "freshbooks")
    assert _secret_shown(client, created["id"]) == "not set"
    callback = fake.register("invoice.create", HOOK_URL)
    verifier = callback["verifier"]

    # Before the handshake FreshBooks' events cannot be checked.
    body, headers = fake.signed(INVOICE, verifier)
    refused = client.post("/api/v1/webhooks/freshbooks", data=body, headers=headers)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "not_configured"

    form = fake.verification_form(callback["callbackid"])
    answer = _post_form(client, form)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["data"] == {"received": 1, "duplicates": 0}
    # FreshBooks resending the same handshake is one stored event.
    assert _post_form(client, form).get_json()["data"] == {"received": 0, "duplicates": 1}
    # The verifier is a secret: not kept readable with the stored call.
    stored = _handshakes()
    assert len(stored) == 1 and verifier not in stored[0].raw_body.decode()
    assert verifier not in stored[0].dedupe_key

    drain_queues(app)
    (put,) = _puts(fake)
    assert put.path == f"/events/account/6BApk/events/callbacks/{callback['callbackid']}"
    assert put.json() == {"callback": {"callback_id": callback["callbackid"], "verifier": verifier}}
    assert put.headers["Authorization"].startswith("Bearer ")
    assert fake.callbacks[callback["callbackid"]]["verified"] is True
    assert _secret_shown(client, created["id"]) == f"set …{verifier[-4:]}"
    assert "confirmed callback 2001" in _handshakes()[0].note

    body, headers = fake.signed(INVOICE, verifier)
    accepted = client.post("/api/v1/webhooks/freshbooks", data=body, headers=headers)
    assert accepted.status_code == 200, accepted.get_json()
    body, headers = fake.signed(dict(INVOICE, object_id="99"), "not-the-verifier")
    assert client.post("/api/v1/webhooks/freshbooks", data=body, headers=headers).status_code == 401
    assert platform_events(app) == [("invoice.created", "1234567")]  # the handshake emits none


def test_forged_verify_changes_nothing(app, client, admin, oauth_provider):
    fake = oauth_provider
    created = create_connected(client, "freshbooks")
    callback = fake.register("invoice.create", HOOK_URL)

    # No verifier yet: a forged one is refused by FreshBooks and none is set.
    forged = fake.verification_form(callback["callbackid"], verifier="attacker-chosen-0001")
    assert _post_form(client, forged).status_code == 200
    drain_queues(app)
    assert fake.callbacks[callback["callbackid"]]["verified"] is False
    assert _secret_shown(client, created["id"]) == "not set"
    (event,) = _handshakes()
    assert "did not confirm" in event.note and "Invalid verifier" in event.note

    # The genuine handshake, then a forged one for the same callback: the real verifier stays.
    assert _post_form(client, fake.verification_form(callback["callbackid"])).status_code == 200
    drain_queues(app)
    kept = f"set …{callback['verifier'][-4:]}"
    assert _secret_shown(client, created["id"]) == kept
    again = fake.verification_form(callback["callbackid"], verifier="attacker-chosen-0002")
    assert _post_form(client, again).status_code == 200
    # A callback id FreshBooks does not know for this account.
    unknown = dict(again, object_id="9999", verifier="attacker-chosen-0003")
    assert _post_form(client, unknown).status_code == 200
    drain_queues(app)
    assert _secret_shown(client, created["id"]) == kept
    notes = [event.note for event in _handshakes()]
    assert len(notes) == 4 and "Callback not found" in notes[-1]
    body, headers = fake.signed(INVOICE, "attacker-chosen-0002")
    assert client.post("/api/v1/webhooks/freshbooks", data=body, headers=headers).status_code == 401
    body, headers = fake.signed(INVOICE, callback["verifier"])
    assert client.post("/api/v1/webhooks/freshbooks", data=body, headers=headers).status_code == 200


def test_re_registered_callback_replaces_the_verifier(app, client, admin, oauth_provider):
    fake = oauth_provider
    created = create_connected(client, "freshbooks", webhook_secret="old-verifier-from-before")
    assert _secret_shown(client, created["id"]) == "set …fore"
    callback = fake.register("invoice.create", HOOK_URL)
    assert _post_form(client, fake.verification_form(callback["callbackid"])).status_code == 200
    drain_queues(app)
    assert _secret_shown(client, created["id"]) == f"set …{callback['verifier'][-4:]}"
    assert "replacing the earlier one" in _handshakes()[0].note
    body, headers = fake.signed(INVOICE, "old-verifier-from-before")
    assert client.post("/api/v1/webhooks/freshbooks", data=body, headers=headers).status_code == 401


def test_handshake_needs_an_active_integration_and_its_fields(app, client, admin, oauth_provider):
    fake = oauth_provider
    callback = fake.register("invoice.create", HOOK_URL)
    form = fake.verification_form(callback["callbackid"])
    absent = _post_form(client, form)
    assert absent.status_code == 404 and absent.get_json()["error"]["code"] == "no_integration"
    create_connected(client, "freshbooks")
    incomplete = _post_form(client, {k: v for k, v in form.items() if k != "verifier"})
    assert incomplete.status_code == 400
    assert "verifier" in incomplete.get_json()["error"]["fields"]
    assert _handshakes() == []
    assert _puts(fake) == []


def test_freshbooks_outage_fails_the_event_for_a_rerun(app, client, admin, oauth_provider):
    fake = oauth_provider
    created = create_connected(client, "freshbooks")
    callback = fake.register("invoice.create", HOOK_URL)
    fake.answer_when(lambda r: r.method == "PUT", 503, {"message": "Service Unavailable"})
    assert _post_form(client, fake.verification_form(callback["callbackid"])).status_code == 200
    drain_queues(app)
    (event,) = _handshakes()
    assert event.processing_state == "failed" and "503" in (event.last_error or "")
    assert _secret_shown(client, created["id"]) == "not set"

    page = client.get(f"/admin/events/{event.id}").get_data(as_text=True)
    assert callback["verifier"] not in page  # the admin page shows the stored body
    rerun = client.post(
        f"/admin/events/{event.id}/rerun", data={"csrf_token": csrf_token_from(page)}
    )
    assert rerun.status_code == 303
    drain_queues(app)
    assert fake.callbacks[callback["callbackid"]]["verified"] is True
    assert _secret_shown(client, created["id"]) == f"set …{callback['verifier'][-4:]}"


def test_the_integration_freshbooks_accepts_gets_the_verifier(app, client, admin, oauth_provider):
    fake = oauth_provider
    other = create_connected(client, "freshbooks", name="FreshBooks (other account)")
    ours = create_connected(client, "freshbooks", name="FreshBooks")
    # The first integration's token is not this account's: FreshBooks answers it 401.
    fake.access_tokens.discard(fake.issued[0]["access_token"])
    callback = fake.register("invoice.create", HOOK_URL)
    assert _post_form(client, fake.verification_form(callback["callbackid"])).status_code == 200
    drain_queues(app)
    assert [put.headers["Authorization"] for put in _puts(fake)] == [
        f"Bearer {fake.issued[0]['access_token']}",
        f"Bearer {fake.issued[1]['access_token']}",
    ]
    assert _secret_shown(client, other["id"]) == "not set"
    assert _secret_shown(client, ours["id"]) == f"set …{callback['verifier'][-4:]}"
