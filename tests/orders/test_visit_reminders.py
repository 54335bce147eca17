"""The customer's reminder the day before a visit, and "Bevestigen" / "Verzetten".

The app runs with the real WhatsApp transport against the fake Cloud API
(tests/fakes/whatsapp.py): the reminder is read as Meta receives it, the
customer's tap is posted as Meta posts it (signed), and what follows is read
from outside: the fake's sent requests, the partner's callback rows, the
board's and the technician's pages, the desk's tasks.
"""

from __future__ import annotations

import re
import time as clock
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.orders.deliveries.partner_events import VISIT_CONFIRMED
from app.orders.planning.board import week_key
from app.orders.visit_reminders.sending import remind_visits
from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    InternalTask,
    OutboundDelivery,
    SandboxSend,
    Visit,
    VisitReminder,
)
from app.platform.models.enums import ChannelType, DeliveryKind, MessageType
from tests.fakes import whatsapp as wa
from tests.support import factories
from tests.support.jobs import drain_queues
from tests.support.partner_support import make_partner
from tests.support.planning_support import approved_order, working_day
from tests.support.reminder_support import add_reminder_template
from tests.support.visits_support import plan_number
from tests.support.whatsapp_support import deliver, fake_whatsapp_server, whatsapp_app

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CUSTOMER_WA = "31612345678"  # the order's customer, +31612345678

fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")
app = pytest.fixture(whatsapp_app, name="app")


@pytest.fixture(autouse=True)
def reminder_template(app):
    add_reminder_template()


@pytest.fixture
def planner(make_user):
    return make_user("team_lead", language="nl")


@pytest.fixture
def tech(make_user):
    return make_user("technician", skills=["alfen"], language="nl", phone="+31611112222")


def _local(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=AMSTERDAM)


def _planned_order(app, planner, tech, day, *, partner=None, **fields):
    """An order planned for ``day`` 08:00-12:00; the planning notice sent and forgotten."""
    if partner is not None:
        fields.update(partner_organization_id=partner.organization.id, partner_order_id="GRO-9")
    order = approved_order(**fields)
    plan_number(order, 1, [tech], day, planner)
    drain_queues(app)
    return order


def _reminders(fake) -> list[dict]:
    return [body for body in fake.sent() if body.get("type") == "template"]


def _texts(fake) -> list[str]:
    return [body["text"]["body"] for body in fake.sent() if body.get("type") == "text"]


def _tap(app, client, payload: str, title: str, wamid: str) -> None:
    message = {
        "from": CUSTOMER_WA,
        "id": wamid,
        "timestamp": str(int(clock.time())),
        "type": "button",
        "context": {"from": wa.BUSINESS_NUMBER, "id": "wamid.fake000001"},
        "button": {"payload": payload, "text": title},
    }
    deliver(app, client, wa.webhook(contacts=[wa.contact(CUSTOMER_WA, "Jan")], messages=[message]))
    drain_queues(app)
    db.session.expire_all()


def _confirmed_callbacks() -> list[dict]:
    rows = db.session.scalars(
        sa.select(OutboundDelivery).where(OutboundDelivery.kind == DeliveryKind.PARTNER_CALLBACK)
    )
    return [row.payload for row in rows if row.payload.get("event") == VISIT_CONFIRMED]


def _tasks() -> list[InternalTask]:
    return list(db.session.scalars(sa.select(InternalTask).order_by(InternalTask.created_at)))


def _payloads(body: dict) -> list[str]:
    return [
        component["parameters"][0]["payload"]
        for component in body["template"].get("components", [])
        if component["type"] == "button"
    ]


