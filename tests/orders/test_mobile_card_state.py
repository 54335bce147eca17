"""A visit's card on the server: it shows the visit as it is, and a
held tap whose window has closed goes through when the phone fetches the card."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Order, OrderStatusTransition, PendingVisitMove
from app.platform.models.enums import OrderStatus, TemplateCategory
from app.platform.models.planning import Visit
from app.platform.models.visits import APPLIED
from tests.conftest import opened
from tests.support import factories
from tests.support.mobile_support import visit

HTMX = {"HX-Request": "true"}


@pytest.fixture
def app(make_app):
    # No worker: only the card's own fetch can carry a held tap out.
    with opened(make_app(start_embedded_worker=False, VISIT_UNDO_SECONDS=30)) as app:
        yield app


def _planned_visit(tech) -> Order:
    factories.template(
        "Hoi {{customer_first_name}}, ik kom vandaag bij u langs.",
        template_name="technician_visit_reminder",
        whatsapp_template_name="technician_visit_reminder",
        display_name="Herinnering bezoek",
        template_category=TemplateCategory.INSTALLATION_SCHEDULING,
    )
    order = visit(tech)
    db.session.add(
        Visit(order_id=order.id, scheduled_date=order.scheduled_date, planned_at=utcnow())
    )
    db.session.commit()
    return order


def _card(client, order) -> str:
    answer = client.get(f"/m/visits/{order.id}/card", headers=HTMX)
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def _offers_the_open_visit(card: str) -> bool:
    return 'class="m-photo"' in card or "m-replies" in card


def _hold_and_close(client, token, order, tap: str, status: str) -> None:
    held = client.post(
        f"/m/visits/{order.id}/status",
        data={"csrf_token": token, "tap": tap, "expected_status": status, "confirmed": "1"},
        headers=HTMX,
    )
    assert held.status_code == 200 and 'data-testid="visit-pending"' in held.get_data(as_text=True)
    db.session.execute(
        sa.update(PendingVisitMove)
        .where(PendingVisitMove.order_id == order.id)
        .values(apply_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


def test_a_completed_visit_offers_no_photo_no_reply_and_is_not_newly_planned(
    client, auth, make_user
):
    tech = make_user("technician")
    order = _planned_visit(tech)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")

    before = _card(client, order)
    assert "Newly planned" in before
    assert 'class="m-photo"' in before and "Herinnering bezoek" in before

    _hold_and_close(client, token, order, "completed", "scheduled")
    card = _card(client, order)

    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.COMPLETED
    assert 'data-testid="visit-status">completed<' in card
    assert "CC-2026-00042: visit completed." in card
    assert 'data-testid="visit-pending"' not in card
    assert "Newly planned" not in card
    assert not _offers_the_open_visit(card), card
    assert "Herinnering bezoek" not in card
    # The day page shows the same card.
    day = client.get("/m/").get_data(as_text=True)
    assert "Newly planned" not in day and 'class="m-photo"' not in day
    assert "Herinnering bezoek" not in day


def test_a_started_visit_still_offers_a_photo_but_is_no_longer_newly_planned(
    client, auth, make_user
):
    tech = make_user("technician")
    order = _planned_visit(tech)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")
    _hold_and_close(client, token, order, "started", "scheduled")
    card = _card(client, order)
    assert 'data-testid="visit-status">in progress<' in card
    assert 'class="m-photo"' in card
    assert "Newly planned" not in card


def test_fetching_the_card_after_the_window_applies_the_held_tap_once(client, auth, make_user):
    tech = make_user("technician")
    order = _planned_visit(tech)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")
    _hold_and_close(client, token, order, "started", "scheduled")

    first = _card(client, order)
    second = _card(client, order)
    assert "CC-2026-00042: visit started." in first
    assert (
        'data-testid="visit-pending"' not in first and 'data-testid="visit-pending"' not in second
    )
    db.session.expire_all()
    assert db.session.scalar(sa.select(PendingVisitMove.state)) == APPLIED
    transitions = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OrderStatusTransition)
        .where(OrderStatusTransition.order_id == order.id)
    )
    assert transitions == 1


def test_a_card_fetched_inside_the_window_still_waits(client, auth, make_user):
    tech = make_user("technician")
    order = _planned_visit(tech)
    auth.login(tech.email)
    token = auth.csrf_token("/m/")
    client.post(
        f"/m/visits/{order.id}/status",
        data={"csrf_token": token, "tap": "started", "expected_status": "scheduled"},
        headers=HTMX,
    )
    card = _card(client, order)
    assert 'data-testid="visit-pending"' in card
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == OrderStatus.SCHEDULED
