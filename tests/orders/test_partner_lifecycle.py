"""A partner's whole order lifecycle, every callback verified.

Intake over the partner API (201, then 200 for the duplicate), status changes
through our JSON API and through the partner's own signed status webhook, and
the callbacks that follow arriving in order at a receiver that checks each one
with the ``standardwebhooks`` reference library and the hex
``X-ChargeCars-Signature``.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from app.orders.partners.services import new_webhook_secret
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import Order, OutboundDelivery
from app.platform.models.enums import OutboundState, TokenKind
from tests.fakes.receiver import FakeReceiver
from tests.support.jobs import drain_until
from tests.support.partner_support import add_articles, line_items_order, make_partner


def _partner_webhook(client, partner, secret: str, body: dict):
    raw = json.dumps(body)
    msg_id = f"msg_{uuid.uuid4().hex}"
    now = int(time.time())
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(now, tz=timezone.utc), raw)
    return client.post(
        f"/api/v1/webhooks/partner-status/{partner.id}",
        data=raw,
        headers={
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(now),
            "webhook-signature": signature,
        },
    )


def test_partner_lifecycle_with_verified_callbacks_in_order(app, client, make_user, fake_pdok):
    secret = new_webhook_secret()
    receiver = FakeReceiver(secret).start()
    try:
        partner = make_partner(
            webhook_url=receiver.url + "/hooks/chargecars",
            webhook_events=["order_created", "status_changed"],
        )
        partner.integration.webhook_secret = secret
        db.session.commit()
        add_articles(partner)

        created = client.post(
            f"/api/v1/partners/{partner.id}/orders",
            json=line_items_order(),
            headers=partner.headers,
        )
        assert created.status_code == 201, created.get_json()
        duplicate = client.post(
            f"/api/v1/partners/{partner.id}/orders",
            json=line_items_order(),
            headers=partner.headers,
        )
        assert duplicate.status_code == 200
        assert duplicate.get_json()["data"] == created.get_json()["data"]
        number = created.get_json()["data"]["chargecars_order_id"]

        agent = make_user("agent")
        _, token = issue_token(TokenKind.PERSONAL, "lifecycle", user_id=agent.id)
        db.session.commit()
        staff = {"Authorization": f"Bearer {token}"}
        for step in ("approved", "scheduled"):
            moved = client.post(
                f"/api/orders/{number}/status", json={"to_status": step}, headers=staff
            )
            assert moved.status_code == 200, moved.get_json()

        # The partner's customer asks to wait; their word is mapped to ours.
        applied = _partner_webhook(
            client,
            partner,
            secret,
            {
                "partner_order_id": "GRO-2026-000123",
                "partner_customer_id": "CUST-456789",
                "status": "ON_HOLD",
                "timestamp": "2026-12-15T08:30:00Z",
                "notes": "Klant wacht op levering van de auto",
            },
        )
        assert applied.status_code == 200, applied.get_json()
        assert applied.get_json()["data"]["mapped_status"] == "on_hold"

        illegal = client.post(
            f"/api/orders/{number}/status", json={"to_status": "completed"}, headers=staff
        )
        assert illegal.status_code == 409
        for step in ("scheduled", "in_progress"):
            moved = client.post(
                f"/api/orders/{number}/status", json={"to_status": step}, headers=staff
            )
            assert moved.status_code == 200, moved.get_json()
        done = client.post(
            f"/api/orders/{number}/status",
            json={
                "to_status": "completed",
                "reason": "Monteur had een extra kabel nodig",
                "partner_note": "Opgeleverd",
            },
            headers=staff,
        )
        assert done.status_code == 200

        drain_until(app, lambda: len(receiver.events) >= 7, timeout=20)
        assert receiver.rejections == []
        seen = [(e.event, e.payload["status"]) for e in receiver.events]
        assert seen == [
            ("order_created", "RECEIVED"),
            ("status_changed", "CONFIRMED"),
            ("status_changed", "PLANNED"),
            ("status_changed", "ON_HOLD"),
            ("status_changed", "PLANNED"),
            ("status_changed", "IN_PROGRESS"),
            ("status_changed", "DELIVERED"),
        ]
        last = receiver.events[-1].payload
        assert last["chargecars_order_id"] == number
        assert last["partner_order_id"] == "GRO-2026-000123"
        assert last["partner_customer_id"] == "CUST-456789"
        assert last["status_details"]["from_status"] == "in_progress"
        assert last["status_details"]["to_status"] == "completed"
        assert last["status_details"]["reason"] == "Opgeleverd"
        assert "kabel" not in json.dumps(last)
        assert last["customer_info"] == {"name": "Jan Janssen", "email": "jan@example.com"}
        assert len({e.webhook_id for e in receiver.events}) == 7

        order = db.session.scalar(sa.select(Order))
        assert [t.to_status for t in order.transitions] == [
            "new",
            "approved",
            "scheduled",
            "on_hold",
            "scheduled",
            "in_progress",
            "completed",
        ]
        partner_step = order.transitions[3]
        assert partner_step.business_context["original_partner_status"] == "ON_HOLD"
        states = db.session.scalars(sa.select(OutboundDelivery.state)).all()
        assert states == [OutboundState.DELIVERED] * 7

        # Polling agrees, in the partner's words.
        poll = client.get(
            f"/api/v1/partners/{partner.id}/orders/GRO-2026-000123/status", headers=partner.headers
        )
        assert poll.get_json()["data"]["status"] == "DELIVERED"
    finally:
        receiver.stop()
