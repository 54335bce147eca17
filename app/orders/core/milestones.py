"""What a status change tells people: the customer at milestones, Teams when urgent.

Runs as a status hook inside the status change's transaction. The customer's
notice is written as a pending message in the same transaction and sent after
the commit, so a rolled-back change tells nobody and a committed one is never
forgotten. WhatsApp is used when the customer can be reached there (an
approved template may go out any time); otherwise e-mail.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from app.conversations.channels.email.orders import customer_of
from app.conversations.channels.email.records import already_sent, order_thread_for
from app.conversations.channels.email.transactional import send_transactional
from app.conversations.channels.teams.sender import notify_teams
from app.conversations.channels.whatsapp.autoreply import queue_status_template, status_template
from app.platform.extensions import db
from app.platform.models import (
    CommunicationChannel,
    CommunicationThread,
    Order,
    OrderStatusTransition,
)
from app.platform.models.enums import ChannelType, MessageType, OrderStatus, Priority, ThreadStatus
from app.platform.transactions import after_commit

log = logging.getLogger(__name__)

# The moments a customer hears about without asking.
MILESTONES = {
    OrderStatus.SCHEDULED: "Uw installatie is ingepland",
    OrderStatus.COMPLETED: "Uw laadpaal is geïnstalleerd",
    OrderStatus.CANCELLED: "Uw order is geannuleerd",
}
# Changes of an urgent order that operations and management must see at once.
URGENT_ALERT_STATUSES = {None, OrderStatus.ON_HOLD, OrderStatus.CANCELLED}
URGENT_PRIORITIES = (Priority.URGENT, Priority.CRITICAL)
EMAIL_TEMPLATE = "order_status_update"


def on_status_change(order: Order, transition: OrderStatusTransition) -> None:
    to_status = OrderStatus(transition.to_status)
    # A visit planned on the planning pages tells the customer itself, with the
    # date and window (app.orders.planning.notices): one message, not two.
    told_by_planning = (transition.business_context or {}).get("customer_notice") == "planning"
    if transition.from_status is not None and to_status in MILESTONES and not told_by_planning:
        notify_customer(order, to_status)
    from_status = OrderStatus(transition.from_status) if transition.from_status else None
    if (from_status is None or to_status in URGENT_ALERT_STATUSES) and is_urgent(order):
        data = {
            "order_number": order.order_number,
            "customer_name": order.end_customer.display_name if order.end_customer else None,
            "status": to_status.value,
            "reason": transition.transition_reason,
            "assigned_team": None,
        }
        after_commit(lambda: notify_teams("order_urgent", data))


def is_urgent(order: Order) -> bool:
    """Urgent when the intake said so or an open conversation about it is urgent."""
    preferences = order.installation_preferences or {}
    if preferences.get("urgent") is True or preferences.get("priority") in ("urgent", "critical"):
        return True
    return (
        db.session.scalar(
            sa.select(CommunicationThread.id)
            .where(
                CommunicationThread.order_id == order.id,
                CommunicationThread.priority.in_(URGENT_PRIORITIES),
                CommunicationThread.status.not_in((ThreadStatus.RESOLVED, ThreadStatus.CLOSED)),
            )
            .limit(1)
        )
        is not None
    )


def notify_customer(order: Order, to_status: OrderStatus) -> None:
    contact = order.end_customer
    if contact is None:
        return
    if contact.phone and _whatsapp_notice(order, contact):
        return
    if customer_of(order) is None:
        log.info("order %s: customer has no WhatsApp or e-mail for a notice", order.order_number)
        return
    if already_sent(order.id, EMAIL_TEMPLATE, status=to_status.value):
        return
    send_transactional(
        contact.email,
        EMAIL_TEMPLATE,
        {
            "customer_name": contact.display_name,
            "order_id": order.order_number,
            "status": to_status.value,
            "headline": MILESTONES[to_status],
            "installation_date": (
                order.scheduled_date.strftime("%d-%m-%Y") if order.scheduled_date else None
            ),
        },
        ["order", "status_update", "transactional"],
        contact=contact,
        order=order,
        subject=f"{MILESTONES[to_status]} ({order.order_number})",
        extra={"status": to_status.value},
    )


def _whatsapp_notice(order: Order, contact) -> bool:
    channel = db.session.scalar(
        sa.select(CommunicationChannel)
        .where(
            CommunicationChannel.channel_type == ChannelType.WHATSAPP_BUSINESS,
            CommunicationChannel.is_active.is_(True),
        )
        .order_by(CommunicationChannel.created_at)
        .limit(1)
    )
    template = status_template()
    if channel is None or template is None:
        return False
    thread = order_thread_for(contact, channel, order, f"Order {order.order_number}")
    message = queue_status_template(
        thread,
        channel.id,
        contact,
        order,
        template,
        message_type=MessageType.SYSTEM_NOTIFICATION,
        automation="order_milestone",
        extra={"milestone": order.status.value},
    )
    return message is not None
