"""Partner admin pages, the integration-config service, the delivery log and the order page."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import Response

from app.orders.partners.config import ConfigInvalid, apply_integration_config
from app.orders.partners.health import partner_health, start_of_day
from app.orders.partners.services import create_partner
from app.platform.auth.tokens import find_token
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    Article,
    AuditLog,
    DeliveryAttempt,
    Order,
    OutboundDelivery,
    PartnerIntegration,
    PartnerSkuMapping,
)
from app.platform.models.enums import (
    ArticleType,
    DeliveryKind,
    OrderStatus,
    OutboundState,
    TokenKind,
)
from tests.fakes import FakeServer
from tests.support.helpers import csrf_token_from, serving
from tests.support.jobs import drain_until

FULL_PARTNER_CONFIG = {
    "integration_name": "volvo_dealer_api",
    "api_base_url": "https://api.volvo-dealer.com/v1",
    "api_version": "v1",
    "authentication_type": "bearer_token",
    "webhook_url": "https://partner-api.volvo.com/webhooks/chargecars",
    "webhook_events": ["order_created", "order_approved", "installation_completed"],
    "status_mapping": {
        "chargecars_to_partner": {
            "new": "RECEIVED",
            "approved": "CONFIRMED",
            "in_progress": "IN_PROGRESS",
            "completed": "DELIVERED",
        },
        # A partner's own RECEIVED/CONFIRMED/IN_PROGRESS/DELIVERED could map to ours too;
        # a partner may only put an order on hold (app.orders.partners.config).
        "partner_to_chargecars": {"PAUSED": "on_hold", "CANCELLED": "on_hold"},
    },
    "sync_frequency": "hourly",
    "is_active": True,
    "rate_limit_per_minute": 300,
    "max_delivery_attempts": 5,
    "alert_email": "Ops@Volvo-Dealer.com",
    "order_email_address": "orders@chargecars.test",
}


class Receiver(FakeServer):
    """A partner's webhook endpoint: answers 200 unless told otherwise."""

    def __init__(self) -> None:
        super().__init__("partner-receiver")
        self.app.add_url_rule("/hook", "hook", lambda: Response("ok"), methods=["POST"])


@pytest.fixture
def receiver():
    yield from serving(Receiver())


def _partner(name="Groendus", **kwargs):
    partner = create_partner(name, **kwargs)
    db.session.commit()
    return partner


def _signed_in(client, auth, make_user, role="admin"):
    user = make_user(role)
    auth.login(user.email)
    return user, csrf_token_from(client.get("/inbox").get_data(as_text=True))


def _reload(record):
    db.session.expire_all()
    return db.session.get(type(record), record.id)


# --- the configuration service ---------------------------------------------------


def test_a_full_partner_configuration_is_applied(app):
    integration = _partner().integration
    apply_integration_config(integration, FULL_PARTNER_CONFIG)
    db.session.commit()
    integration = _reload(integration)
    assert integration.integration_name == "volvo_dealer_api"
    assert integration.authentication_type.value == "bearer_token"
    assert integration.webhook_events == [
        "order_created",
        "order_approved",
        "installation_completed",
    ]
    assert integration.status_mapping["partner_to_chargecars"]["PAUSED"] == "on_hold"
    assert integration.sync_frequency.value == "hourly"
    assert (integration.rate_limit_per_minute, integration.max_delivery_attempts) == (300, 5)
    assert integration.alert_email == "ops@volvo-dealer.com"


