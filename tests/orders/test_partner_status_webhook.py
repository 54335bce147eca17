"""The inbound partner status webhook.

Requests are signed with the ``standardwebhooks`` reference library, so the
verification is checked against the spec rather than against our own signer.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from app.orders.partners.services import create_partner
from app.platform.extensions import db
from app.platform.models import (
    AuditLog,
    InboundWebhookEvent,
    Order,
    OrderStatusTransition,
    PartnerIntegration,
)
from app.platform.models.enums import OrderStatus, ProcessingState
from tests.support.jobs import drain_queues

MAPPING = {
    "chargecars_to_partner": {"in_progress": "IN_PROGRESS", "completed": "DELIVERED"},
    # The default grant: a partner may only put an order on hold (app.orders.partners.grants).
    "partner_to_chargecars": {"ON_HOLD": "on_hold", "CANCELLED": "on_hold"},
}
BODY = {
    "partner_order_id": "VLV-2025-789123",
    "partner_customer_id": "CUST-456789",
    "status": "ON_HOLD",
    "timestamp": "2025-06-01T10:30:00Z",
    "notes": "Customer waits for the car to be delivered",
    "technician_info": {"name": "Partner Tech Team", "phone": "+31612345678"},
}


@pytest.fixture
def partner(app):
    made = create_partner("Volvo Dealers")
    made.integration.status_mapping = MAPPING
    db.session.commit()
    return made


def _order(partner, status=OrderStatus.SCHEDULED, partner_order_id="VLV-2025-789123") -> Order:
    order = Order(
        order_number=f"CC-2026-{uuid.uuid4().int % 100000:05d}",
        status=status,
        partner_organization_id=partner.organization.id,
        partner_order_id=partner_order_id,
        partner_external_references={"partner_order_id": partner_order_id},
    )
    db.session.add(order)
    db.session.commit()
    return order


def _post(client, partner, body=BODY, *, msg_id=None, secret=None, sent_at=None, raw=None):
    raw = raw if raw is not None else json.dumps(body)
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    sent_at = sent_at or datetime.now(timezone.utc)
    signature = Webhook(secret or partner.webhook_secret).sign(msg_id, sent_at, raw)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
        "Content-Type": "application/json",
    }
    return client.post(
        f"/api/v1/webhooks/partner-status/{partner.organization.id}", data=raw, headers=headers
    )


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_signed_update_moves_the_order_and_is_recorded(client, partner):
    order = _order(partner)
    response = _post(client, partner, msg_id="msg_1")
    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert response.json["success"] is True
    assert data["chargecars_order_id"] == order.order_number
    assert data["mapped_status"] == "on_hold"

    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.ON_HOLD
    transition = db.session.get(OrderStatusTransition, uuid.UUID(data["transition_id"]))
    assert (transition.from_status, transition.to_status) == ("scheduled", "on_hold")
    assert transition.transition_reason == (
        "Partner update: Customer waits for the car to be delivered"
    )
    context = transition.business_context
    assert context["partner_source"] is True
    assert context["partner_order_id"] == "VLV-2025-789123"
    assert context["partner_customer_id"] == "CUST-456789"
    assert context["partner_technician"] == {"name": "Partner Tech Team", "phone": "+31612345678"}
    assert context["original_partner_status"] == "ON_HOLD"

    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "PARTNER_STATUS_UPDATE"))
    assert audit.record_id == order.id
    assert audit.changes["partner_status"] == "ON_HOLD"
    assert audit.changes["chargecars_status"] == "on_hold"
    assert db.session.get(PartnerIntegration, partner.integration.id).last_sync_at is not None

    event = db.session.scalar(sa.select(InboundWebhookEvent))
    assert event.source == "partner_status"
    assert event.processing_state == ProcessingState.PROCESSED
    assert event.dedupe_key.endswith(":msg_1")
    assert json.loads(event.raw_body) == BODY


def test_the_same_webhook_id_again_answers_the_first_result_and_changes_nothing(client, partner):
    _order(partner)
    first = _post(client, partner, msg_id="msg_dup")
    second = _post(client, partner, msg_id="msg_dup")
    assert first.status_code == second.status_code == 200
    assert second.json["data"] == first.json["data"]
    assert _count(OrderStatusTransition) == 1
    assert _count(InboundWebhookEvent) == 1
    # The status change and the partner update, once.
    assert _count(sa.select(AuditLog).where(AuditLog.table_name == "orders").subquery()) == 2


def test_a_status_the_order_already_has_is_accepted_without_a_transition(client, partner):
    order = _order(partner, status=OrderStatus.ON_HOLD)
    response = _post(client, partner)
    assert response.status_code == 200
    assert response.json["data"] == {
        "chargecars_order_id": order.order_number,
        "mapped_status": "on_hold",
        "transition_id": None,
    }
    assert _count(OrderStatusTransition) == 0


def test_a_rotating_partner_may_send_several_signatures(client, partner):
    _order(partner)
    msg_id, now = "msg_rot", datetime.now(timezone.utc)
    raw = json.dumps(BODY)
    old = Webhook("whsec_" + "b2xkLXNlY3JldC1vbGQtc2VjcmV0").sign(msg_id, now, raw)
    new = Webhook(partner.webhook_secret).sign(msg_id, now, raw)
    response = client.post(
        f"/api/v1/webhooks/partner-status/{partner.organization.id}",
        data=raw,
        headers={
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": f"{old} {new}",
        },
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "case",
    ["wrong_secret", "stale", "future", "no_headers", "tampered"],
)
def test_unverifiable_requests_are_401_and_store_nothing(client, partner, case):
    order = _order(partner)
    if case == "wrong_secret":
        response = _post(client, partner, secret="whsec_" + "d3Jvbmctc2VjcmV0LXdyb25n")
    elif case == "stale":
        response = _post(client, partner, sent_at=datetime.now(timezone.utc) - timedelta(minutes=6))
    elif case == "future":
        response = _post(client, partner, sent_at=datetime.now(timezone.utc) + timedelta(minutes=6))
    elif case == "no_headers":
        response = client.post(
            f"/api/v1/webhooks/partner-status/{partner.organization.id}", json=BODY
        )
    else:
        raw = json.dumps(BODY)
        now = datetime.now(timezone.utc)
        signature = Webhook(partner.webhook_secret).sign("msg_t", now, raw)
        response = client.post(
            f"/api/v1/webhooks/partner-status/{partner.organization.id}",
            data=raw.replace("ON_HOLD", "CANCELLED"),
            headers={
                "webhook-id": "msg_t",
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": signature,
            },
        )
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_signature"
    assert _count(InboundWebhookEvent) == 0
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.SCHEDULED


def test_signatures_within_five_minutes_either_way_are_accepted(client, partner):
    _order(partner)
    early = _post(client, partner, sent_at=datetime.now(timezone.utc) - timedelta(minutes=4))
    assert early.status_code == 200


def test_unknown_partner_is_404(client, partner):
    for partner_id in (uuid.uuid4(), "not-a-uuid"):
        response = client.post(f"/api/v1/webhooks/partner-status/{partner_id}", json=BODY)
        assert response.status_code == 404
        assert response.json["success"] is False


def test_malformed_json_is_400(client, partner):
    response = _post(client, partner, raw="{not json")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_json"


def test_missing_and_invalid_fields_are_422_naming_them(client, partner):
    response = _post(client, partner, body={"partner_order_id": "", "notes": 12})
    assert response.status_code == 422
    fields = response.json["error"]["fields"]
    assert {"partner_order_id", "status", "notes"} <= set(fields)
    assert _count(InboundWebhookEvent) == 0


def test_an_unknown_order_is_404_and_kept_as_a_failed_event(client, partner):
    _order(partner, partner_order_id="SOMETHING-ELSE")
    response = _post(client, partner)
    assert response.status_code == 404
    assert response.json["error"]["fields"] == {"partner_order_id": "no such order"}
    event = db.session.scalar(sa.select(InboundWebhookEvent))
    assert event.processing_state == ProcessingState.FAILED
    assert "VLV-2025-789123" in event.last_error
    assert _count(OrderStatusTransition) == 0


def test_another_partners_order_is_not_found(client, partner):
    other = create_partner("Other Partner")
    db.session.commit()
    _order(other)
    assert _post(client, partner).status_code == 404


def test_an_unmapped_status_is_422_naming_it_and_can_be_rerun_after_the_fix(
    client, app, partner, make_user, auth
):
    order = _order(partner)
    body = dict(BODY, status="WAITING_FOR_PARTS")
    response = _post(client, partner, body=body, msg_id="msg_unmapped")
    assert response.status_code == 422
    assert "WAITING_FOR_PARTS" in response.json["error"]["message"]
    assert "WAITING_FOR_PARTS" in response.json["error"]["fields"]["status"]
    event = db.session.scalar(sa.select(InboundWebhookEvent))
    assert event.processing_state == ProcessingState.FAILED

    # An admin adds the status to the mapping and re-runs the kept event.
    integration = db.session.get(PartnerIntegration, partner.integration.id)
    integration.status_mapping = {
        **MAPPING,
        "partner_to_chargecars": {
            **MAPPING["partner_to_chargecars"],
            "WAITING_FOR_PARTS": "on_hold",
        },
    }
    db.session.commit()
    admin = make_user("admin")
    auth.login(admin.email)
    token = auth.csrf_token(f"/admin/events/{event.id}")
    rerun = client.post(f"/admin/events/{event.id}/rerun", data={"csrf_token": token})
    assert rerun.status_code == 303
    drain_queues(app)
    db.session.expire_all()
    assert db.session.get(InboundWebhookEvent, event.id).processing_state == (
        ProcessingState.PROCESSED
    )
    assert db.session.get(Order, order.id).status == OrderStatus.ON_HOLD
    # The partner's own retry of that delivery now gets the result, not a second move.
    again = _post(client, partner, body=body, msg_id="msg_unmapped")
    assert again.status_code == 200
    assert again.json["data"]["mapped_status"] == "on_hold"
    assert _count(OrderStatusTransition) == 1


def test_a_retry_after_a_rejection_is_applied_once_the_mapping_allows_it(client, partner):
    _order(partner)
    body = dict(BODY, status="Confirmed-Later")
    assert _post(client, partner, body=body, msg_id="msg_r").status_code == 422
    integration = db.session.get(PartnerIntegration, partner.integration.id)
    integration.status_mapping = {
        **MAPPING,
        "partner_to_chargecars": {**MAPPING["partner_to_chargecars"], "Confirmed-Later": "on_hold"},
    }
    db.session.commit()
    retried = _post(client, partner, body=body, msg_id="msg_r")
    assert retried.status_code == 200
    assert _count(InboundWebhookEvent) == 1
    event = db.session.scalar(sa.select(InboundWebhookEvent))
    db.session.refresh(event)
    assert event.processing_state == ProcessingState.PROCESSED


def test_status_matching_ignores_case(client, partner):
    _order(partner)
    response = _post(client, partner, body=dict(BODY, status="on_hold"))
    assert response.status_code == 200
    assert response.json["data"]["mapped_status"] == "on_hold"


def test_an_illegal_move_is_409_and_changes_nothing(client, partner):
    order = _order(partner, status=OrderStatus.COMPLETED)
    response = _post(client, partner)
    assert response.status_code == 409
    assert "from completed to on_hold" in response.json["error"]["message"]
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.COMPLETED
    assert _count(OrderStatusTransition) == 0
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(AuditLog.action == "PARTNER_STATUS_UPDATE")
        )
        == 0
    )


# From each status, a stored mapping to a status only we set,
# where the status engine itself would allow the move.
ONLY_OURS = {
    OrderStatus.COMPLETED: OrderStatus.IN_PROGRESS,
    OrderStatus.IN_PROGRESS: OrderStatus.SCHEDULED,
    OrderStatus.SCHEDULED: OrderStatus.APPROVED,
    OrderStatus.APPROVED: OrderStatus.NEW,
    OrderStatus.QUOTE_SENT: OrderStatus.NEW,
    OrderStatus.NEW: OrderStatus.QUOTE_SENT,
    OrderStatus.CANCELLED: OrderStatus.SCHEDULED,
}


def test_every_status_but_on_hold_is_ours_to_set():
    assert set(ONLY_OURS) | {OrderStatus.ON_HOLD} == set(OrderStatus)


@pytest.mark.parametrize("target", list(ONLY_OURS), ids=lambda status: status.value)
def test_an_update_mapped_to_a_status_only_we_set_is_refused_and_changes_nothing(
    client, partner, target
):
    # The mapping was stored before the rule (or by hand): the update is still refused.
    integration = db.session.get(PartnerIntegration, partner.integration.id)
    integration.status_mapping = {"partner_to_chargecars": {"PARTNER_WORD": target.value}}
    db.session.commit()
    order = _order(partner, status=ONLY_OURS[target])
    response = _post(client, partner, body=dict(BODY, status="PARTNER_WORD"))
    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "status_not_allowed"
    assert "is not granted to this partner" in error["fields"]["status"]
    assert "on_hold" in error["message"]
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == ONLY_OURS[target]
    assert _count(OrderStatusTransition) == 0
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(AuditLog.action == "PARTNER_STATUS_UPDATE")
        )
        == 0
    )
    # Kept as a failed event, for an admin to see.
    event = db.session.scalar(sa.select(InboundWebhookEvent))
    assert event.processing_state == ProcessingState.FAILED
