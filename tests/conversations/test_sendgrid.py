"""Transactional e-mail through SendGrid v3 and its signed event webhook."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from rq.registry import ScheduledJobRegistry

from app.conversations.channels.email.confirmations import send_order_confirmation
from app.conversations.channels.email.reminders import send_visit_reminders
from app.conversations.channels.email.transactional import send_transactional
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    InboundWebhookEvent,
    LineItem,
    Order,
    SandboxSend,
    Visit,
)
from app.platform.models.enums import ChannelType, DeliveryStatus, OrderStatus, ThreadStatus
from app.platform.transactions import commit
from app.platform.transports import ratelimit
from app.platform.transports.ratelimit import Limit
from tests.conftest import opened
from tests.fakes.sendgrid import API_KEY, FakeSendGrid
from tests.support import factories
from tests.support.helpers import serving
from tests.support.jobs import drain_queues, drain_until
from tests.support.planning_support import approved_order, working_day
from tests.support.visits_support import plan_number, two_visits

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
PUBLIC_BASE_URL = "https://switchboard.example.nl"
MAIL_FROM = "noreply@chargecars.nl"
TRACKING = {
    "click_tracking": {"enable": True},
    "open_tracking": {"enable": True},
    "subscription_tracking": {"enable": False},
}


@pytest.fixture
def sendgrid():
    yield from serving(FakeSendGrid())


@pytest.fixture
def app(make_app, sendgrid):
    app = make_app(
        SENDGRID_API_BASE=sendgrid.url,
        SENDGRID_API_KEY=API_KEY,
        MAIL_FROM=MAIL_FROM,
        SENDGRID_WEBHOOK_PUBLIC_KEY=sendgrid.verification_key,
        PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        DELIVERY_RETRY_BASE_SECONDS=0.2,
    )
    with opened(app) as app:
        yield app


def reload(message_id) -> CommunicationMessage:
    db.session.expire_all()
    return db.session.get(CommunicationMessage, message_id)


def send_one(to="jan@example.nl", **kwargs) -> uuid.UUID:
    message = send_transactional(
        to,
        kwargs.pop("template_key", "order_confirmation"),
        kwargs.pop("data", {"customer_name": "Jan Janssen", "order_id": "ORD-2025-001"}),
        kwargs.pop("categories", ["order", "confirmation", "transactional"]),
        **kwargs,
    )
    commit()
    return message.id


def post_events(client, sendgrid, events):
    body, headers = sendgrid.signed_post(events)
    return client.post("/api/v1/webhooks/sendgrid", data=body, headers=headers)


def make_order(number: str, *, scheduled: date | None = None, **fields) -> Order:
    customer = fields.pop("customer", None) or factories.contact(
        display_name="Eva de Boer", email=f"{number.lower()}@example.nl"
    )
    order = Order(
        order_number=number,
        status=fields.pop("status", OrderStatus.SCHEDULED),
        end_customer_contact_id=customer.id,
        scheduled_date=scheduled,
        total_amount=Decimal("1234.50"),
        installation_preferences={"time_window": "ochtend (08:00-12:00)"},
        **fields,
    )
    db.session.add(order)
    db.session.flush()
    db.session.add(LineItem(order_id=order.id, description="Wallbox 11kW", quantity=1))
    db.session.add(LineItem(order_id=order.id, description="Installatie", quantity=1, line_order=2))
    db.session.commit()
    return order


def test_mail_send_body_is_sendgrid_v3_with_template_data_categories_and_tracking(app, sendgrid):
    message_id = send_one("Jan@Example.nl", name="Jan Janssen")
    drain_queues(app)

    [call] = sendgrid.requests_to("/v3/mail/send")
    assert call.headers["Authorization"] == f"Bearer {API_KEY}"
    assert call.json() == {
        "personalizations": [
            {
                "to": [{"email": "jan@example.nl", "name": "Jan Janssen"}],
                "dynamic_template_data": {
                    "customer_name": "Jan Janssen",
                    "order_id": "ORD-2025-001",
                },
            }
        ],
        "from": {"email": MAIL_FROM, "name": "ChargeCars Nederland"},
        "reply_to": {"email": "info@chargecars.nl"},
        "template_id": "d-order-confirmation-2025",
        "categories": ["order", "confirmation", "transactional"],
        "tracking_settings": TRACKING,
    }
    message = reload(message_id)
    assert message.external_message_id == sendgrid.message_ids[0]
    assert message.delivery_status == DeliveryStatus.SENT
    assert message.channel.channel_type == ChannelType.EMAIL_OUTLOOK
    assert message.thread.contact.email == "jan@example.nl"
    # A thread made only for an automated mail owes nobody an answer.
    assert message.thread.status == ThreadStatus.RESOLVED


def test_send_at_is_passed_on_and_far_sends_wait_in_our_queue(app, sendgrid):
    soon = (utcnow() + timedelta(hours=2)).replace(microsecond=0)
    send_one(send_at=soon)
    later = send_one("piet@example.nl", send_at=utcnow() + timedelta(days=5))
    drain_queues(app)

    [call] = sendgrid.requests_to("/v3/mail/send")
    assert call.json()["personalizations"][0]["send_at"] == int(soon.timestamp())
    assert reload(later).delivery_status == DeliveryStatus.PENDING
    registry = ScheduledJobRegistry(queue=app.extensions["broker"].queue("deliveries"))
    assert registry.count == 1


def test_order_confirmation_is_sent_once_with_template_fields(app, sendgrid):
    order = make_order("CC-2026-00007", scheduled=date(2026, 3, 3))

    first = send_order_confirmation(str(order.id))
    again = send_order_confirmation(str(order.id))
    drain_queues(app)

    assert first is not None and again is None
    [call] = sendgrid.requests_to("/v3/mail/send")
    body = call.json()
    assert body["template_id"] == "d-order-confirmation-2025"
    assert body["categories"] == ["order", "confirmation", "transactional"]
    assert body["personalizations"][0]["to"] == [
        {"email": "cc-2026-00007@example.nl", "name": "Eva de Boer"}
    ]
    assert body["personalizations"][0]["dynamic_template_data"] == {
        "customer_name": "Eva de Boer",
        "order_id": "CC-2026-00007",
        # As the order page writes it (Babel, a no-break space after the sign).
        "order_total": "€\u00a01.234,50",
        "installation_date": "03-03-2026",
        "team_contact": "info@chargecars.nl",
        "articles": [
            {"name": "Wallbox 11kW", "quantity": 1},
            {"name": "Installatie", "quantity": 1},
        ],
    }
    assert reload(uuid.UUID(first)).thread.order_id == order.id


def test_order_confirmation_writes_the_total_as_its_reader_does(app, sendgrid):
    english = factories.contact(display_name="Tom Baker", email="tom@example.co.uk", locale="en")
    order = make_order("CC-2026-00008", customer=english)

    send_order_confirmation(str(order.id))
    drain_queues(app)

    [call] = sendgrid.requests_to("/v3/mail/send")
    data = call.json()["personalizations"][0]["dynamic_template_data"]
    assert data["order_total"] == "€1,234.50"


def test_visit_reminders_go_once_to_tomorrows_customers(app, sendgrid, make_user):
    now = datetime.now(AMSTERDAM).replace(hour=10, minute=0, second=0, microsecond=0)
    tomorrow = now.date() + timedelta(days=1)
    technician = make_user("technician", phone="+31611112222")
    due = make_order("CC-2026-00010", scheduled=tomorrow, assigned_technician_id=technician.id)
    make_order("CC-2026-00011", scheduled=tomorrow + timedelta(days=1))
    make_order("CC-2026-00012", scheduled=tomorrow, status=OrderStatus.CANCELLED)

    assert send_visit_reminders(now=now) == 1
    assert send_visit_reminders(now=now + timedelta(hours=1)) == 0
    drain_queues(app)

    [call] = sendgrid.requests_to("/v3/mail/send")
    body = call.json()
    assert body["template_id"] == "d-visit-reminder-2025"
    assert body["categories"] == ["visit", "reminder", "transactional"]
    assert "send_at" not in body["personalizations"][0]
    data = body["personalizations"][0]["dynamic_template_data"]
    # The customer's page of the order, at the app's public address.
    assert re.fullmatch(r"https://switchboard\.example\.nl/t/[\w-]{22}", data.pop("customer_link"))
    assert data == {
        "customer_name": "Eva de Boer",
        "order_id": "CC-2026-00010",
        "visit_date": tomorrow.strftime("%d-%m-%Y"),
        "visit_time": "ochtend (08:00-12:00)",
        "technician_name": "Test technician",
        "technician_phone": "+31611112222",
        "preparation_notes": (
            "Zorg dat de meterkast en de plek van de laadpaal vrij toegankelijk zijn."
        ),
    }
    db.session.expire_all()
    assert db.session.get(Order, due.id).installation_preferences == {
        "time_window": "ochtend (08:00-12:00)"
    }

    # A run in the night (a day later: CC-2026-00011 is now due too) hands the
    # mails over for 08:00 Amsterdam time.
    early = now.replace(hour=6) + timedelta(days=1)
    assert send_visit_reminders(now=early) == 1
    reminder = db.session.scalars(
        sa.select(CommunicationMessage).order_by(CommunicationMessage.created_at.desc())
    ).first()
    assert reminder.extra["visit_date"] == (tomorrow + timedelta(days=1)).isoformat()
    assert reminder.extra["sendgrid"]["send_at"] == int(early.replace(hour=8).timestamp())


def test_each_visit_of_an_order_is_reminded_on_the_day_before_it(app, sendgrid, make_user):
    """A second day of the installation is reminded of on its own day before, once;
    moved, it is reminded of again on the new day before."""
    planner = make_user("team_lead", language="nl")
    technician = make_user("technician", skills=["alfen"], phone="+31611112222")
    order = approved_order()
    first, second = working_day(7), working_day(9)
    two_visits(order, [technician], first, second, planner)
    drain_queues(app)

    def day_before(day):
        return datetime.combine(day - timedelta(days=1), time(10), AMSTERDAM)

    assert send_visit_reminders(now=day_before(first)) == 1
    assert send_visit_reminders(now=day_before(first) + timedelta(hours=1)) == 0
    # The first day done, the order stays in progress until its second.
    db.session.execute(
        sa.update(Visit).where(Visit.number == 1).values(started_at=utcnow(), completed_at=utcnow())
    )
    db.session.execute(sa.update(Order).values(status=OrderStatus.IN_PROGRESS))
    commit()
    assert send_visit_reminders(now=day_before(second)) == 1
    assert send_visit_reminders(now=day_before(second) + timedelta(hours=1)) == 0
    third = working_day(11)
    plan_number(order, 2, [technician], third, planner, time(13), time(17))
    assert send_visit_reminders(now=day_before(third)) == 1
    drain_queues(app)

    calls = sendgrid.requests_to("/v3/mail/send")
    reminders = [
        call.json() for call in calls if call.json().get("template_id") == "d-visit-reminder-2025"
    ]
    data = [body["personalizations"][0]["dynamic_template_data"] for body in reminders]
    assert [(d["visit_date"], d["visit_time"], d.get("visit_number")) for d in data] == [
        (first.strftime("%d-%m-%Y"), "08:00-12:00", None),
        (second.strftime("%d-%m-%Y"), "13:00-17:00", 2),
        (third.strftime("%d-%m-%Y"), "13:00-17:00", 2),
    ]
    assert {d["technician_phone"] for d in data} == {"+31611112222"}
    mails = db.session.scalars(
        sa.select(CommunicationMessage)
        .where(CommunicationMessage.extra["template_key"].as_string() == "visit_reminder")
        .order_by(CommunicationMessage.created_at)
    ).all()
    assert [(m.extra["visit_number"], m.extra["visit_date"]) for m in mails] == [
        ("1", first.isoformat()),
        ("2", second.isoformat()),
        ("2", third.isoformat()),
    ]
    assert [m.subject for m in mails] == [
        "Herinnering: installatie morgen (CC-2026-00101)",
        "Herinnering: vervolgbezoek morgen (CC-2026-00101)",
        "Herinnering: vervolgbezoek morgen (CC-2026-00101)",
    ]


def test_a_reminder_sent_before_visits_were_numbered_counts_as_the_first_visits(
    app, sendgrid, make_user
):
    now = datetime.now(AMSTERDAM).replace(hour=10, minute=0, second=0, microsecond=0)
    tomorrow = now.date() + timedelta(days=1)
    order = make_order("CC-2026-00013", scheduled=tomorrow)
    assert send_visit_reminders(now=now) == 1
    mail = db.session.scalars(sa.select(CommunicationMessage)).one()
    mail.extra = {k: v for k, v in mail.extra.items() if k != "visit_number"}
    commit()
    assert send_visit_reminders(now=now + timedelta(hours=1)) == 0
    assert db.session.get(Order, order.id).scheduled_date == tomorrow


def test_signed_events_move_the_mail_to_delivered_and_read_once_each(app, client, sendgrid):
    message_id = send_one()
    drain_queues(app)
    external_id = reload(message_id).external_message_id
    delivered = sendgrid.event("delivered", external_id, "jan@example.nl", response="250 OK")
    opened = sendgrid.event("open", external_id, "jan@example.nl", useragent="Mozilla/5.0")

    response = post_events(client, sendgrid, [delivered, opened])
    assert response.status_code == 200
    drain_queues(app)

    message = reload(message_id)
    assert message.delivery_status == DeliveryStatus.READ
    assert message.delivered_at is not None and message.read_at is not None
    # The same open again, in a new batch beside another event: applied once.
    processed = sendgrid.event("processed", external_id, "jan@example.nl")
    assert post_events(client, sendgrid, [opened, processed]).status_code == 200
    # And a batch SendGrid retries verbatim is stored once.
    body, headers = sendgrid.signed_post([delivered])
    for _ in range(2):
        client.post("/api/v1/webhooks/sendgrid", data=body, headers=headers)
    drain_queues(app)

    history = reload(message_id).extra["sendgrid_events"]
    assert [entry["id"] for entry in history] == [
        delivered["sg_event_id"],
        opened["sg_event_id"],
        processed["sg_event_id"],
    ]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundWebhookEvent)) == 3


def test_bounces_drops_and_blocks_fail_the_mail_with_the_reason(app, client, sendgrid):
    ids = [send_one(f"klant{n}@example.nl") for n in range(4)]
    drain_queues(app)
    external = [reload(i).external_message_id for i in ids]
    events = [
        sendgrid.event(
            "bounce",
            external[0],
            "klant0@example.nl",
            type="bounce",
            reason="550 5.1.1 The email account does not exist",
            status="5.1.1",
        ),
        sendgrid.event("dropped", external[1], "klant1@example.nl", reason="Bounced Address"),
        sendgrid.event(
            "bounce", external[2], "klant2@example.nl", type="blocked", reason="IP blocklisted"
        ),
        sendgrid.event("deferred", external[3], "klant3@example.nl", response="400 try later"),
    ]
    post_events(client, sendgrid, events)
    drain_queues(app)

    outcomes = [(reload(i).delivery_status, reload(i).delivery_error) for i in ids]
    assert outcomes == [
        (DeliveryStatus.BOUNCED, "Bounced: 550 5.1.1 The email account does not exist"),
        (DeliveryStatus.FAILED, "Dropped: Bounced Address"),
        (DeliveryStatus.FAILED, "Blocked: IP blocklisted"),
        (DeliveryStatus.SENT, None),
    ]


def test_badly_signed_event_posts_are_refused(app, client, sendgrid):
    events = [sendgrid.event("delivered", "abc", "jan@example.nl")]
    body, headers = sendgrid.signed_post(events)
    impostor_body, impostor_headers = FakeSendGrid().signed_post(events)
    cases = {
        "tampered": (body.replace(b"delivered", b"open"), headers),
        "other key": (impostor_body, impostor_headers),
        "no signature": (body, {"Content-Type": "application/json"}),
        "other timestamp": (
            body,
            {**headers, "X-Twilio-Email-Event-Webhook-Timestamp": "1600000000"},
        ),
        "not base64": (body, {**headers, "X-Twilio-Email-Event-Webhook-Signature": "%%%"}),
    }
    for name, (data, sent_headers) in cases.items():
        response = client.post("/api/v1/webhooks/sendgrid", data=data, headers=sent_headers)
        assert response.status_code == 401, name
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InboundWebhookEvent)) == 0


def test_unsigned_events_are_accepted_only_in_sandbox_mode(app, client, monkeypatch):
    body = b'[{"event": "delivered", "sg_message_id": "x.filter1", "sg_event_id": "e1"}]'
    headers = {"Content-Type": "application/json"}
    monkeypatch.setitem(app.config, "SENDGRID_WEBHOOK_PUBLIC_KEY", None)
    assert client.post("/api/v1/webhooks/sendgrid", data=body, headers=headers).status_code == 401
    monkeypatch.setitem(app.config, "SENDGRID_API_KEY", None)
    assert client.post("/api/v1/webhooks/sendgrid", data=body, headers=headers).status_code == 200


def test_event_bodies_must_be_json_arrays_under_a_megabyte(app, client, sendgrid):
    body, headers = sendgrid.signed_post([])
    assert client.post("/api/v1/webhooks/sendgrid", data=body, headers=headers).status_code == 200

    _, headers = sendgrid.signed_post([])
    timestamp = headers["X-Twilio-Email-Event-Webhook-Timestamp"]
    not_a_list = b'{"event": "delivered"}'
    signature = sendgrid.sign(timestamp.encode() + not_a_list)
    response = client.post(
        "/api/v1/webhooks/sendgrid",
        data=not_a_list,
        headers={**headers, "X-Twilio-Email-Event-Webhook-Signature": signature},
    )
    assert response.status_code == 400

    huge = b"[" + b" " * (1024 * 1024) + b"]"
    assert client.post("/api/v1/webhooks/sendgrid", data=huge, headers=headers).status_code == 413


def test_server_errors_are_retried_until_sendgrid_accepts(app, sendgrid):
    sendgrid.answer_next(503, {"errors": [{"message": "Service Unavailable"}]})
    message_id = send_one()

    drain_until(app, lambda: reload(message_id).delivery_status == DeliveryStatus.SENT)

    assert len(sendgrid.requests_to("/v3/mail/send")) == 2
    assert reload(message_id).external_message_id == sendgrid.message_ids[0]


def test_a_refused_mail_fails_with_sendgrids_words(app, sendgrid):
    sendgrid.answer_next(
        400, {"errors": [{"message": "The template_id must be a valid GUID", "field": "x"}]}
    )
    message_id = send_one(template_key="d-nonexistent")
    drain_queues(app)

    message = reload(message_id)
    assert message.delivery_status == DeliveryStatus.FAILED
    assert message.delivery_error == "SendGrid HTTP 400: The template_id must be a valid GUID"
    assert len(sendgrid.requests_to("/v3/mail/send")) == 1


def test_without_credentials_mails_are_recorded_in_the_sandbox(app, sendgrid, monkeypatch):
    monkeypatch.setitem(app.config, "SENDGRID_API_KEY", None)
    message_id = send_one()

    drain_until(app, lambda: reload(message_id).delivery_status == DeliveryStatus.DELIVERED)

    assert sendgrid.requests == []
    [record] = db.session.scalars(sa.select(SandboxSend)).all()
    assert (record.provider, record.recipient, record.message_id) == (
        "sendgrid",
        "jan@example.nl",
        message_id,
    )
    assert record.request_body["template_id"] == "d-order-confirmation-2025"
    assert record.request_body["tracking_settings"] == TRACKING


def test_over_the_limit_a_mail_waits_for_the_next_window(app, sendgrid, monkeypatch):
    monkeypatch.setitem(ratelimit.LIMITS, "sendgrid", Limit(1, 60))
    first, second = send_one(), send_one("piet@example.nl")
    drain_queues(app)

    assert len(sendgrid.requests_to("/v3/mail/send")) == 1
    statuses = {reload(first).delivery_status, reload(second).delivery_status}
    assert statuses == {DeliveryStatus.SENT, DeliveryStatus.PENDING}
    registry = ScheduledJobRegistry(queue=app.extensions["broker"].queue("deliveries"))
    assert registry.count == 1