def test_invalid_configuration_names_every_field_and_applies_nothing(app):
    integration = _partner().integration
    before = (integration.integration_name, integration.webhook_url, integration.status_mapping)
    body = {
        "integration_name": "renamed",  # valid, but must not be applied either
        "webhook_url": "ftp://partner.example/hook",
        "webhook_events": ["order_created", "order_teleported"],
        "status_mapping": {
            "chargecars_to_partner": {"foo": "X", "new": ""},
            "partner_to_chargecars": {"DONE": "finished", "OK": "completed"},
            "sideways": {},
        },
        "authentication_type": "magic",
        "sync_frequency": "weekly",
        "is_active": "yes",
        "rate_limit_per_minute": 0,
        "max_delivery_attempts": 11,
        "alert_email": "not-an-address",
        "api_base_url": "api.partner.example",
        "colour": "red",
    }
    with pytest.raises(ConfigInvalid) as caught:
        apply_integration_config(integration, body)
    fields = caught.value.fields
    assert set(fields) == {
        "webhook_url",
        "webhook_events",
        "status_mapping.chargecars_to_partner.foo",
        "status_mapping.chargecars_to_partner.new",
        "status_mapping.partner_to_chargecars.DONE",
        "status_mapping.partner_to_chargecars.OK",
        "status_mapping.sideways",
        "authentication_type",
        "sync_frequency",
        "is_active",
        "rate_limit_per_minute",
        "max_delivery_attempts",
        "alert_email",
        "api_base_url",
        "colour",
    }
    assert "order_teleported" in fields["webhook_events"]
    assert "'finished' is not a status" in fields["status_mapping.partner_to_chargecars.DONE"]
    assert "not granted to this partner" in fields["status_mapping.partner_to_chargecars.OK"]
    assert fields["colour"] == "unknown field"
    db.session.commit()
    integration = _reload(integration)
    assert (
        integration.integration_name,
        integration.webhook_url,
        integration.status_mapping,
    ) == before


def test_webhook_urls_must_be_https_unless_private_urls_are_allowed(app):
    integration = _partner().integration
    app.config["ALLOW_PRIVATE_WEBHOOK_URLS"] = False
    with pytest.raises(ConfigInvalid) as caught:
        apply_integration_config(integration, {"webhook_url": "http://partner.example/hook"})
    assert caught.value.fields == {"webhook_url": "must be an https:// URL"}
    apply_integration_config(integration, {"webhook_url": "https://partner.example/hook"})
    assert integration.webhook_url == "https://partner.example/hook"


def test_one_direction_of_the_mapping_can_change_alone(app):
    integration = _partner().integration
    apply_integration_config(integration, {"status_mapping": FULL_PARTNER_CONFIG["status_mapping"]})
    apply_integration_config(
        integration, {"status_mapping": {"partner_to_chargecars": {"WACHT": "on_hold"}}}
    )
    assert integration.status_mapping["partner_to_chargecars"] == {"WACHT": "on_hold"}
    assert integration.status_mapping["chargecars_to_partner"]["completed"] == "DELIVERED"


def test_two_partners_cannot_share_an_order_mailbox(app):
    first, second = _partner("Alva").integration, _partner("Eneco").integration
    apply_integration_config(first, {"order_email_address": "orders@alva.test"})
    db.session.commit()
    with pytest.raises(ConfigInvalid) as caught:
        apply_integration_config(second, {"order_email_address": "ORDERS@alva.test"})
    assert "order_email_address" in caught.value.fields
    apply_integration_config(first, {"order_email_address": "orders@alva.test"})  # itself is fine


# --- access --------------------------------------------------------------------


def test_pages_render_for_admins_and_are_refused_to_agents(client, auth, make_user):
    partner = _partner()
    order = Order(order_number="CC-2026-00001", partner_organization_id=partner.organization.id)
    db.session.add(order)
    db.session.commit()
    base = f"/partners/{partner.organization.id}"

    _signed_in(client, auth, make_user, "admin")
    for path in ("/partners/", base, f"{base}/deliveries", f"/orders/{order.order_number}"):
        response = client.get(path)
        assert response.status_code == 200, path
    listing = client.get("/partners/").get_data(as_text=True)
    assert "Groendus" in listing and 'href="/partners/"' in listing  # nav link for admins
    assert client.get("/partners/00000000-0000-0000-0000-000000000000").status_code == 404

    auth.logout()
    _, csrf = _signed_in(client, auth, make_user, "agent")
    for path in ("/partners/", base, f"{base}/deliveries"):
        assert client.get(path).status_code == 403, path
    for path in (f"{base}/keys", f"{base}/settings", f"{base}/status-mapping", f"{base}/parent"):
        assert client.post(path, data={"csrf_token": csrf, "name": "x"}).status_code == 403, path
    assert client.get(f"/orders/{order.id}").status_code == 200  # staff see orders
    assert 'href="/partners/"' not in client.get("/inbox").get_data(as_text=True)

    auth.logout()
    _signed_in(client, auth, make_user, "technician")
    assert client.get(f"/orders/{order.order_number}").status_code == 403


