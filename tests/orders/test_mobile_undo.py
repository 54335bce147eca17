"""Status taps on the server: "Completed" asks first, a stale card is refused,
and status taps and quick replies wait out an undo window in which nothing leaves."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.orders.core.status_engine import change_entity_status
from app.orders.mobile.pending import apply_due_moves, apply_move
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    Order,
    OrderStatusTransition,
    OutboundDelivery,
    PendingVisitMove,
    SandboxSend,
)
from app.platform.models.enums import DeliveryKind, MessageType, OrderStatus, TemplateCategory
from app.platform.models.visits import APPLIED, PENDING, UNDONE
from app.platform.transactions import commit
from tests.conftest import opened
from tests.support import factories
from tests.support.helpers import race, raised
from tests.support.mobile_support import visit
from tests.support.partner_support import make_partner

HTMX = {"HX-Request": "true"}
JSON = {"Accept": "application/json"}


@pytest.fixture
def app(make_app):
    # A window long enough that a test never sees it pass by itself; the tests
    # move ``apply_at`` into the past to close it. No worker runs the apply job.
    with opened(make_app(start_embedded_worker=False, VISIT_UNDO_SECONDS=30)) as app:
        yield app


def _sign_in(auth, user):
    auth.login(user.email)
    return auth.csrf_token("/m/")


def _post(client, order, token, headers=None, **data):
    return client.post(
        f"/m/visits/{order.id}/status", data={"csrf_token": token, **data}, headers=headers or {}
    )


def _partner_visit(tech):
    partner = make_partner(webhook_url="http://127.0.0.1:9/hooks")  # nothing listens
    factories.template(
        "De status van uw bestelling {{order_id}} is gewijzigd naar: {{order_status}}.",
        template_name="order_status_update",
        whatsapp_template_name="order_status_update",
    )
    return visit(tech, partner_organization_id=partner.organization.id, partner_order_id="GRO-7")


def _left_the_building() -> dict:
    """Everything that would reach a partner or a customer."""
    db.session.expire_all()
    return {
        "callbacks": db.session.scalar(
            sa.select(sa.func.count()).where(OutboundDelivery.kind == DeliveryKind.PARTNER_CALLBACK)
        ),
        "outbound": db.session.scalar(
            sa.select(sa.func.count()).where(
                sa.or_(
                    CommunicationMessage.message_type.in_(
                        (MessageType.OUTGOING, MessageType.AUTO_RESPONSE)
                    ),
                    # The customer's milestone notice is a system message of its own.
                    CommunicationMessage.extra["milestone"].as_string().is_not(None),
                )
            )
        ),
        "sandbox": db.session.scalar(sa.select(sa.func.count()).select_from(SandboxSend)),
    }


NOTHING = {"callbacks": 0, "outbound": 0, "sandbox": 0}


def _close_window(order) -> None:
    db.session.execute(
        sa.update(PendingVisitMove)
        .where(PendingVisitMove.order_id == order.id)
        .values(apply_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


def _status(order) -> OrderStatus:
    db.session.expire_all()
    return db.session.get(Order, order.id).status


def test_completed_asks_first_on_a_page_of_its_own_without_javascript(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech)
    token = _sign_in(auth, tech)
    asked = _post(client, order, token, tap="completed", expected_status="scheduled")
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    assert "Mark CC-2026-00042 completed?" in page
    assert "goes from scheduled straight to completed" in page
    assert 'name="confirmed" value="1"' in page and 'data-testid="confirm"' in page
    assert _status(order) == OrderStatus.SCHEDULED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingVisitMove)) == 0


def test_completed_asks_in_a_dialog_on_the_card_with_htmx(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech)
    token = _sign_in(auth, tech)
    answer = _post(client, order, token, HTMX, tap="completed", expected_status="scheduled")
    assert answer.status_code == 200
    card = answer.get_data(as_text=True)
    assert card.lstrip().startswith("<li") and '<dialog class="m-confirm" open' in card
    assert _status(order) == OrderStatus.SCHEDULED
    # A script asking for JSON is told to confirm (428) and nothing is held.
    scripted = _post(client, order, token, JSON, tap="completed", expected_status="scheduled")
    assert scripted.status_code == 428
    assert scripted.json["confirm"] == "Mark CC-2026-00042 completed?"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingVisitMove)) == 0


def test_started_needs_no_confirmation(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech)
    token = _sign_in(auth, tech)
    answer = _post(client, order, token, HTMX, tap="started", expected_status="scheduled")
    assert answer.status_code == 200
    assert "m-confirm" not in answer.get_data(as_text=True)
    assert db.session.scalar(sa.select(PendingVisitMove.tap)) == "started"


def test_a_stale_card_is_refused_naming_the_status_and_who_changed_it(client, auth, make_user):
    tech = make_user("technician")
    sarah = make_user("agent")
    sarah.name = "Sarah"
    order = visit(tech)
    change_entity_status(order, OrderStatus.IN_PROGRESS, "on site", {}, sarah)
    change_entity_status(order, OrderStatus.COMPLETED, "done", {}, sarah)
    commit()
    token = _sign_in(auth, tech)
    form = {"tap": "completed", "expected_status": "scheduled", "confirmed": "1"}

    refused = _post(client, order, token, HTMX, **form)
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert "Not changed: the visit is already &#39;completed&#39; (changed by Sarah at " in text

    as_json = _post(client, order, token, JSON, **form)
    assert as_json.status_code == 409
    assert as_json.json["status"] == "completed"
    assert as_json.json["error"].startswith("Not changed: the visit is already 'completed'")

    plain = _post(client, order, token, **form)
    assert plain.status_code == 303
    assert "Not changed: the visit is already" in client.get("/m/").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingVisitMove)) == 0


def test_undo_inside_the_window_keeps_the_status_and_nothing_leaves(client, auth, make_user):
    tech = make_user("technician")
    order = _partner_visit(tech)
    token = _sign_in(auth, tech)
    form = {"tap": "completed", "expected_status": "scheduled", "confirmed": "1"}
    held = _post(client, order, token, HTMX, **form)
    assert held.status_code == 200
    card = held.get_data(as_text=True)
    assert 'data-testid="visit-pending"' in card and ">Undo</button>" in card
    assert "Completed: saved in <span data-seconds>" in card
    assert _status(order) == OrderStatus.SCHEDULED
    assert _left_the_building() == NOTHING

    # A second tap while one waits is refused, not queued behind it.
    again = _post(client, order, token, HTMX, tap="started", expected_status="scheduled")
    assert again.status_code == 422
    assert "already waiting" in again.get_data(as_text=True)

    move_id = db.session.scalar(sa.select(PendingVisitMove.id))
    undone = client.post(
        f"/m/visits/{order.id}/undo", data={"csrf_token": token, "move_id": move_id}, headers=HTMX
    )
    assert undone.status_code == 200
    assert "Undone: the visit was not changed." in undone.get_data(as_text=True)

    _close_window(order)
    assert apply_move(str(move_id)) is None and apply_due_moves() == 0
    assert db.session.get(PendingVisitMove, move_id).state == UNDONE
    assert _status(order) == OrderStatus.SCHEDULED
    assert _left_the_building() == NOTHING


def test_after_the_window_the_move_goes_through_the_status_engine(client, auth, make_user):
    tech = make_user("technician")
    order = _partner_visit(tech)
    token = _sign_in(auth, tech)
    _post(client, order, token, tap="completed", expected_status="scheduled", confirmed="1")
    move_id = db.session.scalar(sa.select(PendingVisitMove.id))
    _close_window(order)

    assert apply_due_moves() == 1
    assert apply_move(str(move_id)) is None  # applied once only
    assert _status(order) == OrderStatus.COMPLETED
    moves = db.session.execute(
        sa.select(OrderStatusTransition.from_status, OrderStatusTransition.to_status)
        .where(OrderStatusTransition.order_id == order.id)
        .order_by(OrderStatusTransition.created_at)
    ).all()
    assert [tuple(move) for move in moves][-2:] == [
        ("scheduled", "in_progress"),
        ("in_progress", "completed"),
    ]
    left = _left_the_building()
    assert left["callbacks"] == 2 and left["outbound"] >= 1
    assert db.session.get(PendingVisitMove, move_id).state == APPLIED

    card = client.get(f"/m/visits/{order.id}/card", headers=HTMX).get_data(as_text=True)
    assert "CC-2026-00042: visit completed." in card
    late = client.post(
        f"/m/visits/{order.id}/undo", data={"csrf_token": token, "move_id": move_id}, headers=HTMX
    )
    assert late.status_code == 409
    assert "Too late to undo" in late.get_data(as_text=True)


def test_a_held_move_tells_its_outcome_in_the_language_of_the_page_it_was_made_on(
    client, auth, make_user
):
    """The outcome is written when the window closes, outside the request: a
    technician who left the language to the browser reads it as the page they
    tapped on (Dutch), not in the app's default (English in this suite)."""
    tech = make_user("technician", language=None)
    order = visit(tech)
    token = _sign_in(auth, tech)
    dutch = {**HTMX, "Accept-Language": "nl-NL,nl;q=0.9"}
    _post(client, order, token, dutch, tap="started", expected_status="scheduled")
    _close_window(order)

    assert apply_due_moves() == 1
    move = db.session.scalar(sa.select(PendingVisitMove))
    assert (move.language, move.outcome) == ("nl", "CC-2026-00042: bezoek begonnen.")
    card = client.get(f"/m/visits/{order.id}/card", headers=dutch).get_data(as_text=True)
    assert "CC-2026-00042: bezoek begonnen." in card


