"""A team and its customers near Utrecht for the proposal tests on a deployment.

Technicians start from their bases with an Outlook calendar (their e-mail at
ChargeCars); customers live a few kilometres apart, reachable by e-mail through the
Outlook channel, so a plan's message goes out through the fake Graph; a partner's
orders call back to a fake receiver. What the tests count once the workers are done:
the partner's callbacks, the customers' messages and the calendars' events.

``graph_for_deployment``, ``partner_receiver`` and ``app_beside_deployment`` are
fixture bodies; a test module binds them, as in
``graph = pytest.fixture(graph_for_deployment, name="graph")``.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from rq.registry import StartedJobRegistry

from app.platform.extensions import db
from app.platform.jobs.queues import QUEUE_NAMES
from app.platform.models import (
    Address,
    Article,
    CalendarEvent,
    Contact,
    LineItem,
    Order,
    OutboundDelivery,
    TechnicianBase,
    Visit,
    VisitNotice,
)
from app.platform.models.enums import AddressType, ArticleType, ChannelType, OrderStatus
from tests.conftest import opened
from tests.fakes.receiver import FakeReceiver
from tests.support import factories
from tests.support.helpers import serving
from tests.support.outlook_support import MAILBOX, GraphForProcesses
from tests.support.partner_support import make_partner

# Where the technicians start their day.
BASES = {
    "Daan Mulder": ("Berlijnplein 1, 3541CM Utrecht", "52.099000", "5.064000"),
    "Kevin Hendriks": ("Biltstraat 100, 3572BJ Utrecht", "52.094500", "5.133000"),
    "Ruben de Jong": ("Oudegracht 5a, 3511AB Utrecht", "52.090700", "5.121400"),
}
# Customers' places in and around Utrecht, a few kilometres apart.
PLACES = [
    ("3511AB", "52.100000", "5.110000"),
    ("3582KL", "52.080000", "5.140000"),
    ("3531CD", "52.070000", "5.090000"),
    ("3562EF", "52.110000", "5.100000"),
    ("3523GH", "52.065000", "5.120000"),
    ("3581JK", "52.088000", "5.150000"),
    ("3552LM", "52.105000", "5.130000"),
    ("3544NP", "52.095000", "5.060000"),
]
CALLBACK_EVENTS = ["visit_scheduled", "visit_rescheduled"]


def graph_for_deployment(monkeypatch):
    """The fake Graph, running; the deployment's processes copy this environment, so
    they trust its TLS."""
    fake = GraphForProcesses(mailbox=MAILBOX).start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)
    yield fake
    fake.stop()


def partner_receiver():
    """The partner's receiver, running; its secret is set once the partner is made
    (:func:`partner_calling_back`)."""
    yield from serving(FakeReceiver(secret="whsec_unknown"))


def app_beside_deployment(make_app):
    """The test's app, emptying the database and Redis; it runs no job itself, and
    reads what the deployment did."""
    with opened(make_app(start_embedded_worker=False)) as app:
        yield app


def technician(make_user, name: str, skills: list[str]):
    """A technician with a base and an Outlook calendar (their ChargeCars mailbox)."""
    first, *rest = name.lower().split()
    user = make_user(
        "technician", email=f"{first}.{rest[-1]}@chargecars.nl", skills=skills, language="nl"
    )
    user.name = name
    label, latitude, longitude = BASES[name]
    street, postal = label.split(", ")
    db.session.add(
        TechnicianBase(
            user_id=user.id,
            start_label=label,
            start_postal_code=postal[:6],
            start_house_number=street.split()[-1],
            start_latitude=Decimal(latitude),
            start_longitude=Decimal(longitude),
        )
    )
    db.session.commit()
    return user


def outlook_channel():
    """The channel the customers' messages go out on (e-mail, through Graph)."""
    record = factories.channel(ChannelType.EMAIL_OUTLOOK, channel_name="Outlook")
    db.session.commit()
    return record