def test_the_whatsapp_reminder_is_the_approved_template_with_two_quick_replies(
    app, fake_whatsapp, planner, tech
):
    day = working_day()
    order = _planned_order(app, planner, tech, day)
    before = len(fake_whatsapp.sent())

    assert remind_visits(now=_local(day - timedelta(days=1), 9, 59)) == 0
    assert remind_visits(now=_local(day - timedelta(days=1), 10, 5)) == 1
    drain_queues(app)

    [body] = _reminders(fake_whatsapp)[-1:]
    assert len(fake_whatsapp.sent()) == before + 1
    assert body["to"] == CUSTOMER_WA
    assert body["template"]["name"] == "visit_reminder"
    assert body["template"]["language"] == {"code": "nl"}
    body_part, confirm, move = body["template"]["components"]
    assert body_part["type"] == "body"
    values = [p["text"] for p in body_part["parameters"]]
    assert values[0] == "Jan Jansen"
    assert values[1] == f"morgen ({day:%d-%m-%Y}) tussen 08:00 en 12:00"
    assert values[2] == tech.name
    # The approved template's URL variable: the customer's own page.
    assert re.fullmatch(r"http://127\.0\.0\.1:5000/t/[\w-]{22}", values[3]), values
    visit = db.session.scalars(sa.select(Visit).where(Visit.order_id == order.id)).one()
    reminder = db.session.scalars(sa.select(VisitReminder)).one()
    assert (reminder.visit_id, reminder.visit_date) == (visit.id, day)
    assert confirm == {
        "type": "button",
        "sub_type": "quick_reply",
        "index": "0",
        "parameters": [{"type": "payload", "payload": f"visit-confirm:{reminder.id}"}],
    }
    assert move == {
        "type": "button",
        "sub_type": "quick_reply",
        "index": "1",
        "parameters": [{"type": "payload", "payload": f"visit-move:{reminder.id}"}],
    }
    # Once per visit and date: later runs that day send nothing more.
    assert remind_visits(now=_local(day - timedelta(days=1), 11, 0)) == 0
    assert remind_visits(now=_local(day - timedelta(days=1), 19, 0)) == 0
    drain_queues(app)
    assert len(_reminders(fake_whatsapp)) == 1


def test_a_moved_visit_is_reminded_again_for_its_new_day(app, fake_whatsapp, planner, tech):
    day = working_day()
    order = _planned_order(app, planner, tech, day)
    assert remind_visits(now=_local(day - timedelta(days=1), 10, 5)) == 1
    later = working_day(14)
    plan_number(order, 1, [tech], later, planner)
    drain_queues(app)
    assert remind_visits(now=_local(later - timedelta(days=1), 10, 5)) == 1
    drain_queues(app)
    payloads = [_payloads(body)[0] for body in _reminders(fake_whatsapp)]
    assert len(payloads) == 2 and payloads[0] != payloads[1]


def test_an_email_customer_still_gets_the_email(app, fake_whatsapp, planner, tech):
    day = working_day()
    _planned_order(app, planner, tech, day, with_whatsapp=False)

    assert remind_visits(now=_local(day - timedelta(days=1), 10, 5)) == 1
    assert remind_visits(now=_local(day - timedelta(days=1), 11, 5)) == 0
    drain_queues(app)

    assert _reminders(fake_whatsapp) == []
    assert db.session.scalars(sa.select(VisitReminder)).all() == []
    mails = db.session.scalars(
        sa.select(SandboxSend).where(SandboxSend.provider == "sendgrid")
    ).all()
    assert len(mails) == 1
    assert mails[0].recipient == "jan@example.nl"


