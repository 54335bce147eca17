"""Set-up for the Web Push tests: VAPID settings, a fake push service, a visit whose
conversation a customer writes on."""

from __future__ import annotations

import sqlalchemy as sa

from app.orders.mobile.push import generate_vapid_keys
from app.platform.extensions import db
from app.platform.models import CommunicationChannel, CommunicationThread, Contact
from app.platform.models.enums import ChannelType
from tests.fakes.webpush import FakePushService
from tests.support import factories
from tests.support.helpers import serving
from tests.support.mobile_support import visit

VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY = generate_vapid_keys()
VAPID_SETTINGS = {
    "VAPID_PUBLIC_KEY": VAPID_PUBLIC_KEY,
    "VAPID_PRIVATE_KEY": VAPID_PRIVATE_KEY,
    "VAPID_SUBJECT": "mailto:planning@chargecars.nl",
}


def fake_push_service():
    """Yield a running fake push service (the body of a fixture)."""
    yield from serving(FakePushService())


def visit_with_conversation(technician, **fields):
    """``technician``'s visit today, and its customer's open WhatsApp conversation."""
    order = visit(technician, **fields)
    whatsapp = db.session.scalar(
        sa.select(CommunicationChannel).where(
            CommunicationChannel.channel_type == ChannelType.WHATSAPP_BUSINESS
        )
    )
    customer = db.session.get(Contact, order.end_customer_contact_id)
    thread = factories.thread(whatsapp, customer, order_id=order.id)
    db.session.commit()
    return order, whatsapp, customer, db.session.get(CommunicationThread, thread.id)
