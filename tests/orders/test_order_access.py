"""Who may read an order: the order API follows the order page."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import Order
from app.platform.models.enums import OrderStatus, TokenKind

DESK = ("agent", "team_lead", "manager", "admin")


def _headers(user) -> dict:
    _, token = issue_token(TokenKind.PERSONAL, "t", user_id=user.id)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _visit(technician, number: str = "CC-2026-00001") -> Order:
    order = Order(
        order_number=number,
        status=OrderStatus.SCHEDULED,
        total_amount=Decimal("1849.00"),
        partner_order_id="GRD-778812",
        assigned_technician_id=technician.id,
    )
    db.session.add(order)
    db.session.commit()
    return order


@pytest.mark.parametrize("role", [*DESK, "technician"])
def test_the_api_answers_as_the_order_page_does(client, auth, make_user, role):
    technician = make_user("technician")
    user = technician if role == "technician" else make_user(role)
    # The technician's own visit: even that order is not theirs to read.
    order = _visit(technician)
    expected = 403 if role == "technician" else 200

    auth.login(user.email)
    assert client.get(f"/orders/{order.order_number}").status_code == expected
    headers = _headers(user)
    for key in (str(order.id), order.order_number):
        response = client.get(f"/api/orders/{key}", headers=headers)
        assert response.status_code == expected, key
        if expected == 403:
            assert response.json["error"]["code"] == "forbidden"
            assert "1849" not in response.get_data(as_text=True)
    # A number that does not exist answers the same to a technician: no probing.
    missing = client.get("/api/orders/CC-2026-99999", headers=headers).status_code
    assert missing == (403 if role == "technician" else 404)


def test_a_technician_moves_their_visit_without_reading_the_order(client, make_user):
    technician = make_user("technician")
    order = _visit(technician)

    response = client.post(
        f"/api/orders/{order.order_number}/status",
        headers=_headers(technician),
        json={"to_status": "in_progress"},
    )

    assert response.status_code == 200, response.json
    assert response.json["data"] == {
        "id": str(order.id),
        "order_number": "CC-2026-00001",
        "status": "in_progress",
        "updated_at": response.json["data"]["updated_at"],
    }
    desk = client.get(f"/api/orders/{order.id}", headers=_headers(make_user("agent")))
    assert desk.json["data"]["total_amount"] == "1849.00"
    assert desk.json["data"]["status"] == "in_progress"


def test_a_technician_cannot_probe_order_numbers_by_moving_them(client, make_user):
    technician = make_user("technician")
    _visit(make_user("technician"), "CC-2026-00002")  # another technician's visit
    headers = _headers(technician)
    answers = {
        number: client.post(
            f"/api/orders/{number}/status", headers=headers, json={"to_status": "in_progress"}
        )
        for number in ("CC-2026-00002", "CC-2026-99999")
    }
    assert {n: r.status_code for n, r in answers.items()} == {
        "CC-2026-00002": 403,
        "CC-2026-99999": 403,
    }
    assert answers["CC-2026-00002"].json == answers["CC-2026-99999"].json
    # The desk, who may read every order, is told which ones do not exist.
    desk = _headers(make_user("agent"))
    missing = client.post("/api/orders/CC-2026-99999/status", headers=desk, json={})
    assert missing.status_code == 404