# --- the list and onboarding ---------------------------------------------------


def test_new_partner_form_shows_key_and_secret_once(client, auth, make_user):
    master = _partner()
    _, csrf = _signed_in(client, auth, make_user)
    response = client.post(
        "/partners/",
        data={
            "csrf_token": csrf,
            "name": "Groendus Regio Oost",
            "parent": str(master.organization.id),
            "webhook_url": "https://oost.example/hook",
        },
    )
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    key = html.split('data-testid="new-api-key">', 1)[1].split("<", 1)[0]
    secret = html.split('data-testid="new-webhook-secret">', 1)[1].split("<", 1)[0]
    token = find_token(key, TokenKind.PARTNER)
    assert token is not None and secret.startswith("whsec_")
    integration = db.session.scalar(
        sa.select(PartnerIntegration).where(
            PartnerIntegration.partner_organization_id == token.partner_organization_id
        )
    )
    assert integration.webhook_secret == secret
    assert integration.partner_organization.parent_organization_id == master.organization.id

    duplicate = client.post("/partners/", data={"csrf_token": csrf, "name": "groendus"})
    assert duplicate.status_code == 422
    assert 'data-field="name"' in duplicate.get_data(as_text=True)
    blank = client.post("/partners/", data={"csrf_token": csrf, "name": " "})
    assert blank.status_code == 422


def test_health_figures_per_partner(app, client, auth, make_user):
    busy = _partner("Groendus")
    _partner("Essent")
    # Noon today in the Netherlands, so "today" holds whatever time the test runs.
    now = start_of_day(utcnow()) + timedelta(hours=12)

    def delivery(state, attempts, *, age=timedelta(0)):
        record = OutboundDelivery(
            kind=DeliveryKind.PARTNER_CALLBACK,
            partner_integration_id=busy.integration.id,
            event_type="status_changed",
            webhook_id=f"msg_{len(attempts)}_{state.value}_{age.total_seconds()}",
            target_url="https://partner.example/hook",
            payload={},
            state=state,
            attempt_count=len(attempts),
        )
        db.session.add(record)
        db.session.flush()
        for number, code in enumerate(attempts, start=1):
            db.session.add(
                DeliveryAttempt(
                    delivery_id=record.id,
                    attempt_number=number,
                    status_code=code,
                    created_at=now - age,
                )
            )

    delivery(OutboundState.DELIVERED, [500, 200])
    delivery(OutboundState.DELIVERED, [200])
    delivery(OutboundState.FAILED, [500], age=timedelta(days=3))  # outside 24 h
    delivery(OutboundState.PENDING, [503])  # waiting for a retry
    for number, age in ((1, timedelta(0)), (2, timedelta(minutes=5)), (3, timedelta(days=2))):
        db.session.add(
            Order(
                order_number=f"CC-2026-0000{number}",
                partner_organization_id=busy.organization.id,
                created_at=now - age,
            )
        )
    busy.integration.webhook_disabled_at = now
    busy.integration.webhook_disabled_reason = "410 Gone"
    db.session.commit()

    figures = {h.organization.name: h for h in partner_health(now)}
    groendus = figures["Groendus"]
    assert (groendus.attempts_24h, groendus.successes_24h) == (4, 2)
    assert groendus.success_rate_24h == Decimal("50.0")
    assert groendus.failing_deliveries == 2
    assert groendus.orders_today == 2  # the two-day-old order is not today's
    assert groendus.endpoint_disabled
    assert figures["Essent"].success_rate_24h is None and figures["Essent"].orders_today == 0

    _signed_in(client, auth, make_user)
    html = client.get("/partners/").get_data(as_text=True)
    row = html.split('data-partner="Groendus"', 1)[1].split("</tr>", 1)[0]
    # In the reader's number format, as every other percentage ("50,0 %" in Dutch).
    assert "50.0 %" in row and 'data-testid="endpoint-disabled"' in row
    assert '<td data-testid="failing"><a class="status badge-bad"' in row


