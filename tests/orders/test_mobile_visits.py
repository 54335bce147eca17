"""``/m/`` for an order of more than one visit: each visit on its own day, tapped on its own.

The order stays in progress between its visits: the first visit's start starts it,
its last visit's completion completes it, and a visit done in between tells the
partner ``visit_completed`` and moves the order's day and technician to the next.
"""

from __future__ import annotations

import io
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from app.orders.deliveries.partner_events import EVENT_NAMES
from app.orders.mobile.services import local_today
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    AuditLog,
    Order,
    OutboundDelivery,
    PendingVisitMove,
    Visit,
    VisitSignature,
    VisitTechnician,
)
from app.platform.models.enums import DeliveryKind, OrderStatus
from app.platform.models.planning import MISSING_PART, SECOND_DAY
from tests.support.mobile_support import signature_png, visit
from tests.support.partner_support import make_partner

HTMX = {"HX-Request": "true"}
DUTCH = {"Accept-Language": "nl-NL,nl;q=0.9"}


def _two_day_order(first_lead, second_lead, *, with_partner: bool = True) -> Order:
    """An order planned on two days: today 08:00–12:00, tomorrow 13:00–17:00 (moved there)."""
    fields = {}
    if with_partner:
        # Nothing listens at the URL: the callbacks are written, not delivered.
        partner = make_partner(
            webhook_url="http://127.0.0.1:9/hooks", webhook_events=list(EVENT_NAMES)
        )
        fields = {"partner_organization_id": partner.organization.id, "partner_order_id": "GRO-7"}
    order = visit(first_lead, **fields)
    today = local_today()
    plans = (
        (1, None, today, time(8), time(12), "Alfen Eve Single\nKabel 10 m", "Eerst de meterkast"),
        (
            2,
            SECOND_DAY,
            today + timedelta(days=1),
            time(13),
            time(17),
            "Graafschop",
            "Sleuf dichten",
        ),
    )
    for number, purpose, day, start, end, materials, notes in plans:
        row = Visit(
            order_id=order.id,
            number=number,
            purpose=purpose,
            scheduled_date=day,
            window_start=start,
            window_end=end,
            materials=materials,
            technician_notes=notes,
            planned_at=utcnow(),
            previous_date=today + timedelta(days=3) if number == 2 else None,
            version=1,
        )
        lead = first_lead if number == 1 else second_lead
        row.crew.append(VisitTechnician(technician_id=lead.id, is_lead=True))
        db.session.add(row)
    db.session.commit()
    return order


def _on_day(monkeypatch, day) -> None:
    """The phone's clock on ``day`` (tomorrow: the second visit's day)."""
    for module in ("app.orders.mobile.web.routes", "app.orders.mobile.answers"):
        monkeypatch.setattr(f"{module}.local_today", lambda: day)


def _sign_in(auth, user):
    auth.login(user.email)
    return auth.csrf_token("/m/")


def _tap(client, token, order, tap, number, **extra):
    data = {"tap": tap, "csrf_token": token, "confirmed": "1"}
    if number is not None:
        data["visit_number"] = str(number)
    data.update(extra)
    return client.post(f"/m/visits/{order.id}/status", data=data, headers=HTMX)


def _callbacks(order) -> list[str]:
    return [
        delivery.payload["event"]
        for delivery in db.session.scalars(
            sa.select(OutboundDelivery)
            .where(OutboundDelivery.kind == DeliveryKind.PARTNER_CALLBACK)
            .order_by(OutboundDelivery.created_at)
        )
        if delivery.payload.get("partner_order_id") == order.partner_order_id
    ]


def _cards(page: str) -> list[str]:
    return page.split('data-testid="visit"')[1:]


