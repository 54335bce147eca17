"""A burst of new customers while the desk is closed, on two ``worker.py`` processes.

Each customer writes twice, and Meta delivers every message twice. The two
workers' inbox consumers take the stored events as they come, a few at a time;
each new conversation gets the out-of-hours answer once, and the answers a
consumer makes go out in batch send jobs (:func:`app.conversations.core.sending.send_messages`).
The fake WhatsApp Cloud API must have had exactly one answer per customer.

Needs PostgreSQL and Redis (``TEST_DATABASE_URL``, ``TEST_REDIS_URL``).
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from rq.job import Job
from rq.registry import FinishedJobRegistry

from app.conversations.core import sending
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread
from app.platform.models.enums import (
    ChannelType,
    DeliveryStatus,
    MessageType,
    TemplateCategory,
    TemplateChannelType,
)
from app.platform.models.sla import BusinessCalendar
from app.platform.webhooks.recording import record_event
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.fakes import whatsapp as wa
from tests.support import factories
from tests.support.topology import wait_until
from tests.support.whatsapp_support import (
    fake_whatsapp_server,
    whatsapp_app_without_worker,
    whatsapp_settings,
)

pytestmark = pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis)",
)

CUSTOMERS = 30
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SETTLE_SECONDS = 60.0

fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")


app = pytest.fixture(whatsapp_app_without_worker, name="app")


def closed_desk() -> None:
    """A WhatsApp channel whose calendar is closed today and tomorrow, and the answer."""
    today = utcnow().astimezone(ZoneInfo("Europe/Amsterdam")).date()
    calendar = BusinessCalendar(
        name="Dicht",
        weekly_hours={day: [["08:00", "17:00"]] for day in EVERY_DAY},
        holiday_country=None,
        closed_dates=[today.isoformat(), (today + timedelta(days=1)).isoformat()],
    )
    db.session.add(calendar)
    db.session.flush()
    factories.channel(
        ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp", business_calendar_id=calendar.id
    )
    factories.template(
        "We zijn gesloten, weer open {{next_opening}}.",
        template_category=TemplateCategory.AUTO_RESPONSE,
        channel_type=TemplateChannelType.WHATSAPP_BUSINESS,
        whatsapp_template_name="out_of_hours",
    )
    db.session.commit()


def phone(n: int) -> str:
    return f"3161400{n:04d}"


def store(n: int, wave: int) -> None:
    """Customer ``n``'s message of ``wave``, as Meta posts it (stored, not committed)."""
    wamid = f"wamid.burst{wave}-{n}"
    payload = wa.webhook(
        contacts=[wa.contact(phone(n), f"Klant {n}")],
        messages=[wa.text_message(phone(n), "Hallo, zijn jullie open?", wamid, int(time.time()))],
    )
    body, _ = wa.signed(payload, wa.APP_SECRET)
    record_event("whatsapp", wamid, body, headers={})


def answers_sent() -> int:
    db.session.expire_all()
    statuses = db.session.scalars(
        sa.select(CommunicationMessage.delivery_status).where(
            CommunicationMessage.message_type == MessageType.AUTO_RESPONSE
        )
    ).all()
    db.session.rollback()
    return sum(status == DeliveryStatus.SENT for status in statuses)


def test_a_burst_of_new_customers_out_of_hours_gets_one_answer_each_sent_in_batches(
    app, deployment, fake_whatsapp
):
    closed_desk()
    workers = deployment(**whatsapp_settings(fake_whatsapp))
    workers.start_worker()
    workers.start_worker()

    for wave in range(2):
        for n in range(CUSTOMERS):
            store(n, wave)
            store(n, wave)  # Meta delivers again: the same row
            if n % 3 == 2:
                db.session.commit()  # a few at a time, as webhooks come in
                time.sleep(0.02)
        db.session.commit()
    wait_until(lambda: answers_sent() == CUSTOMERS, SETTLE_SECONDS, "every answer sent")
    time.sleep(1.0)  # a second send, if any, would have reached the fake by now

    answered = Counter(body["to"] for body in fake_whatsapp.sent())
    assert answered == {phone(n): 1 for n in range(CUSTOMERS)}
    incoming = db.session.scalar(
        sa.select(sa.func.count()).where(CommunicationMessage.message_type == MessageType.INCOMING)
    )
    assert incoming == 2 * CUSTOMERS
    assert db.session.scalar(sa.select(sa.func.count(CommunicationThread.id))) == CUSTOMERS
    # The answers went out in batch jobs, several to a job.
    broker = app.extensions["broker"]
    finished = FinishedJobRegistry("deliveries", connection=broker.connection).get_job_ids()
    jobs = Job.fetch_many(finished, connection=broker.connection)
    batches = [len(job.args[0]) for job in jobs if job.func_name == sending.SEND_BATCH_JOB]
    singles = sum(job.func_name == sending.SEND_JOB for job in jobs)
    assert sum(batches) + singles == CUSTOMERS
    assert batches and max(batches) > 1, (batches, singles)
