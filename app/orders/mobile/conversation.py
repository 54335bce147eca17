"""The order's conversation: where a visit's events, photos and quick replies land.

Agents follow an order in its customer thread (``/threads/<id>``), so what the
technician does on site is written there: status taps and "on the way" as
system lines, photos as internal notes, quick replies as ordinary replies.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.conversations.channels.email.records import order_thread_for
from app.conversations.core import announce_change, open_thread, record_status_line
from app.conversations.workspace.services import InvalidInput, compose_reply, reachable_channels
from app.conversations.workspace.technician_replies import TechnicianMayNotWrite
from app.platform.extensions import db
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationTemplate,
    CommunicationThread,
    Contact,
    Order,
    User,
)
from app.platform.models.enums import ChannelType, ThreadStatus, ThreadType
from app.platform.system_texts import SystemText


def find_order_thread(order: Order) -> CommunicationThread | None:
    """The order's latest conversation that is not closed, the end customer's first."""
    customer_first = sa.case(
        (CommunicationThread.contact_id == order.end_customer_contact_id, 0), else_=1
    )
    return db.session.scalar(
        sa.select(CommunicationThread)
        .where(
            CommunicationThread.order_id == order.id,
            CommunicationThread.status != ThreadStatus.CLOSED,
        )
        .order_by(customer_first, CommunicationThread.last_message_at.desc())
        .limit(1)
    )


# The phone shows the latest messages; older ones are on the desktop page.
CONVERSATION_LIMIT = 60


def conversation_messages(thread: CommunicationThread) -> list[CommunicationMessage]:
    """The thread's latest messages, notes and lines, oldest first, for the phone."""
    latest = db.session.scalars(
        sa.select(CommunicationMessage)
        .options(
            so.joinedload(CommunicationMessage.sender_user),
            so.joinedload(CommunicationMessage.sender_contact),
        )
        .where(CommunicationMessage.thread_id == thread.id)
        .order_by(CommunicationMessage.created_at.desc(), CommunicationMessage.id.desc())
        .limit(CONVERSATION_LIMIT)
    ).all()
    return list(reversed(latest))


def customer_channel(contact: Contact | None) -> CommunicationChannel | None:
    """Where a new conversation with the customer would run: WhatsApp, else e-mail."""
    if contact is None:
        return None
    wanted = []
    if contact.phone:
        wanted.append(ChannelType.WHATSAPP_BUSINESS)
    if contact.email:
        wanted.append(ChannelType.EMAIL_OUTLOOK)
    for channel_type in wanted:
        channel = db.session.scalar(
            sa.select(CommunicationChannel)
            .where(
                CommunicationChannel.channel_type == channel_type,
                CommunicationChannel.is_active.is_(True),
            )
            .order_by(CommunicationChannel.created_at)
            .limit(1)
        )
        if channel is not None:
            return channel
    return None


def order_thread(order: Order) -> CommunicationThread:
    """The order's conversation, started (resolved: nothing is owed yet) if it has none."""
    thread = find_order_thread(order)
    if thread is not None:
        return thread
    subject = f"Order {order.order_number}"
    contact = order.end_customer
    channel = customer_channel(contact)
    if channel is not None:
        return order_thread_for(contact, channel, order, subject)
    # No customer, or no way to reach them: the thread still holds the visit's record.
    return open_thread(
        subject=subject,
        contact=contact,
        order_id=order.id,
        thread_type=ThreadType.INSTALLATION_COORDINATION,
        status=ThreadStatus.RESOLVED,
        customer_organization_id=order.customer_organization_id,
    )


def find_customer_thread(order: Order) -> CommunicationThread | None:
    """The order's latest open conversation with its end customer (not the partner's)."""
    if order.end_customer_contact_id is None:
        return None
    return db.session.scalar(
        sa.select(CommunicationThread)
        .where(
            CommunicationThread.order_id == order.id,
            CommunicationThread.contact_id == order.end_customer_contact_id,
            CommunicationThread.status != ThreadStatus.CLOSED,
        )
        .order_by(CommunicationThread.last_message_at.desc())
        .limit(1)
    )


def customer_thread(order: Order) -> CommunicationThread | None:
    """Where a message for the visit's customer goes: their conversation about the
    order, started if they can be reached. None when the order has no end customer
    or no channel reaches them: the partner's conversation is never a stand-in.
    """
    thread = find_customer_thread(order)
    if thread is not None:
        return thread
    channel = customer_channel(order.end_customer)
    if channel is None:
        return None
    return order_thread_for(order.end_customer, channel, order, f"Order {order.order_number}")


def no_customer_thread_reason(order: Order) -> str:
    """Why :func:`customer_thread` found nowhere to write (recorded, not shown raw)."""
    if order.end_customer is None:
        return "the order has no customer contact"
    return "the customer has no phone number or e-mail address on an active channel"


def record_visit_event(
    thread: CommunicationThread, order: Order, actor: User, event: str, line: SystemText
) -> CommunicationMessage:
    """A system line on the thread ("… is on the way", "… completed the visit")."""
    message = record_status_line(
        thread,
        line,
        author_id=actor.id,
        extra={"visit_event": event, "order_id": str(order.id)},
        searchable=True,
    )
    announce_change(thread, "message")
    return message


def active_template(name: str) -> CommunicationTemplate | None:
    """The oldest active template named ``name`` (by its own or its WhatsApp name)."""
    return db.session.scalar(
        sa.select(CommunicationTemplate)
        .where(
            CommunicationTemplate.is_active.is_(True),
            sa.or_(
                CommunicationTemplate.template_name == name,
                CommunicationTemplate.whatsapp_template_name == name,
            ),
        )
        .order_by(CommunicationTemplate.created_at)
        .limit(1)
    )


def tell_customer(
    thread: CommunicationThread,
    author: User,
    *,
    template: CommunicationTemplate | None,
    text: str,
    subject: str,
    variables: dict,
) -> tuple[CommunicationMessage | None, CommunicationChannel | None, str | None]:
    """A message about the visit to the thread's customer, on the first channel that
    carries it: ``template`` where it is made for that channel, else ``text``.

    Each channel the customer can be reached on is tried in turn, so a closed
    WhatsApp window falls back to e-mail. (message, channel, None) when sent,
    (None, None, why not) when no channel could carry it. No commit.
    """
    if thread.contact is None:
        return None, None, "the order has no customer contact"
    problem = "the customer has no phone number or e-mail address on an active channel"
    for channel in reachable_channels(thread):
        use_template = template is not None and template.channel_type.value in (
            "any",
            channel.channel_type.value,
        )
        try:
            message = compose_reply(
                thread,
                author,
                content=None if use_template else text,
                channel_id=channel.id,
                subject=None if use_template else subject,
                template_id=template.id if use_template else None,
                variables=variables,
                include_quote=False,
                system_composed=True,  # the visit code wrote it, not a person
            )
        except InvalidInput as exc:
            problem = "; ".join(str(value) for value in exc.fields.values())
            continue
        except TechnicianMayNotWrite as exc:
            return None, None, str(exc)
        return message, channel, None
    return None, None, problem