def test_the_list_costs_the_same_queries_for_few_or_many_partners(app):
    def statements() -> int:
        count = 0
        here = threading.get_ident()

        def tally(*_args):
            nonlocal count
            # Only this thread's: the embedded worker may run periodic jobs meanwhile.
            if threading.get_ident() == here:
                count += 1

        engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", tally)
        try:
            partner_health()
        finally:
            sa.event.remove(engine, "before_cursor_execute", tally)
        return count

    master = _partner("Groendus")
    _partner("Groendus Regio Oost", parent=master.organization)
    few = statements()
    for name in ("Essent", "Eneco", "50five", "Alva"):
        _partner(name, parent=master.organization)
    assert statements() == few


# --- one partner's settings ------------------------------------------------------


def test_settings_and_webhook_forms_save_and_name_bad_fields(client, auth, make_user):
    partner = _partner()
    base = f"/partners/{partner.organization.id}"
    _, csrf = _signed_in(client, auth, make_user)
    settings = {
        "csrf_token": csrf,
        "integration_name": "groendus_portal",
        "api_base_url": "https://api.groendus.nl/v2",
        "api_version": "v2",
        "authentication_type": "api_key",
        "sync_frequency": "every_15_minutes",
        "rate_limit_per_minute": "0",
        "max_delivery_attempts": "4",
        "alert_email": "ops@groendus.nl",
        "order_email_address": "",
        "sync_enabled": "on",
    }
    bad = client.post(f"{base}/settings", data=settings)
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'data-field="rate_limit_per_minute"' in html
    assert 'value="ops@groendus.nl"' in html  # what was typed is kept
    assert _reload(partner.integration).integration_name != "groendus_portal"

    good = client.post(f"{base}/settings", data={**settings, "rate_limit_per_minute": "60"})
    assert good.status_code == 303
    integration = _reload(partner.integration)
    assert integration.integration_name == "groendus_portal"
    assert integration.rate_limit_per_minute == 60 and integration.max_delivery_attempts == 4
    assert integration.is_active is False  # the unticked box
    audit = db.session.scalar(
        sa.select(AuditLog).where(AuditLog.action == "INTEGRATION_CONFIG_UPDATED")
    )
    assert audit.changes["rate_limit_per_minute"] == {"from": 120, "to": 60}

    webhook = client.post(
        f"{base}/webhook",
        data={
            "csrf_token": csrf,
            "webhook_url": "https://groendus.example/hook",
            "webhook_events": ["status_changed", "order_completed"],
        },
    )
    assert webhook.status_code == 303
    integration = _reload(partner.integration)
    assert integration.webhook_url == "https://groendus.example/hook"
    assert integration.webhook_events == ["status_changed", "order_completed"]
    unknown = client.post(
        f"{base}/webhook",
        data={"csrf_token": csrf, "webhook_url": "", "webhook_events": ["teleported"]},
    )
    assert unknown.status_code == 422
    assert 'data-field="webhook_events"' in unknown.get_data(as_text=True)