def partner_calling_back(receiver):
    """A partner whose plan callbacks go to ``receiver``, which checks its signatures."""
    partner = make_partner(
        webhook_url=f"{receiver.url}/hooks/chargecars", webhook_events=CALLBACK_EVENTS
    )
    receiver.secret = partner.secret
    return partner


def customer_order(
    number: str, place, customer: str, partner=None, preferred_date: date | None = None
) -> Order:
    """An approved order for an Alfen charger at ``place`` (postcode, latitude,
    longitude; None: an address the map does not know), any time of day, on
    ``preferred_date`` if the customer asked for one."""
    first = customer.split()[0]
    contact = Contact(
        display_name=customer,
        first_name=first,
        email=f"{first.lower()}.{number[-3:]}@example.nl",
    )
    db.session.add(contact)
    db.session.flush()
    postal, latitude, longitude = place or ("3511AB", None, None)
    address = Address(
        address_type=AddressType.INSTALLATION,
        street="Laadpaalstraat",
        house_number=number[-2:].lstrip("0") or "1",
        postal_code=postal,
        city="Utrecht",
        contact_id=contact.id,
        latitude=Decimal(latitude) if latitude else None,
        longitude=Decimal(longitude) if longitude else None,
    )
    db.session.add(address)
    db.session.flush()
    order = Order(
        order_number=number,
        status=OrderStatus.APPROVED,
        end_customer_contact_id=contact.id,
        installation_address_id=address.id,
        installation_preferences={
            "time_window": None,
            "preferred_date": preferred_date.isoformat() if preferred_date else None,
        },
        partner_organization_id=partner.organization.id if partner else None,
        partner_order_id=f"GRO-{number[-5:]}" if partner else None,
    )
    article = Article(
        sku=f"ALFEN-{number}",
        name="Alfen Eve Single 11 kW",
        article_type=ArticleType.WALLBOX,
        brand="Alfen",
    )
    db.session.add_all([order, article])
    db.session.flush()
    db.session.add(
        LineItem(order_id=order.id, article_id=article.id, description=article.name, line_order=1)
    )
    db.session.commit()
    return order


def workers_idle(app) -> bool:
    """No job waiting or running on any queue, seen twice 200 ms apart (a job just
    taken off its queue is not yet in the started registry)."""
    broker = app.extensions["broker"]
    queues = [broker.queue(name) for name in QUEUE_NAMES]
    for attempt in range(2):
        if any(q.count for q in queues) or any(StartedJobRegistry(queue=q).count for q in queues):
            return False
        if attempt == 0:
            time.sleep(0.2)
    return True


def told(order_ids) -> dict:
    """What the workers sent about these orders, counted: the partner's deliveries
    per (order, event) and those not yet delivered, the customers' notices per
    (order, kind) and those not yet sent, the calendar rows per order and those
    cancelled."""
    db.session.expire_all()
    ids = list(order_ids)
    deliveries = db.session.execute(
        sa.select(
            OutboundDelivery.order_id, OutboundDelivery.event_type, OutboundDelivery.delivered_at
        ).where(OutboundDelivery.order_id.in_(ids))
    ).all()
    notices = db.session.execute(
        sa.select(Visit.order_id, VisitNotice.kind, VisitNotice.sent_at)
        .join(VisitNotice, VisitNotice.visit_id == Visit.id)
        .where(Visit.order_id.in_(ids))
    ).all()
    rows = db.session.execute(
        sa.select(CalendarEvent.order_id, CalendarEvent.cancelled_at).where(
            CalendarEvent.order_id.in_(ids)
        )
    ).all()
    db.session.rollback()
    return {
        "deliveries": Counter((order_id, event) for order_id, event, _ in deliveries),
        "undelivered": sum(1 for *_, delivered_at in deliveries if delivered_at is None),
        "notices": Counter((order_id, kind) for order_id, kind, _ in notices),
        "unsent": sum(1 for *_, sent_at in notices if sent_at is None),
        "calendar_rows": Counter(order_id for order_id, _ in rows),
        "calendar_cancelled": sum(1 for _, cancelled in rows if cancelled is not None),
    }
