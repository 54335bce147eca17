"""Shared by the WhatsApp tests: an app wired to the fake Cloud API, and small steps."""

from __future__ import annotations

import time

import sqlalchemy as sa

from app.database import utcnow
from app.extensions import db
from app.models import CommunicationMessage, CommunicationThread, InboundWebhookEvent
from app.models.enums import ChannelType, MessageType
from tests import factories
from tests.conftest import opened
from tests.fakes import whatsapp as wa
from tests.jobs import drain_queues

CUSTOMER = "31687654321"
CUSTOMER_E164 = "+31687654321"


def whatsapp_app(make_app, fake: wa.FakeWhatsApp, attachments_dir):
    """Yield an app configured for the real transport against ``fake`` (as ``app`` does)."""
    app = make_app(
        WHATSAPP_API_BASE=fake.url,
        WHATSAPP_API_VERSION=wa.VERSION,
        WHATSAPP_PHONE_NUMBER_ID=wa.PHONE_NUMBER_ID,
        WHATSAPP_ACCESS_TOKEN=wa.ACCESS_TOKEN,
        WHATSAPP_APP_SECRET=wa.APP_SECRET,
        WHATSAPP_VERIFY_TOKEN=wa.VERIFY_TOKEN,
        ATTACHMENTS_DIR=str(attachments_dir),
    )
    with opened(app) as app:
        yield app


def post_signed(client, payload, secret: str = wa.APP_SECRET):
    raw, headers = wa.signed(payload, secret)
    return client.post("/api/v1/webhooks/whatsapp", data=raw, headers=headers)


def deliver(app, client, payload):
    """Post a signed webhook and run its processing job."""
    response = post_signed(client, payload)
    assert response.status_code == 200, response.get_data(as_text=True)
    drain_queues(app)
    db.session.expire_all()
    return response


def customer_text(body: str, wamid: str = "wamid.in1", ago_seconds: int = 0) -> dict:
    return wa.webhook(
        contacts=[wa.contact(CUSTOMER, "Jan Jansen")],
        messages=[wa.text_message(CUSTOMER, body, wamid, int(time.time()) - ago_seconds)],
    )


def messages(message_type: MessageType | None = None) -> list[CommunicationMessage]:
    query = sa.select(CommunicationMessage).order_by(CommunicationMessage.created_at)
    if message_type is not None:
        query = query.where(CommunicationMessage.message_type == message_type)
    return list(db.session.scalars(query))


def only_thread() -> CommunicationThread:
    return db.session.scalars(sa.select(CommunicationThread)).one()


def events() -> list[InboundWebhookEvent]:
    return list(db.session.scalars(sa.select(InboundWebhookEvent)))


def whatsapp_thread(*, inbound_ago=None, **thread_fields):
    """A WhatsApp thread with Jan; an inbound message ``inbound_ago`` (a timedelta) ago."""
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    jan = factories.contact(display_name="Jan Jansen", phone=CUSTOMER_E164, email=None)
    thread = factories.thread(channel, jan, thread_subject="Laadpaal", **thread_fields)
    if inbound_ago is not None:
        factories.message(
            thread,
            "Hoi, een vraag",
            sender_contact_id=jan.id,
            external_message_id="wamid.in1",
            created_at=utcnow() - inbound_ago,
        )
    db.session.commit()
    return thread


def wait_until(check, app, timeout: float = 15.0):
    """Run jobs until ``check()`` is true (retries are scheduled, not queued)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        drain_queues(app)
        db.session.expire_all()
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")