def test_status_mapping_editor_refuses_unknown_statuses(client, auth, make_user):
    partner = _partner()
    base = f"/partners/{partner.organization.id}"
    _, csrf = _signed_in(client, auth, make_user)
    bad = client.post(
        f"{base}/status-mapping",
        data={
            "csrf_token": csrf,
            "out_new": "RECEIVED",
            "out_bogus": "WHATEVER",
            "in_partner": ["RECEIVED", "DONE", ""],
            "in_ours": ["new", "teleported", ""],
        },
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'data-field="status_mapping.partner_to_chargecars.DONE"' in html
    assert 'data-field="status_mapping.chargecars_to_partner.bogus"' in html
    assert _reload(partner.integration).status_mapping == {
        "chargecars_to_partner": {},
        "partner_to_chargecars": {},
    }

    twice = client.post(
        f"{base}/status-mapping",
        data={"csrf_token": csrf, "in_partner": ["OK", "OK"], "in_ours": ["on_hold", "on_hold"]},
    )
    assert twice.status_code == 422 and "mapped twice" in twice.get_data(as_text=True)

    good = client.post(
        f"{base}/status-mapping",
        data={
            "csrf_token": csrf,
            "out_new": "RECEIVED",
            "out_completed": " DELIVERED ",
            "out_approved": "",
            "in_partner": ["PAUSED", "CANCELLED", ""],
            "in_ours": ["on_hold", "on_hold", ""],
        },
    )
    assert good.status_code == 303
    assert _reload(partner.integration).status_mapping == {
        "chargecars_to_partner": {"new": "RECEIVED", "completed": "DELIVERED"},
        "partner_to_chargecars": {"PAUSED": "on_hold", "CANCELLED": "on_hold"},
    }
    page = client.get(base).get_data(as_text=True)
    assert 'name="out_completed" maxlength="64" value="DELIVERED"' in page
    # A partner's status is offered only the statuses a partner may report.
    select = page.split('aria-label="Our status for PAUSED">', 1)[1].split("</select>", 1)[0]
    assert select.count("<option") == 2 and 'value="on_hold"' in select


def test_status_mapping_editor_refuses_statuses_only_we_set(client, auth, make_user):
    """The mapping editor keeps to the partner's grant (the
    default grant: on_hold only); more is granted under Status reach."""
    partner = _partner()
    base = f"/partners/{partner.organization.id}"
    _, csrf = _signed_in(client, auth, make_user)
    forbidden = [s.value for s in OrderStatus if s != OrderStatus.ON_HOLD]
    refused = client.post(
        f"{base}/status-mapping",
        data={
            "csrf_token": csrf,
            "in_partner": [f"P_{status.upper()}" for status in forbidden],
            "in_ours": forbidden,
        },
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    for status in forbidden:
        assert f'data-field="status_mapping.partner_to_chargecars.P_{status.upper()}"' in html
    assert "is not granted to this partner" in html
    assert _reload(partner.integration).status_mapping["partner_to_chargecars"] == {}

    # A row stored before the rule is shown as not allowed, not silently changed.
    integration = _reload(partner.integration)
    integration.status_mapping = {"partner_to_chargecars": {"DELIVERED": "completed"}}
    db.session.commit()
    page = client.get(base).get_data(as_text=True)
    select = page.split('aria-label="Our status for DELIVERED">', 1)[1].split("</select>", 1)[0]
    assert '<option value="completed" selected>completed (not allowed)</option>' in select


def _article(sku: str) -> Article:
    article = Article(sku=sku, name=f"Article {sku}", article_type=ArticleType.WALLBOX)
    db.session.add(article)
    db.session.commit()
    return article


def test_sku_mapping_table_add_edit_delete(client, auth, make_user):
    partner = _partner()
    alfen, zappi = _article("ALF-EVE-S-11KW"), _article("MYE-ZAPPI-7KW")
    base = f"/partners/{partner.organization.id}/skus"
    _, csrf = _signed_in(client, auth, make_user)
    htmx = {"HX-Request": "true"}

    added = client.post(
        base,
        headers=htmx,
        data={"csrf_token": csrf, "partner_sku": "GRO-ALFEN-11", "article_id": str(alfen.id)},
    )
    assert added.status_code == 200
    partial = added.get_data(as_text=True)
    assert '<div id="skus"' in partial
    assert 'data-sku="GRO-ALFEN-11"' in partial and "<html" not in partial
    mapping = db.session.scalar(sa.select(PartnerSkuMapping))
    assert mapping.article_id == alfen.id

    clash = client.post(
        base,
        headers=htmx,
        data={"csrf_token": csrf, "partner_sku": "gro-alfen-11", "article_id": str(zappi.id)},
    )
    assert 'data-field="partner_sku"' in clash.get_data(as_text=True)
    no_article = client.post(base, data={"csrf_token": csrf, "partner_sku": "GRO-X"})
    assert no_article.status_code == 422
    assert 'data-field="article_id"' in no_article.get_data(as_text=True)

    edited = client.post(
        f"{base}/{mapping.id}",
        headers=htmx,
        data={
            "csrf_token": csrf,
            "partner_sku": "GRO-ALFEN-11",
            "article_id": str(zappi.id),
            "description": "Zappi instead",
        },
    )
    assert edited.status_code == 200
    mapping = _reload(mapping)
    assert (mapping.article_id, mapping.description) == (zappi.id, "Zappi instead")

    deleted = client.post(f"{base}/{mapping.id}/delete", data={"csrf_token": csrf})
    assert deleted.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(PartnerSkuMapping.id))) == 0
    actions = set(db.session.scalars(sa.select(AuditLog.action)))
    assert {"SKU_MAPPING_ADDED", "SKU_MAPPING_CHANGED", "SKU_MAPPING_DELETED"} <= actions


