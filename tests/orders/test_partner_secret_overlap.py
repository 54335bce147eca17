"""Webhook secret rotation with overlap.

Callbacks are verified as a partner would, with the ``standardwebhooks``
reference library: during the overlap one delivery verifies with the old
secret and with the new one; after it, only with the new one. The inbound
status webhook accepts either secret while the overlap lasts.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.orders.core.status_engine import change_entity_status
from app.orders.deliveries.targets import target_for
from app.orders.partners.keys import (
    DEFAULT_SECRET_OVERLAP,
    end_secret_overlap,
    rotate_webhook_secret,
)
from app.orders.partners.services import create_partner, new_webhook_secret
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import AuditLog, OutboundDelivery, PartnerIntegration
from app.platform.models.enums import DeliveryKind, OrderStatus
from tests.conftest import opened
from tests.fakes.receiver import FakeReceiver
from tests.orders.test_deliveries import move, partner_order
from tests.orders.test_partner_status_webhook import BODY, MAPPING, _order, _post
from tests.support.helpers import csrf_token_from, serving
from tests.support.jobs import drain_until


@pytest.fixture
def app(make_app):
    with opened(make_app(DELIVERY_RETRY_BASE_SECONDS=0.2)) as app:
        yield app


@pytest.fixture
def receiver():
    yield from serving(FakeReceiver(new_webhook_secret()))


def _verifies(secret: str, body: bytes, headers: dict) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


def _rotate(integration: PartnerIntegration, **overlap) -> str:
    secret = rotate_webhook_secret(integration, None, **overlap)
    db.session.commit()
    return secret


def _send_one_callback(app, receiver, order, status) -> bytes:
    before = len(receiver.delivered())
    move(order, status)
    drain_until(app, lambda: len(receiver.events) > before)
    delivered = receiver.delivered()
    assert len(delivered) == before + 1, receiver.rejections
    return delivered[-1]


def test_during_the_overlap_one_callback_verifies_with_the_old_and_the_new_secret(app, receiver):
    old = receiver.secret
    integration, order = partner_order(receiver)
    new = _rotate(integration)
    # The receiver checks the hex signature too, which is the new secret's.
    receiver.secret = new

    event = _send_one_callback(app, receiver, order, OrderStatus.APPROVED)

    assert len(event.headers["Webhook-Signature"].split(" ")) == 2
    assert _verifies(old, event.body, event.headers)
    assert _verifies(new, event.body, event.headers)
    assert not _verifies(new_webhook_secret(), event.body, event.headers)


def test_after_the_overlap_only_the_new_secret_verifies(app, receiver):
    old = receiver.secret
    integration, order = partner_order(receiver)
    new = _rotate(integration)
    receiver.secret = new
    integration.previous_secret_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    event = _send_one_callback(app, receiver, order, OrderStatus.APPROVED)

    assert len(event.headers["Webhook-Signature"].split(" ")) == 1
    assert _verifies(new, event.body, event.headers)
    assert not _verifies(old, event.body, event.headers)


def test_overlap_zero_stops_the_old_secret_at_once(app, receiver):
    old = receiver.secret
    integration, order = partner_order(receiver)
    new = _rotate(integration, overlap=timedelta(0))
    receiver.secret = new
    assert integration.previous_webhook_secret is None

    event = _send_one_callback(app, receiver, order, OrderStatus.APPROVED)

    assert _verifies(new, event.body, event.headers)
    assert not _verifies(old, event.body, event.headers)


def test_a_delivery_made_before_the_rotation_is_signed_with_the_secrets_valid_when_sent(
    app, receiver
):
    old = receiver.secret
    integration, order = partner_order(receiver)
    change_entity_status(order, OrderStatus.APPROVED, "test")
    db.session.flush()
    delivery = db.session.scalar(
        sa.select(OutboundDelivery).where(OutboundDelivery.kind == DeliveryKind.PARTNER_CALLBACK)
    )
    new = rotate_webhook_secret(integration)
    body = json.dumps(delivery.payload).encode()

    headers = target_for(delivery).headers(delivery, body)

    assert _verifies(old, body, headers) and _verifies(new, body, headers)
    assert (
        headers["X-ChargeCars-Signature"]
        != target_for(delivery).headers(delivery, b"x")["X-ChargeCars-Signature"]
    )
    db.session.rollback()


def test_rotating_twice_keeps_only_the_secret_just_replaced(app):
    integration = partner_integration()
    first = integration.webhook_secret
    second = _rotate(integration)
    third = _rotate(integration)
    assert integration.signing_secrets() == [third, second]
    assert first not in integration.signing_secrets()


def test_the_overlap_is_bounded_and_can_be_ended_early(app):
    integration = partner_integration()
    with pytest.raises(ValueError):
        rotate_webhook_secret(integration, overlap=timedelta(hours=-1))
    with pytest.raises(ValueError):
        rotate_webhook_secret(integration, overlap=timedelta(days=30))
    new = _rotate(integration)
    assert integration.previous_secret_expires_at > utcnow() + DEFAULT_SECRET_OVERLAP - timedelta(
        minutes=1
    )
    end_secret_overlap(integration)
    db.session.commit()
    assert integration.signing_secrets() == [new]
    with pytest.raises(ValueError):
        end_secret_overlap(integration)
    actions = list(
        db.session.scalars(
            sa.select(AuditLog.action)
            .where(AuditLog.record_id == integration.id)
            .order_by(AuditLog.created_at)
        )
    )
    assert actions == ["WEBHOOK_SECRET_ROTATED", "WEBHOOK_SECRET_OVERLAP_ENDED"]


def partner_integration() -> PartnerIntegration:
    made = create_partner("Volvo Dealers")
    made.integration.status_mapping = MAPPING
    db.session.commit()
    return made.integration


# --- the inbound status webhook -----------------------------------------------------


@pytest.fixture
def partner(app):
    made = create_partner("Volvo Dealers")
    made.integration.status_mapping = MAPPING
    db.session.commit()
    return made


def test_the_status_webhook_accepts_either_secret_during_the_overlap(client, partner):
    old = partner.integration.webhook_secret
    _order(partner)
    new = _rotate(partner.integration)

    assert _post(client, partner, secret=old).status_code == 200
    assert _post(client, partner, dict(BODY, status="ON_HOLD"), secret=new).status_code == 200

    partner.integration.previous_secret_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    refused = _post(client, partner, secret=old)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "invalid_signature"
    assert _post(client, partner, secret=new).status_code == 200


# --- the admin form -------------------------------------------------------------------


def test_the_admin_form_rotates_with_the_overlap_asked(client, auth, make_user, partner):
    admin = make_user("admin")
    auth.login(admin.email)
    page = client.get(f"/partners/{partner.organization.id}")
    csrf = csrf_token_from(page.get_data(as_text=True))
    old = partner.integration.webhook_secret

    answer = client.post(
        f"/partners/{partner.organization.id}/webhook/secret",
        data={"csrf_token": csrf, "overlap_hours": "2"},
    )

    assert answer.status_code == 201 and answer.headers["Cache-Control"] == "no-store"
    db.session.expire_all()
    integration = db.session.get(PartnerIntegration, partner.integration.id)
    assert integration.previous_webhook_secret == old
    left = integration.previous_secret_expires_at - utcnow()
    assert timedelta(hours=1, minutes=58) < left <= timedelta(hours=2)
    assert 'data-testid="secret-overlap"' in client.get(
        f"/partners/{partner.organization.id}"
    ).get_data(as_text=True)

    bad = client.post(
        f"/partners/{partner.organization.id}/webhook/secret",
        data={"csrf_token": csrf, "overlap_hours": "lots"},
    )
    assert bad.status_code == 422 and 'data-field="overlap_hours"' in bad.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PartnerIntegration, partner.integration.id).previous_webhook_secret == old