def test_each_visit_shows_on_its_own_day_with_its_own_plan(client, auth, make_user, monkeypatch):
    tech = make_user("technician")
    order = _two_day_order(tech, tech, with_partner=False)
    _sign_in(auth, tech)

    first_day = client.get("/m/").get_data(as_text=True)
    (card,) = _cards(first_day)
    assert "Visit 1 of 2" in card and "second day" not in card
    assert "08:00–12:00" in card and "13:00" not in card
    assert "Kabel 10 m" in card and "Eerst de meterkast" in card
    assert "Graafschop" not in card and "Sleuf dichten" not in card
    assert 'name="visit_number" value="1"' in card
    for label in ("On the way", "Started", "Completed"):
        assert f">{label}</button>" in card

    # The next day, while the order's own day is still the first one's.
    _on_day(monkeypatch, local_today() + timedelta(days=1))
    second_day = client.get("/m/").get_data(as_text=True)
    (card,) = _cards(second_day)
    assert "Visit 2 of 2 · second day" in card
    assert "13:00–17:00" in card and "08:00" not in card
    assert "Graafschop" in card and "Sleuf dichten" in card and "Kabel 10 m" not in card
    # Its own plan change: moved from three days ahead.
    assert 'data-testid="visit-plan-change">Moved from' in card
    # The first visit is not done: nothing to tap on the second yet.
    assert "</button>" not in card.split('class="m-details"')[0]
    db.session.expire_all()
    assert db.session.get(Order, order.id).scheduled_date == local_today()

    dutch = client.get("/m/", headers=DUTCH).get_data(as_text=True)
    assert "Bezoek 2 van 2 · tweede dag" in dutch


def test_a_visit_on_another_technicians_crew_day_is_theirs_alone(client, auth, make_user):
    tech = make_user("technician")
    colleague = make_user("technician")
    _two_day_order(tech, colleague, with_partner=False)
    _sign_in(auth, colleague)

    # Tomorrow's visit is the colleague's; today's (the order's current one) is not.
    assert _cards(client.get("/m/").get_data(as_text=True)) == []


def test_completing_the_first_visit_leaves_the_order_in_progress(
    client, auth, make_user, monkeypatch
):
    tech = make_user("technician")
    colleague = make_user("technician")
    order = _two_day_order(tech, colleague)
    token = _sign_in(auth, tech)

    assert _tap(client, token, order, "started", 1).status_code == 200
    completed = _tap(client, token, order, "completed", 1)
    assert completed.status_code == 200
    card = completed.get_data(as_text=True)
    assert "visit 1 completed; the order goes on with visit 2" in card
    assert 'data-testid="visit-status">visit done<' in card

    db.session.expire_all()
    order = db.session.get(Order, order.id)
    first, second = order.visits
    assert order.status == OrderStatus.IN_PROGRESS and order.completed_at is None
    assert first.started_at is not None and first.completed_at is not None
    assert second.completed_at is None
    # The order's day and technician are its next visit's now.
    assert order.scheduled_date == second.scheduled_date
    assert order.assigned_technician_id == colleague.id
    assert _callbacks(order) == ["installation_started", "visit_completed"]
    done = db.session.scalar(
        sa.select(OutboundDelivery).where(
            OutboundDelivery.payload["event"].as_string() == "visit_completed"
        )
    )
    assert done.payload["visit"]["number"] == 1 and done.payload["status"] == "IN_PROGRESS"

    # The technician still sees their day's card (done), though the order is the colleague's now.
    page = client.get("/m/").get_data(as_text=True)
    (card,) = _cards(page)
    assert "Visit 1 of 2" in card and "visit done" in card and ">Completed</button>" not in card
    assert client.get(f"/m/visits/{order.id}/card", headers=HTMX).status_code == 200
    # A replayed or stale tap on the first visit changes nothing.
    again = _tap(client, token, order, "completed", 1, expected_status="in_progress")
    assert again.status_code == 409
    assert "visit 1 of CC-2026-00042 is already completed" in again.get_data(as_text=True)