def test_parent_changes_refuse_cycles(client, auth, make_user):
    master = _partner("Groendus")
    regional = _partner("Groendus Regio Oost", parent=master.organization)
    dealer = _partner("Laadpunt Zwolle", parent=regional.organization)
    _, csrf = _signed_in(client, auth, make_user)

    cycle = client.post(
        f"/partners/{master.organization.id}/parent",
        data={"csrf_token": csrf, "parent_organization_id": str(dealer.organization.id)},
    )
    assert cycle.status_code == 422
    html = cycle.get_data(as_text=True)
    assert 'data-field="parent_organization_id"' in html and "cycle" in html
    self_parent = client.post(
        f"/partners/{master.organization.id}/parent",
        data={"csrf_token": csrf, "parent_organization_id": str(master.organization.id)},
    )
    assert self_parent.status_code == 422
    assert _reload(master.organization).parent_organization_id is None

    # The select offers neither the partner itself nor anything below it.
    page = client.get(f"/partners/{master.organization.id}").get_data(as_text=True)
    options = page.split('id="parent-select"', 1)[1].split("</select>", 1)[0]
    assert str(dealer.organization.id) not in options
    assert str(master.organization.id) not in options

    moved = client.post(
        f"/partners/{dealer.organization.id}/parent",
        data={"csrf_token": csrf, "parent_organization_id": str(master.organization.id)},
    )
    assert moved.status_code == 303
    assert _reload(dealer.organization).parent_organization_id == master.organization.id
    top = client.post(
        f"/partners/{dealer.organization.id}/parent",
        data={"csrf_token": csrf, "parent_organization_id": ""},
    )
    assert top.status_code == 303
    assert _reload(dealer.organization).parent_organization_id is None


