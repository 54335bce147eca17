"""The customer moves their visit on their own page, or asks to be called back.

From outside: the link is read from the planning message the sandbox sent, the
pages are fetched signed out as the customer's phone would, and what follows is
read where people see it: the messages sent, the partner's deliveries, the
planner's board and the technician's route for the day, the desk's tasks.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa
from itsdangerous import URLSafeSerializer

from app.orders.deliveries.partner_events import VISIT_RESCHEDULED
from app.orders.mobile.services import local_today
from app.orders.planning.board import week_key
from app.orders.planning.hours import public_holidays
from app.platform.extensions import db
from app.platform.models import (
    AuditLog,
    CommunicationMessage,
    CommunicationThread,
    InternalTask,
    OutboundDelivery,
    Visit,
)
from app.platform.models.enums import MessageType, TaskType
from tests.support.jobs import drain_queues
from tests.support.partner_support import make_partner
from tests.support.planning_support import working_day
from tests.support.slots_support import CUSTOMER, days_off, order_at, plan, technician_at

LINK = re.compile(r"http://127\.0\.0\.1:5000/t/([\w-]{22})\b")
SLOT = re.compile(
    r'<input type="hidden" name="choice" value="([^"]+)">\s*'
    r'<input type="hidden" name="version" value="(\d+)">\s*'
    r'<button type="submit" class="cp-slot" data-testid="move-slot" data-day="([\d-]+)">'
)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def planner(make_user):
    return make_user("team_lead", language="nl")


@pytest.fixture
def anna(make_user):
    return technician_at(make_user, "Anna Dichtbij", CUSTOMER)


def _sent(order) -> list[str]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(CommunicationMessage.message_content)
        .join(CommunicationThread, CommunicationThread.id == CommunicationMessage.thread_id)
        .where(
            CommunicationThread.order_id == order.id,
            CommunicationMessage.message_type == MessageType.OUTGOING,
        )
        .order_by(CommunicationMessage.created_at)
    ).all()


def _planned_order(app, planner, technicians, day, number="CC-2026-03001", **fields):
    """An order planned on ``day`` 08:00–12:00, its planning message sent: (order, token)."""
    order = order_at(number)
    for name, value in fields.items():
        setattr(order, name, value)
    db.session.commit()
    plan(order, technicians, day, time(8), time(12), planner)
    drain_queues(app)
    [message] = _sent(order)
    return order, LINK.search(message)[1]


def _offered(page: str) -> list[dict]:
    """The slots on the move page: their signed choice, version and day."""
    csrf = CSRF.search(page)[1]
    return [
        {"choice": choice, "version": version, "day": day, "csrf_token": csrf}
        for choice, version, day in SLOT.findall(page)
    ]


def _read_choice(app, choice: str) -> dict:
    return URLSafeSerializer(app.secret_key, salt="customer-move-slot").loads(choice)


def _working_days_between(first: date, last: date) -> int:
    between = [first + timedelta(days=n) for n in range(1, (last - first).days)]
    holidays = public_holidays(between)
    return sum(1 for d in between if d.weekday() < 5 and d not in holidays)


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_page_offers_slots_only_of_skilled_technicians_on_their_working_days(
    app, client, planner, anna, make_user
):
    # Closer to the customer than Anna, but not trained on the order's charger.
    technician_at(make_user, "Bram Easee", CUSTOMER, skills=("easee",))
    day = working_day(9)
    order, token = _planned_order(app, planner, [anna], day)
    # Anna's first day after the cut-off is a day off: no slot may fall on it.
    today = local_today()
    first = next(
        today + timedelta(days=n)
        for n in range(1, 30)
        if (today + timedelta(days=n)).weekday() < 5
        and _working_days_between(today, today + timedelta(days=n)) >= 2
        and not public_holidays([today + timedelta(days=n)])
    )
    days_off(anna, first, first)

    shown = client.get(f"/t/{token}").get_data(as_text=True)
    assert 'data-testid="customer-move"' in shown and "Afspraak verzetten" in shown
    answer = client.get(f"/t/{token}/move")

    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Kies een nieuw tijdstip" in page
    offered = _offered(page)
    assert 1 <= len(offered) <= 6
    days = [date.fromisoformat(slot["day"]) for slot in offered]
    assert first not in days
    assert all(_working_days_between(today, d) >= 2 and d.weekday() < 5 for d in days)
    choices = [_read_choice(app, slot["choice"]) for slot in offered]
    assert all(choice["technicians"] == [str(anna.id)] for choice in choices)
    # Never the current slot; never who comes or the driving it costs.
    assert (day.isoformat(), "08:00", "12:00") not in {
        (c["day"], c["start"], c["end"]) for c in choices
    }
    assert "Anna" not in page and "Bram" not in page and "min rijden" not in page
    assert all(slot["version"] == "1" for slot in offered)


def test_the_customers_part_of_day_is_kept_and_their_first_wished_date_let_go(
    app, client, planner, anna
):
    day = working_day(9)
    order = order_at(
        "CC-2026-03005",
        preferences={"time_preference": "middag", "preferred_date": day.isoformat()},
    )
    plan(order, [anna], day, time(13), time(16), planner)
    drain_queues(app)
    token = LINK.search(_sent(order)[0])[1]

    offered = _offered(client.get(f"/t/{token}/move").get_data(as_text=True))

    choices = [_read_choice(app, slot["choice"]) for slot in offered]
    assert len({choice["day"] for choice in choices}) > 1  # not only the first wished day
    assert all("12:00" <= c["start"] and c["end"] <= "17:00" for c in choices), choices


def test_choosing_a_slot_moves_the_visit_and_tells_everyone_once(
    app, client, auth, planner, anna, monkeypatch
):
    pushes = []
    monkeypatch.setattr("app.orders.mobile.listeners.push_enabled", lambda: True)
    monkeypatch.setattr("app.orders.mobile.listeners.has_subscription", lambda user_id: True)
    monkeypatch.setattr(
        "app.orders.mobile.listeners.enqueue",
        lambda path, *args, **kw: pushes.append((path.rsplit(".", 1)[-1], args[1])),
    )
    calendar_syncs = []
    original_sync = __import__(
        "app.orders.calendar_sync.listeners", fromlist=["queue_visit_sync"]
    ).queue_visit_sync
    monkeypatch.setattr(
        "app.orders.calendar_sync.listeners.queue_visit_sync",
        lambda order_id: (calendar_syncs.append(order_id), original_sync(order_id)),
    )
    partner = make_partner(
        webhook_url="https://partner.example/hook",
        webhook_events=["visit_scheduled", VISIT_RESCHEDULED],
    )
    day = working_day(9)
    order, token = _planned_order(
        app,
        planner,
        [anna],
        day,
        partner_organization_id=partner.organization.id,
        partner_order_id="GRO-M1",
    )
    deliveries = _count(OutboundDelivery)
    pushes.clear()
    calendar_syncs.clear()
    slot = _offered(client.get(f"/t/{token}/move").get_data(as_text=True))[-1]
    new_day = date.fromisoformat(slot["day"])

    answer = client.post(f"/t/{token}/move", data=slot)

    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, page
    assert "Uw nieuwe afspraak" in page and f"{new_day.day} " in page
    drain_queues(app)
    visit = db.session.scalar(sa.select(Visit).where(Visit.order_id == order.id))
    assert visit.scheduled_date == new_day and visit.version == 2
    assert visit.technician_ids == [anna.id]
    # One message to the customer, with the new day.
    sent = _sent(order)
    assert len(sent) == 2 and "verplaatst" in sent[1]
    # One visit_rescheduled for the partner, saying the customer moved it.
    assert _count(OutboundDelivery) == deliveries + 1
    callback = db.session.scalars(
        sa.select(OutboundDelivery).order_by(OutboundDelivery.created_at.desc())
    ).first()
    assert callback.event_type == VISIT_RESCHEDULED
    assert callback.payload["visit"]["reason"] == "customer"
    assert callback.payload["visit"]["date"] == new_day.isoformat()
    # The technician's phone and calendar, once.
    assert pushes == [("push_visit_planned", str(anna.id))]
    assert calendar_syncs == [order.id]
    # The history says the customer did it, no one of ours.
    entry = db.session.scalars(
        sa.select(AuditLog)
        .where(AuditLog.record_id == order.id, AuditLog.table_name == "orders")
        .order_by(AuditLog.created_at.desc())
    ).first()
    assert entry.action == "VISIT_MOVED_BY_CUSTOMER" and entry.changed_by_user_id is None

    # A second tap of the same button: the same answer, nothing sent twice.
    again = client.post(f"/t/{token}/move", data=slot)
    assert again.status_code == 200 and "Uw nieuwe afspraak" in again.get_data(as_text=True)
    drain_queues(app)
    assert len(_sent(order)) == 2 and _count(OutboundDelivery) == deliveries + 1

    # The board and the technician's day show the new slot, the old day no longer.
    auth.login(planner.email)
    history = client.get(f"/orders/{order.order_number}").get_data(as_text=True)
    assert 'data-testid="customer-moved"' in history
    assert "Bezoek 1 verzet door de klant" in history
    monday = new_day - timedelta(days=new_day.weekday())
    board = client.get(f"/planning/?week={week_key(monday)}").get_data(as_text=True)
    assert order.order_number in board
    route = f"/planning/technicians/{anna.id}/route?day="
    assert order.order_number in client.get(route + new_day.isoformat()).get_data(as_text=True)
    assert order.order_number not in client.get(route + day.isoformat()).get_data(as_text=True)


def test_a_slot_taken_meanwhile_is_refused_and_fresh_slots_offered(app, client, planner, anna):
    order, token = _planned_order(app, planner, [anna], working_day(9))
    slot = _offered(client.get(f"/t/{token}/move").get_data(as_text=True))[0]
    chosen = _read_choice(app, slot["choice"])
    # Another customer gets Anna at that very time first.
    other = order_at("CC-2026-03009")
    plan(
        other,
        [anna],
        date.fromisoformat(chosen["day"]),
        time.fromisoformat(chosen["start"]),
        time.fromisoformat(chosen["end"]),
        planner,
    )
    drain_queues(app)
    messages, deliveries = _count(CommunicationMessage), _count(OutboundDelivery)

    answer = client.post(f"/t/{token}/move", data=slot)

    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert 'data-testid="move-problem"' in page and "zojuist" in page
    assert slot["choice"] not in page  # the list is found again
    drain_queues(app)
    assert _count(CommunicationMessage) == messages and _count(OutboundDelivery) == deliveries
    visit = db.session.scalar(sa.select(Visit).where(Visit.order_id == order.id))
    assert visit.version == 1


def test_after_the_cut_off_no_move_but_one_call_back_task(app, client, planner, anna, monkeypatch):
    # A Dutch desk; the customer reads their page in English.
    monkeypatch.setitem(app.config, "DEFAULT_LANGUAGE", "nl")
    # Tomorrow's working day: no two working days lie between today and then.
    order, token = _planned_order(app, planner, [anna], working_day(1))

    shown = client.get(f"/t/{token}").get_data(as_text=True)
    assert "Afspraak verzetten" not in shown and "Bel mij terug" in shown
    page = client.get(f"/t/{token}/move").get_data(as_text=True)
    assert 'data-testid="move-slot"' not in page
    assert 'data-testid="call-back"' in page and "niet meer" in page
    csrf = CSRF.search(page)[1]
    # A slot forged for it anyway is refused, not an error.
    forged = URLSafeSerializer(app.secret_key, salt="customer-move-slot").dumps(
        {
            "order": str(order.id),
            "visit": 1,
            "day": working_day(12).isoformat(),
            "start": "08:00",
            "end": "12:00",
            "technicians": [str(anna.id)],
        }
    )
    refused = client.post(
        f"/t/{token}/move", data={"choice": forged, "version": "1", "csrf_token": csrf}
    )
    assert refused.status_code == 409
    assert db.session.scalar(sa.select(Visit.version).where(Visit.order_id == order.id)) == 1

    form = {"times": ["morning", "evening"], "note": "Liever na 10 uur", "csrf_token": csrf}
    answer = client.post(f"/t/{token}/call-back?lang=en", data=form)
    assert answer.status_code == 200
    thanks = answer.get_data(as_text=True)
    assert 'data-testid="call-back-done"' in thanks and "we will call you" in thanks
    # The same request again within a minute makes no second task.
    assert client.post(f"/t/{token}/call-back", data=form).status_code == 200

    [task] = db.session.scalars(sa.select(InternalTask)).all()
    assert task.task_type == TaskType.CALLBACK and task.order_id == order.id
    assert task.task_title == (
        f"Klant vraagt terugbellen over afspraak {order.order_number}: voorkeur ochtend, avond"
    )
    assert "Liever na 10 uur" in task.task_description
    thread = db.session.get(CommunicationThread, task.thread_id)
    assert thread.order_id == order.id and thread.contact_id == order.end_customer_contact_id


@pytest.mark.parametrize(
    "form, field, words",
    [
        ({"note": "Bel me"}, "times", "Wanneer"),
        ({"times": ["nacht"]}, "times", "Wanneer"),
        ({"times": ["morning"], "note": "x" * 501}, "note", "500"),
    ],
)
def test_a_wrong_call_back_form_names_the_field(app, client, planner, anna, form, field, words):
    order, token = _planned_order(app, planner, [anna], working_day(1))
    csrf = CSRF.search(client.get(f"/t/{token}/move").get_data(as_text=True))[1]

    answer = client.post(f"/t/{token}/call-back", data={**form, "csrf_token": csrf})

    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert f'data-field="{field}"' in page and words in page
    assert _count(InternalTask) == 0


def test_a_slot_not_offered_or_a_wrong_link_gets_a_clear_4xx(app, client, planner, anna):
    order, token = _planned_order(app, planner, [anna], working_day(9))
    other, other_token = _planned_order(app, planner, [anna], working_day(10), "CC-2026-03002")
    page = client.get(f"/t/{token}/move").get_data(as_text=True)
    slot = _offered(page)[0]
    theirs = _offered(client.get(f"/t/{other_token}/move").get_data(as_text=True))[0]
    tampered = slot["choice"][:-3] + ("AAA" if not slot["choice"].endswith("AAA") else "BBB")

    for choice in ("", "not-a-slot", tampered, theirs["choice"]):
        answer = client.post(f"/t/{token}/move", data={**slot, "choice": choice})
        assert answer.status_code == 400, choice
        assert 'data-testid="move-problem"' in answer.get_data(as_text=True)
    answer = client.post(f"/t/{token}/move", data={**slot, "version": "x"})
    assert answer.status_code == 400
    # Without the form's CSRF token nothing is read.
    assert client.post(f"/t/{token}/move", data={**slot, "csrf_token": ""}).status_code == 400
    for url in ("/t/AAAAAAAAAAAAAAAAAAAAAA/move", "/t/x7/move"):
        assert client.get(url).status_code == 404
        assert client.post(url, data=slot).status_code == 404
        assert client.post(url.replace("move", "call-back"), data=slot).status_code == 404
    assert db.session.scalar(sa.select(Visit.version).where(Visit.order_id == order.id)) == 1
    assert len(_sent(order)) == 1 and _count(InternalTask) == 0