def test_a_held_move_is_refused_when_the_visit_changed_meanwhile(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech)
    token = _sign_in(auth, tech)
    _post(client, order, token, tap="started", expected_status="scheduled")
    change_entity_status(db.session.get(Order, order.id), OrderStatus.ON_HOLD, "customer ill")
    commit()
    _close_window(order)
    assert apply_due_moves() == 1
    move = db.session.scalar(sa.select(PendingVisitMove))
    assert move.state == "refused" and "Not changed: the visit is already" in move.outcome
    assert _status(order) == OrderStatus.ON_HOLD
    card = client.get(f"/m/visits/{order.id}/card", headers=HTMX).get_data(as_text=True)
    assert 'data-testid="visit-error"' in card


def test_racing_sweeps_apply_each_held_move_once(app, make_user):
    tech = make_user("technician")
    orders = [visit(tech, number=f"CC-2026-{index:05d}") for index in range(12)]
    past = utcnow() - timedelta(seconds=1)
    db.session.add_all(
        PendingVisitMove(
            order_id=order.id,
            technician_id=tech.id,
            tap="completed",
            expected_status="scheduled",
            apply_at=past,
            state=PENDING,
        )
        for order in orders
    )
    db.session.commit()
    results = race(app, lambda _index: apply_due_moves(), 4)
    assert not raised(results), results
    assert sum(results) == len(orders)
    completed = db.session.scalars(
        sa.select(OrderStatusTransition.order_id).where(
            OrderStatusTransition.to_status == "completed"
        )
    ).all()
    assert sorted(completed) == sorted(order.id for order in orders)