def test_the_second_day_starts_and_completes_the_order(client, auth, make_user, monkeypatch):
    tech = make_user("technician")
    colleague = make_user("technician")
    order = _two_day_order(tech, colleague)
    token = _sign_in(auth, tech)
    _tap(client, token, order, "started", 1)
    _tap(client, token, order, "completed", 1)

    _on_day(monkeypatch, local_today() + timedelta(days=1))
    auth.logout()
    token = _sign_in(auth, colleague)
    page = client.get("/m/").get_data(as_text=True)
    (card,) = _cards(page)
    assert "Visit 2 of 2 · second day" in card
    for label in ("On the way", "Started", "Completed"):
        assert f">{label}</button>" in card

    started = _tap(client, token, order, "started", 2, expected_status="in_progress")
    assert started.status_code == 200
    assert ">Completed</button>" in started.get_data(as_text=True)
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.IN_PROGRESS and order.visits[1].started_at is not None
    # No second installation_started, no status move.
    assert _callbacks(order) == ["installation_started", "visit_completed"]
    # Started once: a second tap is refused.
    assert _tap(client, token, order, "started", 2).status_code == 422

    completed = _tap(client, token, order, "completed", 2, expected_status="in_progress")
    assert completed.status_code == 200
    assert "CC-2026-00042: visit completed." in completed.get_data(as_text=True)
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.COMPLETED
    assert all(v.completed_at is not None for v in order.visits)
    assert _callbacks(order) == [
        "installation_started",
        "visit_completed",
        "installation_completed",
    ]


def test_return_visit_needed_adds_an_unplanned_visit(client, auth, make_user):
    tech = make_user("technician")
    order = visit(
        tech,
        partner_organization_id=make_partner(
            webhook_url="http://127.0.0.1:9/hooks", webhook_events=list(EVENT_NAMES)
        ).organization.id,
        partner_order_id="GRO-8",
    )
    token = _sign_in(auth, tech)
    # Planned without visit rows (a synced work order): its card names no visit.
    _tap(client, token, order, "started", None)

    # Asked before "Completed": the dialog offers the return visit and its reasons.
    dialog = client.post(
        f"/m/visits/{order.id}/status",
        data={"tap": "completed", "csrf_token": token},
        headers=HTMX,
    ).get_data(as_text=True)
    assert 'data-testid="return-visit"' in dialog
    for reason in ("second_day", "missing_part", "meter_box"):
        assert f'name="return_purpose" value="{reason}"' in dialog

    refused = _tap(client, token, order, "completed", None, return_purpose="teleport")
    assert refused.status_code == 422
    assert "Choose why a return visit is needed." in refused.get_data(as_text=True)

    answer = _tap(client, token, order, "completed", None, return_purpose=MISSING_PART)
    assert answer.status_code == 200
    assert "the planner will plan the return visit" in answer.get_data(as_text=True)

    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.IN_PROGRESS
    first, second = order.visits
    assert first.completed_at is not None
    assert (first.scheduled_date, first.technician_ids) == (local_today(), [tech.id])
    assert (second.number, second.purpose, second.scheduled_date) == (2, MISSING_PART, None)
    assert second.completed_at is None and second.crew == []
    # Not planned yet: the order has no day or technician until the planner plans it.
    assert order.scheduled_date is None and order.assigned_technician_id is None
    assert _callbacks(order) == ["installation_started", "visit_completed"]
    assert db.session.scalar(
        sa.select(AuditLog).where(AuditLog.record_id == order.id, AuditLog.action == "VISIT_ADDED")
    )
    # The technician still reads the order's card and conversation.
    assert client.get(f"/m/visits/{order.id}/card", headers=HTMX).status_code == 200
    assert client.get(f"/m/visits/{order.id}/conversation").status_code == 200


def test_an_order_done_gets_no_return_visit(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech, status=OrderStatus.COMPLETED)
    token = _sign_in(auth, tech)

    refused = client.post(
        f"/m/visits/{order.id}/status",
        data={
            "tap": "completed",
            "csrf_token": token,
            "confirmed": "1",
            "return_purpose": SECOND_DAY,
        },
        headers=HTMX,
    )
    assert refused.status_code == 422
    assert "Can&#39;t mark CC-2026-00042 completed: the order is completed." in refused.get_data(
        as_text=True
    )
    assert db.session.scalars(sa.select(Visit).where(Visit.order_id == order.id)).all() == []


