"""The technician's phone, followed up: a held tap's card message in the technician's
language, who changed a visit and when in a stale refusal, and posts replayed from
the offline queue while the server still holds an earlier tap or reply."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.orders.core.status_engine import change_entity_status
from app.orders.mobile.pending import apply_due_moves
from app.orders.mobile.services import local_today
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    InternalTask,
    MobileAction,
    Order,
    OrderStatusTransition,
    PendingVisitMove,
)
from app.platform.models.enums import MessageType, OrderStatus, TaskStatus, TemplateCategory
from app.platform.models.visits import PENDING, REFUSED
from app.platform.transactions import commit
from app.platform.ui import local_time
from tests.conftest import opened
from tests.support import factories
from tests.support.mobile_support import visit

HTMX = {"HX-Request": "true"}
# What the phone's queue sends (static/js/phone-queue.js).
REPLAY = {"HX-Request": "true", "X-Offline-Replay": "1"}


@pytest.fixture
def app(make_app):
    # A window no test sees pass by itself; the tests close it by hand.
    with opened(make_app(start_embedded_worker=False, VISIT_UNDO_SECONDS=30)) as app:
        yield app


def _sign_in(auth, user):
    auth.login(user.email)
    return auth.csrf_token("/m/")


def _tap(client, order, token, headers=HTMX, **data):
    return client.post(
        f"/m/visits/{order.id}/status", data={"csrf_token": token, **data}, headers=headers
    )


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


def _named(user, name):
    user.name = name
    db.session.commit()
    return user


def _alert(html: str) -> str:
    """The text the offline queue shows as the reason (phone-queue.js reasonOf)."""
    found = re.search(
        r'<[^>]+(?:role="alert"|data-error-message)[^>]*>([\s\S]*?)</(p|div|span)>', html
    )
    assert found, html[:400]
    return re.sub(r"\s+", " ", found[1]).replace("&#39;", "'").strip()


# --- 2. The card message of a held tap, in the technician's language -------------------


def test_a_held_tap_writes_its_card_message_in_the_technicians_language(
    app, client, auth, make_user
):
    # The app's default is English here (tests/conftest.py); the technician reads Dutch.
    tech = make_user("technician", language="nl")
    order = visit(tech)
    token = _sign_in(auth, tech)
    assert _tap(client, order, token, tap="started", expected_status="scheduled").status_code == 200
    _close_window(order)

    assert apply_due_moves() == 1  # as the job does: no request, no browser language
    move = db.session.scalar(sa.select(PendingVisitMove))
    assert move.outcome == "CC-2026-00042: bezoek begonnen."
    card = client.get(f"/m/visits/{order.id}/card", headers=HTMX).get_data(as_text=True)
    assert "CC-2026-00042: bezoek begonnen." in card


def test_a_refused_held_tap_is_explained_in_the_technicians_language(app, client, auth, make_user):
    tech = make_user("technician", language="nl")
    english = make_user("technician", language="en")
    sarah = _named(make_user("agent"), "Sarah")
    dutch_visit = visit(tech)
    english_visit = visit(english, number="CC-2026-00043", with_whatsapp=False)
    token = _sign_in(auth, tech)
    _tap(client, dutch_visit, token, tap="started", expected_status="scheduled")
    auth.logout()
    token = _sign_in(auth, english)
    _tap(client, english_visit, token, tap="started", expected_status="scheduled")
    for order in (dutch_visit, english_visit):
        change_entity_status(db.session.get(Order, order.id), OrderStatus.ON_HOLD, "ill", {}, sarah)
    commit()
    _close_window(dutch_visit)
    _close_window(english_visit)

    assert apply_due_moves() == 2
    outcomes = dict(
        db.session.execute(sa.select(PendingVisitMove.order_id, PendingVisitMove.outcome)).all()
    )
    assert re.fullmatch(
        r"Niet gewijzigd: het bezoek is al '.+' \(gewijzigd door Sarah om \d\d:\d\d\)\.",
        outcomes[dutch_visit.id],
    ), outcomes[dutch_visit.id]
    assert re.fullmatch(
        r"Not changed: the visit is already 'on hold' \(changed by Sarah at \d\d:\d\d\)\.",
        outcomes[english_visit.id],
    ), outcomes[english_visit.id]


# --- 3. Who changed the visit and when, from its status history -------------------------


def test_the_stale_refusal_names_who_moved_the_visit_to_its_status_and_when(
    app, client, auth, make_user
):
    tech = make_user("technician")
    sarah = _named(make_user("agent"), "Sarah")
    piet = _named(make_user("agent"), "Piet")
    order = visit(tech)
    change_entity_status(order, OrderStatus.IN_PROGRESS, "on site", {}, piet)
    change_entity_status(order, OrderStatus.COMPLETED, "done", {}, sarah)
    commit()
    completed_at = db.session.scalar(
        sa.select(OrderStatusTransition.created_at).where(
            OrderStatusTransition.to_status == "completed"
        )
    )
    token = _sign_in(auth, tech)
    refused = _tap(client, order, token, tap="started", expected_status="scheduled")
    assert refused.status_code == 409
    assert _alert(refused.get_data(as_text=True)) == (
        "Not changed: the visit is already 'completed'"
        f" (changed by Sarah at {local_time(completed_at, '%H:%M')})."
    )


def test_a_move_by_no_person_gives_the_time_and_no_history_gives_neither(
    app, client, auth, make_user
):
    tech = make_user("technician")
    piet = _named(make_user("agent"), "Piet")
    order = visit(tech)
    change_entity_status(order, OrderStatus.IN_PROGRESS, "on site", {}, piet)
    change_entity_status(order, OrderStatus.ON_HOLD, "partner API")  # no person
    commit()
    token = _sign_in(auth, tech)
    form = {"tap": "started", "expected_status": "scheduled"}
    by_system = _alert(_tap(client, order, token, **form).get_data(as_text=True))
    assert re.fullmatch(
        r"Not changed: the visit is already 'on hold' \(changed at \d\d:\d\d\)\.", by_system
    ), by_system

    # Set by a data fix, outside the status engine: Piet's older move is not named.
    db.session.execute(
        sa.update(Order).where(Order.id == order.id).values(status=OrderStatus.COMPLETED)
    )
    db.session.commit()
    fixed = _alert(_tap(client, order, token, **form).get_data(as_text=True))
    assert fixed == "Not changed: the visit is already 'completed'."


# --- 4. Replays from the offline queue while the server holds an earlier tap -----------


def _replay(client, order, token, path="status", action_id=None, **data):
    action_id = action_id or str(uuid.uuid4())
    return client.post(
        f"/m/visits/{order.id}/{path}",
        data={"csrf_token": token, "client_action_id": action_id, **data},
        headers=REPLAY,
    )


def test_a_replayed_tap_while_an_earlier_one_waits_is_refused_clearly_and_can_be_sent_again(
    app, client, auth, make_user
):
    tech = make_user("technician")
    order = visit(tech)
    token = _sign_in(auth, tech)
    # Tapped "Started" with a signal; the signal went; "Completed" was queued offline.
    assert _tap(client, order, token, tap="started", expected_status="scheduled").status_code == 200
    action_id = str(uuid.uuid4())
    replayed = _replay(
        client,
        order,
        token,
        action_id=action_id,
        tap="completed",
        expected_status="scheduled",
        confirmed="1",
    )
    assert replayed.status_code == 409
    assert _alert(replayed.get_data(as_text=True)) == (
        "Not changed: an earlier update of this visit (Started) is still waiting to go"
        " through; tap again once it has."
    )
    # Not overtaken: the earlier tap still waits and the visit did not move.
    assert db.session.scalar(sa.select(PendingVisitMove.state)) == PENDING
    assert _status(order) == OrderStatus.SCHEDULED
    # A refusal keeps no answer: the same post sent again is asked again.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MobileAction)) == 0

    _close_window(order)
    assert apply_due_moves() == 1
    assert _status(order) == OrderStatus.IN_PROGRESS
    again = _replay(client, order, token, action_id=action_id, tap="completed", confirmed="1")
    assert again.status_code == 200
    assert _status(order) == OrderStatus.COMPLETED


def test_a_replayed_tap_on_a_visit_with_nothing_waiting_goes_through_at_once(
    app, client, auth, make_user
):
    tech = make_user("technician")
    order = visit(tech)
    token = _sign_in(auth, tech)
    done = _replay(client, order, token, tap="started", expected_status="scheduled")
    assert done.status_code == 200
    assert _status(order) == OrderStatus.IN_PROGRESS
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingVisitMove)) == 0
    # A held tap that went through meanwhile (refused as stale) is not mistaken for waiting.
    refused = db.session.scalar(sa.select(sa.func.count()).where(PendingVisitMove.state == REFUSED))
    assert refused == 0


def _quick_reply_template(body, name):
    template = factories.template(
        body, template_name=name, template_category=TemplateCategory.INSTALLATION_SCHEDULING
    )
    db.session.commit()
    return template


def test_a_replayed_quick_reply_while_one_is_held_goes_out_after_it(app, client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech, with_whatsapp=False)  # by e-mail: no 24-hour window to open first
    on_the_way = _quick_reply_template(
        "Hoi {{customer_first_name}}, ik ben onderweg.", "technician_a"
    )
    at_the_door = _quick_reply_template(
        "Hoi {{customer_first_name}}, ik sta voor de deur.", "technician_b"
    )
    token = _sign_in(auth, tech)
    first = client.post(
        f"/m/visits/{order.id}/reply",
        data={"csrf_token": token, "template_id": on_the_way.id},
        headers=HTMX,
    )
    assert first.status_code == 200
    replayed = _replay(client, order, token, path="reply", template_id=at_the_door.id)
    assert replayed.status_code == 200, replayed.get_data(as_text=True)[:400]

    sent = db.session.execute(
        sa.select(CommunicationMessage.message_content, CommunicationMessage.send_held_until)
        .where(CommunicationMessage.message_type == MessageType.OUTGOING)
        .order_by(CommunicationMessage.created_at)
    ).all()
    assert [content.split(", ")[1] for content, _held in sent] == [
        "ik ben onderweg.",
        "ik sta voor de deur.",
    ]
    (_, first_release), (_, second_release) = sent
    # Still held, and released after the earlier one: the customer reads them in order.
    assert second_release is not None and second_release > first_release


def test_a_replayed_quick_reply_with_nothing_held_goes_at_once(app, client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech, with_whatsapp=False)
    at_the_door = _quick_reply_template(
        "Hoi {{customer_first_name}}, ik sta voor de deur.", "technician_b"
    )
    token = _sign_in(auth, tech)
    replayed = _replay(client, order, token, path="reply", template_id=at_the_door.id)
    assert replayed.status_code == 200
    held = db.session.scalar(
        sa.select(CommunicationMessage.send_held_until).where(
            CommunicationMessage.message_type == MessageType.OUTGOING
        )
    )
    assert held is None


def test_replayed_refusals_answer_with_a_reason_the_queue_can_show(app, client, auth, make_user):
    tech = make_user("technician")
    other = make_user("technician")
    order = visit(tech)
    someone_elses = visit(other, number="CC-2026-00043", with_whatsapp=False)
    token = _sign_in(auth, tech)

    empty_note = _replay(client, order, token, path="note", content="", **{"from": "conversation"})
    assert empty_note.status_code == 422
    assert _alert(empty_note.get_data(as_text=True))

    late_undo = _replay(client, order, token, path="undo", move_id=str(uuid.uuid4()))
    assert late_undo.status_code == 409
    assert _alert(late_undo.get_data(as_text=True)).startswith("Too late to undo")

    bad_reply = _replay(client, order, token, path="reply", template_id="nonsense")
    assert bad_reply.status_code == 422
    assert _alert(bad_reply.get_data(as_text=True)).startswith("Not sent:")

    no_photo = _replay(client, order, token, path="photo", caption="meterkast")
    assert no_photo.status_code == 422
    assert _alert(no_photo.get_data(as_text=True))

    task = InternalTask(
        task_title="Laadpaal ophalen",
        assigned_to_user_id=tech.id,
        due_date=local_today(),
        status=TaskStatus.OPEN,
        reminder_settings={},
        lock_version=2,
    )
    db.session.add(task)
    db.session.commit()
    stale_task = client.post(
        f"/m/tasks/{task.id}/done",
        data={"csrf_token": token, "client_action_id": str(uuid.uuid4()), "lock_version": "1"},
        headers=REPLAY,
    )
    assert stale_task.status_code == 422
    assert _alert(stale_task.get_data(as_text=True)).startswith("“Laadpaal ophalen” was not")

    # Reassigned while the phone was offline: an error page, with its reason readable.
    reassigned = _replay(client, someone_elses, token, tap="started")
    assert reassigned.status_code == 403
    assert _alert(reassigned.get_data(as_text=True)) == (
        "This visit is assigned to another technician."
    )