def _quick_reply_template(body, name):
    template = factories.template(
        body, template_name=name, template_category=TemplateCategory.INSTALLATION_SCHEDULING
    )
    db.session.commit()
    return template


def test_a_quick_reply_is_held_and_undo_means_it_never_leaves(app, client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech, with_whatsapp=False)  # by e-mail: no 24-hour window to open first
    template = _quick_reply_template(
        "Hoi {{customer_first_name}}, ik sta voor de deur.", "technician_at_the_door"
    )
    token = _sign_in(auth, tech)
    sent = client.post(
        f"/m/visits/{order.id}/reply",
        data={"csrf_token": token, "template_id": template.id},
        headers=HTMX,
    )
    assert sent.status_code == 200
    card = sent.get_data(as_text=True)
    assert 'data-testid="reply-pending"' in card and "Sending in <span data-seconds>" in card
    message = db.session.scalar(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.message_type == MessageType.OUTGOING
        )
    )
    assert message.is_held
    undone = client.post(
        f"/m/visits/{order.id}/reply/undo",
        data={"csrf_token": token, "message_id": message.id},
        headers=HTMX,
    )
    assert undone.status_code == 200
    assert "Undone: the message was not sent." in undone.get_data(as_text=True)
    assert _left_the_building() == NOTHING


def test_on_the_way_carries_the_arrival_time_picked_on_the_phone(app, client, auth, make_user):
    app.config["VISIT_UNDO_SECONDS"] = 0
    tech = make_user("technician")
    order = visit(tech, with_whatsapp=False)  # by e-mail: no 24-hour window to open first
    template = _quick_reply_template(
        "Hoi {{customer_first_name}}, ik ben onderweg. Verwachte aankomst: {{eta}}.",
        "technician_eta",
    )
    token = _sign_in(auth, tech)
    page = client.get("/m/").get_data(as_text=True)
    for minutes in (15, 30, 45, 60):
        assert f'name="eta_minutes" value="{minutes}"' in page
    assert 'name="eta_time"' in page

    missing = client.post(
        f"/m/visits/{order.id}/reply",
        data={"csrf_token": token, "template_id": template.id},
        headers=HTMX,
    )
    assert missing.status_code == 422
    assert "Pick when you expect to arrive." in missing.get_data(as_text=True)

    at_time = client.post(
        f"/m/visits/{order.id}/reply",
        data={"csrf_token": token, "template_id": template.id, "eta_time": "14:35"},
        headers=HTMX,
    )
    assert at_time.status_code == 200
    message = db.session.scalar(
        sa.select(CommunicationMessage.message_content).where(
            CommunicationMessage.message_type == MessageType.OUTGOING
        )
    )
    assert message.startswith("Hoi Jan, ik ben onderweg. Verwachte aankomst: 14:35.")
