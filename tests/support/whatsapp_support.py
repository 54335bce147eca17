"""Shared by the WhatsApp tests: an app wired to the fake Cloud API, and small steps.

``fake_whatsapp_server`` and ``whatsapp_app`` are fixture bodies (their parameters
are fixture names); a test module binds them under the names its tests ask for::

    fake_whatsapp = pytest.fixture(fake_whatsapp_server, name="fake_whatsapp")
    app = pytest.fixture(whatsapp_app, name="app")
"""

from __future__ import annotations

import time

import sqlalchemy as sa

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread, InboundWebhookEvent
from app.platform.models.enums import ChannelType, MessageType
from tests.conftest import opened
from tests.fakes import whatsapp as wa
from tests.support import factories
from tests.support.helpers import serving
from tests.support.jobs import drain_queues

CUSTOMER = "31687654321"
CUSTOMER_E164 = "+31687654321"


def fake_whatsapp_server():
    """Yield a running fake Cloud API."""
    yield from serving(wa.FakeWhatsApp())


def whatsapp_settings(fake: wa.FakeWhatsApp) -> dict:
    """The settings that point the real WhatsApp transport at ``fake``."""
    return {
        "WHATSAPP_API_BASE": fake.url,
        "WHATSAPP_API_VERSION": wa.VERSION,
        "WHATSAPP_PHONE_NUMBER_ID": wa.PHONE_NUMBER_ID,
        "WHATSAPP_ACCESS_TOKEN": wa.ACCESS_TOKEN,
        "WHATSAPP_APP_SECRET": wa.APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": wa.VERIFY_TOKEN,
    }


def whatsapp_app(make_app, fake_whatsapp: wa.FakeWhatsApp, tmp_path, **overrides):
    """Yield an app configured for the real transport against ``fake_whatsapp`` (as ``app``
    does), its files under ``tmp_path``; ``overrides`` are further settings."""
    app = make_app(
        **whatsapp_settings(fake_whatsapp),
        ATTACHMENTS_DIR=str(tmp_path / "attachments"),
        **overrides,
    )
    with opened(app) as app:
        yield app


def whatsapp_app_without_worker(make_app, fake_whatsapp: wa.FakeWhatsApp):
    """Yield an app for the real transport against ``fake_whatsapp`` with no worker in
    this process: the jobs it queues wait in Redis (for ``worker.py`` processes, or to
    be looked at)."""
    with opened(make_app(start_embedded_worker=False, **whatsapp_settings(fake_whatsapp))) as app:
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