@pytest.mark.parametrize("undo_seconds", [30])
def test_a_held_completion_keeps_its_visit(app, client, auth, make_user, undo_seconds):
    """Held for its Undo, "Completed" on visit 1 completes visit 1 when it goes through,
    and not visit 2 when visit 1 was completed on another device meanwhile."""
    from app.orders.mobile.pending import apply_move

    tech = make_user("technician")
    order = _two_day_order(tech, tech)
    token = _sign_in(auth, tech)
    _tap(client, token, order, "started", 1)
    app.config["VISIT_UNDO_SECONDS"] = undo_seconds
    try:
        _tap(client, token, order, "completed", 1, expected_status="in_progress")
    finally:
        app.config["VISIT_UNDO_SECONDS"] = 0
    move = db.session.scalar(sa.select(PendingVisitMove))
    assert (move.visit_number, move.return_purpose) == (1, None)

    # Visit 1 completed meanwhile (another device), the order still in progress.
    _tap(client, token, order, "completed", 1, expected_status="in_progress")
    db.session.execute(sa.update(PendingVisitMove).values(apply_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    apply_move(str(move.id))

    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == OrderStatus.IN_PROGRESS
    assert order.visits[1].completed_at is None
    move = db.session.get(PendingVisitMove, move.id)
    assert (
        move.state == "refused" and "visit 1 of CC-2026-00042 is already completed" in move.outcome
    )


def test_each_visit_is_signed_for_on_its_own(client, auth, make_user, monkeypatch):
    tech = make_user("technician")
    order = _two_day_order(tech, tech, with_partner=False)
    token = _sign_in(auth, tech)

    def sign(number, name):
        return client.post(
            f"/m/visits/{order.id}/signature",
            data={
                "csrf_token": token,
                "signer_name": name,
                "visit_number": str(number),
                "signature": (io.BytesIO(signature_png()), "handtekening.png"),
            },
            content_type="multipart/form-data",
            headers=HTMX,
        )

    _tap(client, token, order, "started", 1)
    assert sign(1, "Jan Jansen").status_code == 200
    # A replay of day one's signature stores nothing more.
    again = sign(1, "Iemand Anders")
    assert "already signed" in again.get_data(as_text=True)
    _tap(client, token, order, "completed", 1)

    _on_day(monkeypatch, local_today() + timedelta(days=1))
    _tap(client, token, order, "started", 2)
    # Day two's "Completed?" dialog asks for a signature again.
    asked = client.post(
        f"/m/visits/{order.id}/status",
        data={"tap": "completed", "csrf_token": token, "visit_number": "2"},
        headers=HTMX,
    ).get_data(as_text=True)
    assert 'data-testid="signature-canvas"' in asked and 'data-testid="signed"' not in asked
    assert sign(2, "Marie Jansen").status_code == 200
    # A visit the order does not have is refused by name.
    wrong = sign(7, "Jan Jansen")
    assert wrong.status_code == 422 and "no such visit" in wrong.get_data(as_text=True)

    signed = db.session.scalars(
        sa.select(VisitSignature).order_by(VisitSignature.visit_number)
    ).all()
    assert [(s.visit_number, s.signer_name) for s in signed] == [
        (1, "Jan Jansen"),
        (2, "Marie Jansen"),
    ]

    # The desk's order page shows both, each under its visit.
    auth.logout()
    agent = make_user("agent")
    auth.login(agent.email)
    shown = client.get(f"/orders/{order.order_number}").get_data(as_text=True)
    assert "Customer signatures" in shown
    assert shown.count('data-testid="order-signature-visit"') == 2
    assert "Visit 1 of 2" in shown and "Visit 2 of 2" in shown
    assert "Signed by Jan Jansen" in shown and "Signed by Marie Jansen" in shown