def test_commission_rates_per_level(client, auth, make_user):
    partner = _partner()
    base = f"/partners/{partner.organization.id}/commission-rates"
    _, csrf = _signed_in(client, auth, make_user)
    bad = client.post(
        base, data={"csrf_token": csrf, "level": ["1", "2", "2"], "rate": ["5", "120", "1"]}
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'data-field="commission_rates.2"' in html
    assert _reload(partner.organization).commission_rates == {}

    good = client.post(
        base,
        data={"csrf_token": csrf, "level": ["2", "1", "3", ""], "rate": ["3", "5,5", "", ""]},
    )
    assert good.status_code == 303
    assert _reload(partner.organization).commission_rates == {"1": 5.5, "2": 3.0}


# --- the delivery log --------------------------------------------------------------


def test_delivery_log_retry_and_test_event_reach_the_partner(
    app, client, auth, make_user, receiver
):
    partner = _partner(webhook_url=f"{receiver.url}/hook")
    integration = partner.integration
    order = Order(order_number="CC-2026-00003", partner_organization_id=partner.organization.id)
    db.session.add(order)
    db.session.flush()
    payload = {"event": "status_changed", "chargecars_order_id": "CC-2026-00003"}
    delivery = OutboundDelivery(
        kind=DeliveryKind.PARTNER_CALLBACK,
        partner_integration_id=integration.id,
        order_id=order.id,
        event_type="status_changed",
        webhook_id="msg_retry_test",
        target_url=f"{receiver.url}/hook",
        payload=payload,
        body=json.dumps(payload),
        state=OutboundState.FAILED,
        attempt_count=3,
        max_attempts=3,
        last_status_code=500,
    )
    db.session.add(delivery)
    db.session.flush()
    for number in (1, 2, 3):
        db.session.add(
            DeliveryAttempt(
                delivery_id=delivery.id,
                attempt_number=number,
                status_code=500,
                latency_ms=12.0,
                response_excerpt="upstream broke",
            )
        )
    db.session.commit()
    admin, csrf = _signed_in(client, auth, make_user)
    base = f"/partners/{partner.organization.id}/deliveries"

    log = client.get(base).get_data(as_text=True)
    assert "upstream broke" in log and "CC-2026-00003" in log and "3 of 3" in log

    retried = client.post(
        f"{base}/{delivery.id}/retry", headers={"HX-Request": "true"}, data={"csrf_token": csrf}
    )
    assert retried.status_code == 200
    row = retried.get_data(as_text=True)
    assert f'id="delivery-{delivery.id}"' in row and 'data-state="pending"' in row

    def delivered():
        return _reload(delivery).state == OutboundState.DELIVERED

    drain_until(app, delivered)
    sent = receiver.requests_to("/hook")
    assert len(sent) == 1
    assert sent[0].body == json.dumps(payload).encode()
    assert sent[0].headers["X-Chargecars-Event"] == "status_changed"
    attempt = db.session.scalar(
        sa.select(DeliveryAttempt).where(DeliveryAttempt.attempt_number == 4)
    )
    assert attempt.status_code == 200 and attempt.triggered_by_user_id == admin.id
    log = client.get(base).get_data(as_text=True)
    assert admin.name in log  # who pressed retry is in the attempt list

    again = client.post(f"{base}/{delivery.id}/retry", data={"csrf_token": csrf})
    assert again.status_code == 303  # delivered: refused with a message, nothing queued
    assert "nothing to retry" in client.get(base).get_data(as_text=True)

    tested = client.post(f"{base}/test", data={"csrf_token": csrf})
    assert tested.status_code == 303
    drain_until(app, lambda: len(receiver.requests_to("/hook")) == 2)
    assert receiver.requests_to("/hook")[1].headers["X-Chargecars-Event"] == "test"


def test_a_disabled_endpoint_is_shown_and_can_be_enabled_again(client, auth, make_user):
    partner = _partner(webhook_url="https://partner.example/hook")
    partner.integration.webhook_disabled_at = utcnow()
    partner.integration.webhook_disabled_reason = "the endpoint answered 410 Gone"
    db.session.commit()
    _, csrf = _signed_in(client, auth, make_user)
    page = client.get(f"/partners/{partner.organization.id}").get_data(as_text=True)
    assert "410 Gone" in page and "Re-enable the endpoint" in page
    tested = client.post(
        f"/partners/{partner.organization.id}/deliveries/test", data={"csrf_token": csrf}
    )
    assert tested.status_code == 303
    assert "re-enable it" in client.get(f"/partners/{partner.organization.id}/deliveries").get_data(
        as_text=True
    )

    response = client.post(
        f"/partners/{partner.organization.id}/webhook/reenable", data={"csrf_token": csrf}
    )
    assert response.status_code == 303
    assert _reload(partner.integration).webhook_disabled_at is None


# --- the order page ------------------------------------------------------------------


def test_order_page_moves_the_status_and_shows_refusals(client, auth, make_user):
    partner = _partner()
    order = Order(
        order_number="CC-2026-00009",
        partner_organization_id=partner.organization.id,
        partner_order_id="GRO-9",
        partner_external_references={"partner_order_id": "GRO-9", "dealer_group_id": "WEST"},
        needs_review=True,
        review_reasons=["unmapped product: GRO-X"],
    )
    db.session.add(order)
    db.session.commit()
    _, csrf = _signed_in(client, auth, make_user, "agent")

    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "No article is mapped to product GRO-X" in page and "WEST" in page
    select = page.split('id="to-status"', 1)[1].split("</select>", 1)[0]
    assert '"approved"' in select and '"completed"' not in select

    illegal = client.post(
        f"/orders/{order.order_number}/status",
        data={"csrf_token": csrf, "to_status": "completed", "reason": "skip ahead"},
    )
    assert illegal.status_code == 409
    html = illegal.get_data(as_text=True)
    assert "cannot go from new to completed" in html and "skip ahead" in html
    unknown = client.post(
        f"/orders/{order.order_number}/status", data={"csrf_token": csrf, "to_status": "gone"}
    )
    assert unknown.status_code == 422

    moved = client.post(
        f"/orders/{order.order_number}/status",
        data={"csrf_token": csrf, "to_status": "approved", "reason": "Offerte getekend"},
    )
    assert moved.status_code == 303
    assert _reload(order).status == OrderStatus.APPROVED
    history = client.get(f"/orders/{order.order_number}").get_data(as_text=True)
    assert "Offerte getekend" in history
    assert client.get("/orders/CC-2026-99999").status_code == 404