def test_bevestigen_confirms_once_thanks_tells_the_partner_and_shows_on_both_cards(
    app, client, auth, fake_whatsapp, planner, tech
):
    partner = make_partner(
        webhook_url="https://partner.example/hook", webhook_events=[VISIT_CONFIRMED]
    )
    day = working_day()
    order = _planned_order(app, planner, tech, day, partner=partner)
    remind_visits(now=_local(day - timedelta(days=1), 10, 5))
    drain_queues(app)
    reminder = db.session.scalars(sa.select(VisitReminder)).one()

    _tap(app, client, f"visit-confirm:{reminder.id}", "Bevestigen", "wamid.tap1")

    reminder = db.session.scalars(sa.select(VisitReminder)).one()
    assert reminder.confirmed_at is not None
    assert _texts(fake_whatsapp) == ["Dank u, tot morgen!"]
    [callback] = _confirmed_callbacks()
    assert callback["visit"] == {
        "number": 1,
        "purpose": None,
        "date": day.isoformat(),
        "window_start": "08:00",
        "window_end": "12:00",
    }
    assert callback["partner_order_id"] == "GRO-9"
    # The tap itself stays in the conversation, as any customer message.
    taps = db.session.scalars(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.message_type == MessageType.INCOMING
        )
    ).all()
    assert [m.message_content for m in taps] == ["Bevestigen"]

    # A second tap (or Meta's retry of another) changes nothing and says nothing.
    _tap(app, client, f"visit-confirm:{reminder.id}", "Bevestigen", "wamid.tap2")
    assert _texts(fake_whatsapp) == ["Dank u, tot morgen!"]
    assert len(_confirmed_callbacks()) == 1

    auth.login(planner.email)
    monday = day - timedelta(days=day.weekday())
    board = client.get(f"/planning/?week={week_key(monday)}").get_data(as_text=True)
    assert 'data-testid="visit-confirmation">Bevestigd door klant<' in board
    auth.logout()
    auth.login(tech.email)
    card = client.get(f"/m/visits/{order.id}/card").get_data(as_text=True)
    assert 'data-testid="visit-confirmation">Bevestigd door klant<' in card
    # Nothing is left for the desk once the customer confirmed.
    assert remind_visits(now=_local(day - timedelta(days=1), 18, 30)) == 0
    assert _tasks() == []


def test_a_tap_for_a_visit_moved_since_is_answered_and_changes_nothing(
    app, client, fake_whatsapp, planner, tech
):
    partner = make_partner(
        webhook_url="https://partner.example/hook", webhook_events=[VISIT_CONFIRMED]
    )
    day = working_day()
    order = _planned_order(app, planner, tech, day, partner=partner)
    remind_visits(now=_local(day - timedelta(days=1), 10, 5))
    drain_queues(app)
    reminder = db.session.scalars(sa.select(VisitReminder)).one()
    plan_number(order, 1, [tech], working_day(14), planner)
    drain_queues(app)

    _tap(app, client, f"visit-confirm:{reminder.id}", "Bevestigen", "wamid.tap1")

    reminder = db.session.scalars(sa.select(VisitReminder)).one()
    assert reminder.confirmed_at is None
    [answer] = _texts(fake_whatsapp)
    assert "inmiddels gewijzigd" in answer
    assert _confirmed_callbacks() == []


def test_verzetten_answers_and_makes_one_task_for_the_desk(
    app, client, fake_whatsapp, planner, tech
):
    day = working_day()
    order = _planned_order(app, planner, tech, day)
    remind_visits(now=_local(day - timedelta(days=1), 10, 5))
    drain_queues(app)
    reminder = db.session.scalars(sa.select(VisitReminder)).one()

    _tap(app, client, f"visit-move:{reminder.id}", "Verzetten", "wamid.tap1")
    _tap(app, client, f"visit-move:{reminder.id}", "Verzetten", "wamid.tap2")

    [answer] = _texts(fake_whatsapp)
    assert "planner neemt contact met u op" in answer
    # The way to the page's move (or, past the cut-off, its call-back times).
    link = re.search(r"http://127\.0\.0\.1:5000(/t/[\w-]{22}/move)$", answer)
    assert link, answer
    assert client.get(link[1]).status_code == 200
    [task] = _tasks()
    assert task.task_title == f"Klant wil het bezoek verzetten ({order.order_number})"
    assert task.order_id == order.id
    reminded_in = db.session.get(CommunicationMessage, reminder.message_id).thread_id
    assert task.thread_id == reminded_in
    # Asked to move is an answer: no "not answered" task follows.
    remind_visits(now=_local(day - timedelta(days=1), 18, 30))
    assert len(_tasks()) == 1


