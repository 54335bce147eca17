"""The order page says one thing about an order: its planning by the order's real
state, the review badge only while review waits, money one way."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest

from app.orders.core.status_engine import change_entity_status
from app.platform.extensions import db
from app.platform.models import LineItem, Order, Visit
from app.platform.models.enums import OrderStatus
from app.platform.transactions import commit
from tests.support.mobile_support import visit

NBSP = "\u00a0"


def _completed_order(agent) -> Order:
    """An order flagged for review at intake, planned on a Saturday, then approved,
    started and completed through the status engine, with a line of € 1.234,50."""
    order = visit(None, number="CC-2026-05801", status=OrderStatus.NEW)
    order.needs_review = True
    order.review_reasons = ["address_unconfirmed"]
    order.total_amount = Decimal("1234.50")
    db.session.add(
        LineItem(
            order_id=order.id,
            description="Laadpaal met installatie",
            quantity=1,
            unit_price=Decimal("1234.50"),
            line_order=3,
        )
    )
    db.session.commit()
    change_entity_status(order, OrderStatus.APPROVED, "checked", actor=agent)
    db.session.add(
        Visit(
            order_id=order.id,
            scheduled_date=date(2026, 11, 28),
            window_start=time(8, 0),
            window_end=time(12, 0),
        )
    )
    for step in (OrderStatus.SCHEDULED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED):
        change_entity_status(order, step, step.value, actor=agent)
    commit()
    return order


def _pages(client, order: Order, language: str) -> tuple[str, str]:
    headers = {"Accept-Language": language}
    page = client.get(f"/orders/{order.order_number}", headers=headers)
    plan = client.get(
        f"/planning/orders/{order.order_number}", headers={**headers, "HX-Request": "true"}
    )
    assert page.status_code == 200 and plan.status_code == 200
    return page.get_data(as_text=True), plan.get_data(as_text=True)


@pytest.mark.parametrize(
    ("language", "amount", "visited", "waiting"),
    [
        (
            "nl",
            f"€{NBSP}1.234,50",
            "Bezocht: zaterdag 28 november 2026",
            "zodra de order is goedgekeurd",
        ),
        ("en", "€1,234.50", "Visited: Saturday 28 November 2026", "once the order is approved"),
    ],
)
def test_a_completed_order_reads_as_done_without_review_badge_and_money_one_way(
    client, auth, make_user, language, amount, visited, waiting
):
    agent = make_user("agent", language=language)
    order = _completed_order(agent)
    auth.login(agent.email)
    page, plan = _pages(client, order, language)

    heading = page.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert "badge-warn" not in heading, heading
    assert waiting not in plan
    assert visited in plan
    # The lines, the total and the invoice write the amount the same way.
    assert f'data-testid="line-price">{amount}<' in page
    assert page.count(amount) >= 3, page
    assert "EUR" not in page and "€ 1234" not in page


def test_a_new_flagged_order_shows_its_badge_and_when_it_is_planned(client, auth, make_user):
    agent = make_user("agent", language="nl")
    order = visit(None, number="CC-2026-05802", status=OrderStatus.NEW)
    order.needs_review = True
    db.session.commit()
    auth.login(agent.email)
    page, plan = _pages(client, order, "nl")
    heading = page.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert 'data-testid="review-badge"' in heading
    assert "Een bezoek wordt ingepland zodra de order is goedgekeurd." in plan
