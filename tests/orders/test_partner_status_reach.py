"""Which of our statuses a partner's own statuses may reach is granted
per partner by an admin (a mapping such as ``CONFIRMED`` → approved, ``DELIVERED`` →
completed), audited, and still bound by the status engine's rules.

Everything from outside: the partner API with the partner's key, the admin's
partner page and audit log through the signed-in browser session, and the
partner status webhook signed with the ``standardwebhooks`` reference library.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from app.platform.extensions import db
from app.platform.models import AuditLog, Order, PartnerIntegration
from app.platform.models.enums import OrderStatus
from tests.support.helpers import csrf_token_from
from tests.support.partner_support import make_partner

PARTNER_TO_OURS = {"CONFIRMED": "approved", "DELIVERED": "completed"}


def _config(client, partner, inbound: dict):
    return client.post(
        f"/api/v1/partners/{partner.id}/integration-config",
        json={"status_mapping": {"partner_to_chargecars": inbound}},
        headers=partner.headers,
    )


def _signed_in_admin(client, auth, make_user) -> str:
    admin = make_user("admin")
    auth.login(admin.email)
    return csrf_token_from(client.get("/inbox").get_data(as_text=True))


def _grant(client, partner, csrf: str, statuses: list[str]):
    return client.post(
        f"/partners/{partner.id}/status-grants",
        data={"csrf_token": csrf, "granted": statuses},
    )


def _status_webhook(client, partner, status: str, partner_order_id: str):
    raw = json.dumps({"partner_order_id": partner_order_id, "status": status})
    msg_id = f"msg_{uuid.uuid4().hex}"
    now = int(time.time())
    signature = Webhook(partner.secret).sign(
        msg_id, datetime.fromtimestamp(now, tz=timezone.utc), raw
    )
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


def _order(partner, status: OrderStatus, partner_order_id: str) -> Order:
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


def _status_of(order: Order) -> OrderStatus:
    db.session.expire_all()
    return db.session.get(Order, order.id).status


def test_by_default_a_partner_mapping_reaches_only_on_hold(client):
    partner = make_partner()
    refused = _config(client, partner, {"CONFIRMED": "approved", "PAUSED": "on_hold"})
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert set(error["fields"]) == {"status_mapping.partner_to_chargecars.CONFIRMED"}
    assert "'approved'" in error["fields"]["status_mapping.partner_to_chargecars.CONFIRMED"]
    assert "on_hold" in error["fields"]["status_mapping.partner_to_chargecars.CONFIRMED"]

    accepted = _config(client, partner, {"PAUSED": "on_hold"})
    assert accepted.status_code == 200, accepted.get_json()


def test_the_partner_api_cannot_grant_itself_more(client):
    partner = make_partner()
    refused = client.post(
        f"/api/v1/partners/{partner.id}/integration-config",
        json={
            "granted_statuses": ["on_hold", "approved", "completed"],
            "status_mapping": {"partner_to_chargecars": PARTNER_TO_OURS},
        },
        headers=partner.headers,
    )
    assert refused.status_code == 422
    fields = refused.get_json()["error"]["fields"]
    assert "set by ChargeCars" in fields["granted_statuses"]
    db.session.expire_all()
    integration = db.session.get(PartnerIntegration, partner.integration.id)
    assert integration.granted_statuses == ["on_hold"]
    assert integration.status_mapping["partner_to_chargecars"] == {
        "ON_HOLD": "on_hold",
        "CANCELLED": "on_hold",
    }


def test_an_admin_grant_lets_the_partners_mapping_move_orders_within_the_engine_rules(
    client, auth, make_user
):
    partner = make_partner()
    csrf = _signed_in_admin(client, auth, make_user)

    granted = _grant(client, partner, csrf, ["on_hold", "approved", "completed"])
    assert granted.status_code == 303
    page = client.get(f"/partners/{partner.id}").get_data(as_text=True)
    grants = page.split('data-testid="status-grants"', 1)[1].split("</fieldset>", 1)[0]
    for status in ("on_hold", "approved", "completed"):
        assert f'value="{status}" checked' in grants
    assert 'value="scheduled" checked' not in grants

    # The partner's own configuration may now reach what was granted, and no more.
    accepted = _config(client, partner, PARTNER_TO_OURS)
    assert accepted.status_code == 200, accepted.get_json()
    data = accepted.get_json()["data"]
    assert data["status_mapping"]["partner_to_chargecars"] == PARTNER_TO_OURS
    assert data["granted_statuses"] == ["approved", "completed", "on_hold"]
    refused = _config(client, partner, {"PLANNED": "scheduled"})
    assert refused.status_code == 422
    assert "'scheduled'" in refused.get_json()["error"]["fields"][
        "status_mapping.partner_to_chargecars.PLANNED"
    ]

    # CONFIRMED approves a new order; DELIVERED completes one under way.
    new = _order(partner, OrderStatus.NEW, "VLV-1")
    confirmed = _status_webhook(client, partner, "CONFIRMED", "VLV-1")
    assert confirmed.status_code == 200, confirmed.get_json()
    assert confirmed.get_json()["data"]["mapped_status"] == "approved"
    assert _status_of(new) == OrderStatus.APPROVED

    under_way = _order(partner, OrderStatus.IN_PROGRESS, "VLV-2")
    delivered = _status_webhook(client, partner, "DELIVERED", "VLV-2")
    assert delivered.status_code == 200, delivered.get_json()
    assert _status_of(under_way) == OrderStatus.COMPLETED

    # The grant is no way round the lifecycle: an approved order is not installed yet.
    illegal = _status_webhook(client, partner, "DELIVERED", "VLV-1")
    assert illegal.status_code == 409
    assert illegal.get_json()["error"]["code"] == "illegal_transition"
    assert _status_of(new) == OrderStatus.APPROVED

    # The grant is in the audit log, in the reader's words, with who made it.
    entry = db.session.scalar(
        sa.select(AuditLog).where(AuditLog.action == "PARTNER_STATUS_GRANTS_CHANGED")
    )
    assert entry.record_id == partner.integration.id
    assert entry.changes["granted_statuses"] == {
        "from": ["on_hold"],
        "to": ["approved", "completed", "on_hold"],
    }
    log = client.get("/admin/audit", query_string={"record": str(entry.record_id)})
    html = log.get_data(as_text=True)
    assert "Partner status reach changed" in html
    assert "Statuses the partner may set" in html


def test_a_grant_still_used_by_the_mapping_is_not_taken_away(client, auth, make_user):
    partner = make_partner()
    csrf = _signed_in_admin(client, auth, make_user)
    assert _grant(client, partner, csrf, ["on_hold", "approved"]).status_code == 303
    assert _config(client, partner, {"CONFIRMED": "approved"}).status_code == 200

    refused = _grant(client, partner, csrf, ["on_hold"])
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'data-field="status_mapping.partner_to_chargecars.CONFIRMED"' in html
    db.session.expire_all()
    integration = db.session.get(PartnerIntegration, partner.integration.id)
    assert integration.granted_statuses == ["approved", "on_hold"]


def test_only_admins_grant(client, auth, make_user):
    partner = make_partner()
    manager = make_user("manager")
    auth.login(manager.email)
    csrf = csrf_token_from(client.get("/inbox").get_data(as_text=True))
    assert _grant(client, partner, csrf, ["on_hold", "completed"]).status_code == 403
    db.session.expire_all()
    assert db.session.get(PartnerIntegration, partner.integration.id).granted_statuses == [
        "on_hold"
    ]
