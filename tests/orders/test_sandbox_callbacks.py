"""The sandbox's own callback settings: a test key never redirects live callbacks.

A test key (``sbk_test_…``) reads and changes only the sandbox's webhook URL,
events and opt-in; a live key only the live ones. Test orders' callbacks go to
the sandbox URL, signed with the sandbox's own secret, or to the live URL only
when the sandbox URL is empty and the partner chose so; otherwise they are
recorded as not sent, with why. The portal and the admin page show and edit
both, labelled. Every callback lands on a fake partner endpoint that verifies
its signature as the partner would.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.orders.partners.keys import issue_partner_key
from app.orders.partners.services import new_webhook_secret
from app.platform.extensions import db
from app.platform.models import OutboundDelivery, PartnerIntegration
from app.platform.models.enums import KeyMode, OutboundState
from tests.fakes.receiver import FakeReceiver
from tests.support.helpers import csrf_token_from, reader_language
from tests.support.jobs import drain_until
from tests.support.partner_support import add_articles, line_items_order, make_partner

EVENTS = ["order_created", "status_changed"]


@pytest.fixture
def receivers():
    """The partner's live endpoint and a second one (its sandbox, or a stranger's)."""
    live = FakeReceiver(new_webhook_secret()).start()
    other = FakeReceiver(new_webhook_secret()).start()
    yield live, other
    live.stop()
    other.stop()


@pytest.fixture
def partner(app, fake_pdok, receivers):
    live, _ = receivers
    partner = make_partner(webhook_url=live.url + "/hooks/live", webhook_events=EVENTS)
    partner.integration.webhook_secret = live.secret
    db.session.commit()
    add_articles(partner)
    return partner


def _test_key(partner) -> dict:
    _, plain = issue_partner_key(partner.organization, "Sandbox", mode=KeyMode.TEST)
    db.session.commit()
    return {"X-API-Key": plain}


def _config(client, partner, headers, body=None):
    url = f"/api/v1/partners/{partner.id}/integration-config"
    if body is None:
        return client.get(url, headers=headers)
    return client.post(url, json=body, headers=headers)


def _order(client, partner, headers, partner_order_id):
    made = client.post(
        f"/api/v1/partners/{partner.id}/orders",
        json=line_items_order(partner_order_id),
        headers=headers,
    )
    assert made.status_code == 201, made.get_json()
    return made.get_json()["data"]["chargecars_order_id"]


def _signed_with(event, secret: str) -> bool:
    try:
        Webhook(secret).verify(event.body, event.headers)
    except WebhookVerificationError:
        return False
    return True


def test_a_test_key_cannot_redirect_live_callbacks(app, client, partner, receivers):
    live, stranger = receivers
    test = _test_key(partner)
    # What the review did: a test key points "the" webhook elsewhere.
    changed = _config(
        client, partner, test, {"webhook_url": stranger.url + "/steal", "webhook_events": EVENTS}
    )
    assert changed.status_code == 200, changed.get_json()
    # The live settings are as they were.
    live_view = _config(client, partner, partner.headers).get_json()["data"]
    assert live_view["webhook_url"] == live.url + "/hooks/live"
    assert live_view["webhook_events"] == EVENTS
    assert live_view["mode"] == "live"
    # The test key changed, and is shown, the sandbox's settings only.
    data = changed.get_json()["data"]
    assert data["mode"] == "test"
    assert data["webhook_url"] == stranger.url + "/steal"
    assert live.url not in _config(client, partner, test).get_data(as_text=True)

    # Live-only settings are refused to a test key, each named; nothing changes.
    for body in (
        {"integration_name": "pwned", "webhook_url": stranger.url + "/again"},
        {"status_mapping": {"chargecars_to_partner": {"new": "GOTCHA"}}},
        {"alert_email": "thief@stranger.example"},
    ):
        refused = _config(client, partner, test, body)
        assert refused.status_code == 403, refused.get_json()
        error = refused.get_json()["error"]
        assert error["code"] == "live_key_required"
        named = set(body) - {"webhook_url"}
        assert set(error["fields"]) == named, error
    db.session.expire_all()
    integration = db.session.get(PartnerIntegration, partner.integration.id)
    assert integration.integration_name == partner.integration.integration_name
    assert integration.sandbox_webhook_url == stranger.url + "/steal"
    assert integration.status_mapping["chargecars_to_partner"]["new"] == "RECEIVED"

    # A live order's callback, with the live customer's name and e-mail, goes live only.
    _order(client, partner, partner.headers, "LIVE-1")
    drain_until(app, lambda: len(live.events) >= 1, timeout=20)
    assert [(e.event, e.payload["customer_info"]["email"]) for e in live.events] == [
        ("order_created", "jan@example.com")
    ]
    assert live.rejections == []
    assert stranger.events == [] and stranger.rejections == []


def test_a_test_orders_callbacks_go_to_the_sandbox_url_signed_with_its_own_secret(
    app, client, partner, receivers
):
    live, sandbox = receivers
    test = _test_key(partner)
    set_up = _config(
        client,
        partner,
        test,
        {"webhook_url": sandbox.url + "/hooks/test", "webhook_events": EVENTS},
    )
    assert set_up.status_code == 200, set_up.get_json()
    assert set_up.get_json()["data"]["webhook_events"] == EVENTS
    sandbox.secret = db.session.get(
        PartnerIntegration, partner.integration.id
    ).sandbox_webhook_secret
    assert sandbox.secret and sandbox.secret != live.secret

    _order(client, partner, test, "TEST-1")
    moved = client.post(
        f"/api/v1/partners/{partner.id}/sandbox/orders/TEST-1/status",
        json={"status": "approved"},
        headers=test,
    )
    assert moved.status_code == 200, moved.get_json()
    drain_until(app, lambda: len(sandbox.events) >= 2, timeout=20)
    assert sandbox.rejections == []  # verified with the sandbox's secret
    assert [(e.event, e.payload["status"]) for e in sandbox.events] == [
        ("order_created", "RECEIVED"),
        ("status_changed", "CONFIRMED"),
    ]
    for event in sandbox.events:
        assert event.payload["test"] is True
        assert event.headers.get("X-Chargecars-Test") == "true"
        assert not _signed_with(event, live.secret)  # the live secret signs live callbacks only
    assert live.events == [] and live.rejections == []


def test_a_live_key_changes_only_the_live_settings(app, client, partner, receivers):
    live, sandbox = receivers
    test = _test_key(partner)
    assert _config(client, partner, test, {"webhook_url": sandbox.url + "/t"}).status_code == 200
    moved = _config(
        client, partner, partner.headers, {"webhook_url": "https://partner.example/new-live"}
    )
    assert moved.status_code == 200, moved.get_json()
    # The sandbox keeps its own URL.
    assert _config(client, partner, test).get_json()["data"]["webhook_url"] == sandbox.url + "/t"
    assert moved.get_json()["data"]["webhook_url"] == "https://partner.example/new-live"
    assert moved.get_json()["data"]["mode"] == "live"
    # The sandbox's opt-in is the test key's to set; a live key is told so.
    refused = _config(client, partner, partner.headers, {"test_callbacks_to_live_url": True})
    assert refused.status_code == 403, refused.get_json()
    assert refused.get_json()["error"]["code"] == "test_key_required"
    assert set(refused.get_json()["error"]["fields"]) == {"test_callbacks_to_live_url"}
    db.session.expire_all()
    assert (
        db.session.get(PartnerIntegration, partner.integration.id).test_callbacks_to_live_url
        is False
    )


def test_test_callbacks_reach_the_live_url_only_when_the_partner_chose_so(
    app, client, auth, make_user, partner, receivers
):
    live, _ = receivers
    test = _test_key(partner)
    # No sandbox URL and no choice made: the test callback is recorded as not sent.
    first = _order(client, partner, test, "TEST-1")
    skipped = db.session.scalar(sa.select(OutboundDelivery))
    assert skipped.is_test and skipped.state == OutboundState.CANCELLED
    assert "sandbox webhook URL" in skipped.last_error

    chosen = _config(client, partner, test, {"test_callbacks_to_live_url": True})
    assert chosen.status_code == 200, chosen.get_json()
    assert chosen.get_json()["data"]["test_callbacks_to_live_url"] is True
    _order(client, partner, test, "TEST-2")
    drain_until(app, lambda: len(live.events) >= 1, timeout=20)
    # Only the second test order's callback came; the first stayed unsent.
    assert [e.payload["partner_order_id"] for e in live.events] == ["TEST-2"]
    assert live.rejections == []  # signed with the live secret its receiver holds
    assert live.events[0].payload["test"] is True
    assert live.events[0].headers.get("X-Chargecars-Test") == "true"
    assert first not in {e.payload["chargecars_order_id"] for e in live.events}

    # The partner sees the unsent one, and why, in its delivery log.
    user = make_user("partner", partner_organization_id=partner.organization.id, two_factor=True)
    assert auth.login(user.email).status_code == 302
    log = client.get("/portal/deliveries").get_data(as_text=True)
    assert 'data-testid="not-sent-reason"' in log and "sandbox webhook URL" in log


def _save(client, path, token, **form):
    return client.post(path, data={"csrf_token": token, **form})


def test_the_portal_shows_and_edits_both_settings_labelled(
    app, client, auth, make_user, partner, receivers
):
    live, _ = receivers
    user = make_user("partner", partner_organization_id=partner.organization.id, two_factor=True)
    assert auth.login(user.email).status_code == 302
    page = client.get("/portal/webhook")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="webhook-live"' in html and 'data-testid="webhook-sandbox"' in html
    live_part, sandbox_part = html.split('data-testid="webhook-sandbox"', 1)
    assert "Live" in live_part.split('data-testid="webhook-live"', 1)[1]
    assert "Test (sandbox)" in sandbox_part
    assert live.url + "/hooks/live" in live_part
    token = csrf_token_from(html)

    bad = _save(client, "/portal/webhook/sandbox", token, webhook_url="ftp://nope")
    assert bad.status_code == 422
    assert (
        'data-field="webhook_url"'
        in bad.get_data(as_text=True).split('data-testid="webhook-sandbox"', 1)[1]
    )
    saved = _save(
        client,
        "/portal/webhook/sandbox",
        token,
        webhook_url="https://partner.example/sandbox-hooks",
        webhook_events=["status_changed"],
        test_callbacks_to_live_url="1",
    )
    assert saved.status_code == 303
    db.session.expire_all()
    integration = db.session.get(PartnerIntegration, partner.integration.id)
    assert integration.sandbox_webhook_url == "https://partner.example/sandbox-hooks"
    assert integration.sandbox_webhook_events == ["status_changed"]
    assert integration.test_callbacks_to_live_url is True
    assert integration.webhook_url == live.url + "/hooks/live"  # the live one untouched

    old = integration.sandbox_webhook_secret
    rotated = _save(client, "/portal/webhook/sandbox/secret", token, overlap_hours="0")
    assert rotated.status_code == 201
    assert rotated.headers["Cache-Control"] == "no-store"
    shown = rotated.get_data(as_text=True)
    secret = shown.split('data-testid="new-sandbox-webhook-secret"', 1)[1]
    secret = secret.split(">", 1)[1].split("<", 1)[0]
    db.session.expire_all()
    integration = db.session.get(PartnerIntegration, partner.integration.id)
    assert secret.startswith("whsec_") and secret == integration.sandbox_webhook_secret
    assert secret != old and integration.webhook_secret == live.secret
    assert client.get("/portal/webhook").get_data(as_text=True).count(secret) == 0


def test_the_admin_page_shows_and_edits_both_settings_labelled(
    app, client, auth, make_user, partner, receivers
):
    live, _ = receivers
    admin = make_user("admin")
    assert auth.login(admin.email).status_code == 302
    page = client.get(f"/partners/{partner.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    live_card = html.split('data-testid="webhook-live"', 1)[1].split("</section>", 1)[0]
    sandbox_card = html.split('data-testid="webhook-sandbox"', 1)[1].split("</section>", 1)[0]
    assert "Live" in live_card and live.url + "/hooks/live" in live_card
    assert "Test (sandbox)" in sandbox_card
    token = csrf_token_from(html)

    path = f"/partners/{partner.id}/webhook/sandbox"
    bad = _save(client, path, token, webhook_url="ftp://nope")
    assert bad.status_code == 422
    assert 'data-field="webhook_url"' in bad.get_data(as_text=True)
    saved = _save(
        client,
        path,
        token,
        webhook_url="https://partner.example/sandbox-hooks",
        webhook_events=["order_created"],
    )
    assert saved.status_code == 303
    db.session.expire_all()
    integration = db.session.get(PartnerIntegration, partner.integration.id)
    assert integration.sandbox_webhook_url == "https://partner.example/sandbox-hooks"
    assert integration.sandbox_webhook_events == ["order_created"]
    assert integration.webhook_url == live.url + "/hooks/live"
    shown = client.get(f"/partners/{partner.id}").get_data(as_text=True)
    assert (
        "https://partner.example/sandbox-hooks"
        in shown.split('data-testid="webhook-sandbox"', 1)[1].split("</section>", 1)[0]
    )

    rotated = _save(client, f"/partners/{partner.id}/webhook/sandbox/secret", token)
    assert rotated.status_code == 201
    secret = rotated.get_data(as_text=True).split('data-testid="new-sandbox-webhook-secret">', 1)
    secret = secret[1].split("<", 1)[0]
    db.session.expire_all()
    integration = db.session.get(PartnerIntegration, partner.integration.id)
    assert secret == integration.sandbox_webhook_secret
    assert integration.webhook_secret == live.secret


speak = pytest.fixture(reader_language, name="speak")


def test_a_refused_webhook_url_is_told_in_the_readers_language(
    app, client, auth, make_user, partner, speak
):
    speak("nl")
    user = make_user("partner", partner_organization_id=partner.organization.id, two_factor=True)
    auth.login(user.email)
    token = csrf_token_from(client.get("/portal/webhook").get_data(as_text=True))

    for path in ("/portal/webhook", "/portal/webhook/sandbox"):
        bad = _save(client, path, token, webhook_url="ftp://partner.example/hooks")
        assert bad.status_code == 422
        html = bad.get_data(as_text=True)
        assert "moet een https://-URL zijn" in html, path
        assert "must be an https:// URL" not in html, path
