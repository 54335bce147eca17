"""The order status engine and the order API."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.orders.core import status_engine
from app.orders.core.status_engine import (
    ALLOWED_TRANSITIONS,
    IllegalTransition,
    change_entity_status,
)
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import AuditLog, Order, OrderStatusTransition
from app.platform.models.enums import OrderStatus, TokenKind


def _order(status=OrderStatus.NEW, **fields) -> Order:
    order = Order(order_number=fields.pop("order_number", "CC-2026-00001"), status=status, **fields)
    db.session.add(order)
    db.session.commit()
    return order


def _headers(user):
    _, token = issue_token(TokenKind.PERSONAL, "t", user_id=user.id)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_every_status_has_a_row_and_final_states_are_final():
    assert set(ALLOWED_TRANSITIONS) == set(OrderStatus)
    assert ALLOWED_TRANSITIONS[OrderStatus.COMPLETED] == frozenset()
    assert ALLOWED_TRANSITIONS[OrderStatus.CANCELLED] == frozenset()


def test_a_move_writes_transition_audit_and_runs_hooks(app, make_user, monkeypatch):
    agent = make_user("agent")
    order = _order()
    seen = []
    monkeypatch.setattr(status_engine, "_hooks", lambda: [lambda o, t: seen.append(t.to_status)])
    for step in ("approved", "scheduled", "in_progress", "completed"):
        change_entity_status(order, OrderStatus(step), f"to {step}", {"k": 1}, agent)
    db.session.commit()
    transitions = db.session.scalars(
        sa.select(OrderStatusTransition).order_by(OrderStatusTransition.created_at)
    ).all()
    assert [(t.from_status, t.to_status) for t in transitions] == [
        ("new", "approved"),
        ("approved", "scheduled"),
        ("scheduled", "in_progress"),
        ("in_progress", "completed"),
    ]
    assert order.completed_at is not None
    audits = db.session.scalars(sa.select(AuditLog).where(AuditLog.record_id == order.id)).all()
    assert len(audits) == 4 and audits[0].changed_by_user_id == agent.id
    assert seen == ["approved", "scheduled", "in_progress", "completed"]


def test_illegal_move_is_refused_and_changes_nothing(app):
    order = _order(OrderStatus.COMPLETED)
    with pytest.raises(IllegalTransition, match="from completed to new"):
        change_entity_status(order, OrderStatus.NEW)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(OrderStatusTransition.id))) == 0


def test_api_reads_and_moves_an_order(client, make_user):
    headers = _headers(make_user("agent"))
    order = _order()
    by_number = client.get("/api/orders/CC-2026-00001", headers=headers)
    assert by_number.status_code == 200 and by_number.json["data"]["id"] == str(order.id)
    moved = client.post(
        f"/api/orders/{order.id}/status",
        headers=headers,
        json={"to_status": "approved", "reason": "Offerte getekend"},
    )
    assert moved.status_code == 200
    assert moved.json["data"]["status"] == "approved"
    assert moved.json["data"]["transitions"][-1]["reason"] == "Offerte getekend"


def test_api_errors(client, make_user):
    headers = _headers(make_user("agent"))
    order = _order(OrderStatus.NEW)
    illegal = client.post(
        f"/api/orders/{order.id}/status", headers=headers, json={"to_status": "completed"}
    )
    assert illegal.status_code == 409
    assert illegal.json["error"]["code"] == "illegal_transition"
    unknown = client.post(
        f"/api/orders/{order.id}/status", headers=headers, json={"to_status": "teleported"}
    )
    assert unknown.status_code == 422 and "to_status" in unknown.json["error"]["fields"]
    assert client.get("/api/orders/CC-2026-99999", headers=headers).status_code == 404
    assert client.post(f"/api/orders/{order.id}/status").status_code == 401


def test_technician_moves_only_their_own_visits(client, make_user):
    tech = make_user("technician")
    headers = _headers(tech)
    other = _order(OrderStatus.SCHEDULED, order_number="CC-2026-00002")
    mine = _order(
        OrderStatus.SCHEDULED, order_number="CC-2026-00003", assigned_technician_id=tech.id
    )
    assert (
        client.post(
            f"/api/orders/{other.id}/status", headers=headers, json={"to_status": "in_progress"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/orders/{mine.id}/status", headers=headers, json={"to_status": "in_progress"}
        ).status_code
        == 200
    )