def test_an_unanswered_reminder_goes_to_the_desk_after_the_confirm_by_time_once(
    app, client, auth, fake_whatsapp, planner, tech
):
    day = working_day()
    order = _planned_order(app, planner, tech, day)
    remind_visits(now=_local(day - timedelta(days=1), 10, 5))
    drain_queues(app)

    remind_visits(now=_local(day - timedelta(days=1), 17, 55))
    assert _tasks() == []
    remind_visits(now=_local(day - timedelta(days=1), 18, 5))
    remind_visits(now=_local(day - timedelta(days=1), 19, 5))

    [task] = _tasks()
    assert task.task_title == (f"Herinnering niet beantwoord: bel de klant ({order.order_number})")
    assert task.order_id == order.id and task.thread_id is not None
    auth.login(planner.email)
    monday = day - timedelta(days=day.weekday())
    board = client.get(f"/planning/?week={week_key(monday)}").get_data(as_text=True)
    assert 'data-testid="visit-confirmation">Niet bevestigd<' in board


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"VISIT_REMINDER_TIME": "25:00"}, "VISIT_REMINDER_TIME"),
        ({"VISIT_CONFIRM_BY": "zes uur"}, "VISIT_CONFIRM_BY"),
        ({"VISIT_REMINDER_TIME": "18:00", "VISIT_CONFIRM_BY": "10:00"}, "VISIT_CONFIRM_BY"),
    ],
)
def test_reminder_times_are_checked_at_start(make_app, settings, named):
    with pytest.raises(RuntimeError, match=named):
        make_app(**settings)


def test_an_interactive_reply_confirms_too_and_is_thanked_in_english(
    app, client, fake_whatsapp, planner, tech
):
    day = working_day()
    _planned_order(app, planner, tech, day, contact_fields={"locale": "en"})
    remind_visits(now=_local(day - timedelta(days=1), 10, 5))
    drain_queues(app)
    reminder = db.session.scalars(sa.select(VisitReminder)).one()
    message = {
        "from": CUSTOMER_WA,
        "id": "wamid.reply1",
        "timestamp": str(int(clock.time())),
        "type": "interactive",
        "interactive": {
            "type": "button_reply",
            "button_reply": {"id": f"visit-confirm:{reminder.id}", "title": "Confirm"},
        },
    }

    deliver(app, client, wa.webhook(contacts=[wa.contact(CUSTOMER_WA, "Jan")], messages=[message]))
    drain_queues(app)
    db.session.expire_all()

    assert db.session.scalars(sa.select(VisitReminder)).one().confirmed_at is not None
    assert _texts(fake_whatsapp) == ["Thank you, see you tomorrow!"]


def test_a_forged_payload_changes_nothing(app, client, fake_whatsapp, planner, tech):
    day = working_day()
    _planned_order(app, planner, tech, day)
    remind_visits(now=_local(day - timedelta(days=1), 10, 5))
    drain_queues(app)

    _tap(app, client, "visit-confirm:1", "Bevestigen", "wamid.tap1")
    _tap(app, client, f"visit-confirm:{uuid.uuid4()}", "Bevestigen", "wamid.tap2")

    assert db.session.scalars(sa.select(VisitReminder)).one().confirmed_at is None
    assert _texts(fake_whatsapp) == []


def test_a_customer_who_starts_on_whatsapp_after_the_email_is_not_reminded_twice(
    app, fake_whatsapp, planner, tech
):
    day = working_day()
    order = _planned_order(app, planner, tech, day, with_whatsapp=False)
    assert remind_visits(now=_local(day - timedelta(days=1), 10, 5)) == 1
    # The customer writes on WhatsApp that afternoon: that is now their conversation.
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    factories.thread(whatsapp, order.end_customer, order_id=order.id)
    db.session.commit()

    assert remind_visits(now=_local(day - timedelta(days=1), 14, 5)) == 0
    drain_queues(app)
    assert _reminders(fake_whatsapp) == []
    assert db.session.scalars(sa.select(VisitReminder)).all() == []
