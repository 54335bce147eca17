"""The customer beside a conversation: who they are, where to reach them, what else is going on.

The workspace's right-hand sidebar reads everything here in a handful of
indexed queries: the contact's identities (every address they reach us from),
their other conversations the viewer may see, and their orders with the next
planned visit. The best slots of the conversation's own order, for the desk to plan
while the customer is on the line, load after the panel from the order context
(``slots_url``): finding them is too slow for every conversation opened.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from app.conversations.contacts.services import update_contact_details
from app.conversations.core import refresh_customer_search
from app.conversations.inbox.access import visible_threads_clause
from app.conversations.merges.comparison import contact_merge_refusal
from app.conversations.merges.contacts import recent_merges_into
from app.conversations.order_hooks import invoices_of, slots_url
from app.platform.auth.decorators import STAFF_DESK_ROLES
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationThread,
    Contact,
    ContactIdentity,
    ContactMerge,
    Order,
    OrderInvoice,
    User,
)
from app.platform.models.enums import OrderStatus
from app.platform.ui import DISPLAY_ZONE

OTHER_THREADS = 8
ORDERS = 8
FINISHED_ORDERS = (OrderStatus.COMPLETED, OrderStatus.CANCELLED)
CHANNEL_NAMES = {"phone": "WhatsApp · SMS", "email": _l("E-mail")}


@dataclass
class Reachable:
    kind: str  # "phone" or "email"
    label: str
    address: str


@dataclass
class OrderLine:
    order: Order
    next_visit: date | None
    # Our invoice of the order (paid, refunded), once the order is completed.
    invoice: OrderInvoice | None = None


@dataclass
class CustomerPanel:
    contact: Contact | None
    channels: list[Reachable] = field(default_factory=list)
    other_threads: list[CommunicationThread] = field(default_factory=list)
    orders: list[OrderLine] = field(default_factory=list)
    # Contacts merged into this one in the last day: each can still be undone.
    recent_merges: list[ContactMerge] = field(default_factory=list)
    # Why the viewer cannot merge this contact, shown beside the disabled control.
    merge_refusal: str | None = None
    # Where the conversation's order's best slots load from (the desk's, while it can
    # be planned), else None.
    slots_url: str | None = None


def customer_panel(thread: CommunicationThread, viewer: User) -> CustomerPanel:
    """What the sidebar shows for ``thread``'s customer, as ``viewer`` may see it."""
    contact = thread.contact
    if contact is None:
        return CustomerPanel(None)
    return CustomerPanel(
        contact,
        channels=reachable_on(contact),
        other_threads=_other_threads(thread, contact, viewer),
        orders=_orders(thread, contact, viewer),
        recent_merges=recent_merges_into(contact.id) if viewer.role in STAFF_DESK_ROLES else [],
        merge_refusal=contact_merge_refusal(viewer, contact),
        slots_url=_slots_url(thread, viewer),
    )


def _slots_url(thread: CommunicationThread, viewer: User) -> str | None:
    if thread.order_id is None or viewer.role not in STAFF_DESK_ROLES:
        return None
    return slots_url(thread.order_id, viewer, thread.id)


def reachable_on(contact: Contact) -> list[Reachable]:
    """Every address of the contact: its identities, and its own fields if not claimed yet."""
    addresses = db.session.execute(
        sa.select(ContactIdentity.kind, ContactIdentity.address)
        .where(ContactIdentity.contact_id == contact.id)
        .order_by(ContactIdentity.kind.desc(), ContactIdentity.created_at)
    ).all()
    seen = {(kind, address) for kind, address in addresses}
    for kind, own in (("phone", contact.phone), ("email", (contact.email or "").lower() or None)):
        if own and (kind, own) not in seen:
            addresses.append((kind, own))
            seen.add((kind, own))
    return [
        Reachable(kind, str(CHANNEL_NAMES.get(kind, kind)), address) for kind, address in addresses
    ]


def _other_threads(thread, contact, viewer) -> list[CommunicationThread]:
    query = (
        sa.select(CommunicationThread)
        .options(so.joinedload(CommunicationThread.channel))
        .where(CommunicationThread.contact_id == contact.id, CommunicationThread.id != thread.id)
        .order_by(CommunicationThread.last_message_at.desc())
        .limit(OTHER_THREADS)
    )
    visible = visible_threads_clause(viewer)
    if visible is not None:
        query = query.where(visible)
    return list(db.session.scalars(query))


def _orders(thread, contact, viewer) -> list[OrderLine]:
    # Orders (amounts, partner references) are the desk's, as on /orders/<n>.
    if viewer.role not in STAFF_DESK_ROLES:
        return []
    mine = [Order.end_customer_contact_id == contact.id, Order.account_contact_id == contact.id]
    if thread.order_id is not None:
        mine.append(Order.id == thread.order_id)
    orders = db.session.scalars(
        sa.select(Order)
        # A partner's sandbox order for this customer is no order of theirs.
        .where(sa.or_(*mine), Order.is_test.is_(False))
        .order_by(Order.created_at.desc())
        .limit(ORDERS)
    ).all()
    today = utcnow().astimezone(DISPLAY_ZONE).date()
    invoices = invoices_of([order.id for order in orders])
    return [
        OrderLine(
            order,
            order.scheduled_date
            if order.scheduled_date
            and order.scheduled_date >= today
            and order.status not in FINISHED_ORDERS
            else None,
            invoices.get(order.id),
        )
        for order in orders
    ]


def edit_contact(contact_id: uuid.UUID, *, name: str, phone: str, email: str) -> Contact:
    """Save an agent's edit of the contact and refresh their threads' search documents.

    Raises ``InvalidContact`` naming the field; the caller rolls back and commits.
    """
    contact = db.session.get(Contact, contact_id)
    update_contact_details(contact, name=name, phone=phone, email=email)
    refresh_customer_search(contact.id)
    return contact
