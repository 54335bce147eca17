"""Answering "where is my order?" on WhatsApp by itself.

A customer's text that asks after an order ("wat is de status van mijn
bestelling?", "waar blijft CC-2026-00042?", "order status?") is answered with
the approved ``order_status_update`` template: the order named in the text, if
it is this customer's, else their latest order. The answer is an outbound
message of type ``auto_response`` (no sending agent) sent by the usual send job
once the event is committed. The thread's reply deadline is left alone: an
agent still reads what the customer wrote.

Only a newly stored message gets here (a repeated wamid never does), so one
question gets at most one answer; a customer asking again within
``COOLDOWN`` is left to the agents rather than answered with the same text.
"""

from __future__ import annotations

import functools
import logging
import re
from datetime import timedelta

import sqlalchemy as sa

from app.conversations.channels.whatsapp.templates import template_parameters
from app.conversations.core import post_outbound
from app.conversations.message_templates.rendering import TemplateRenderError, render_for_thread
from app.conversations.message_templates.services import record_use
from app.conversations.message_templates.variables import ORDER_STATUS_LABELS
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationTemplate, Contact, Order
from app.platform.models.enums import MessageType

log = logging.getLogger(__name__)

WHATSAPP_TEMPLATE = "order_status_update"
COOLDOWN = timedelta(minutes=30)
ORDER_NUMBER = re.compile(r"\bCC-\d{4}-\d{5}\b", re.IGNORECASE)
STATUS_QUESTION = re.compile(
    r"\b(status|bestelling|order|waar\s+blijft|stand\s+van\s+zaken|hoe\s+staat\s+het"
    r"|where\s+is\s+my|track(ing)?)\b",
    re.IGNORECASE,
)


def is_order_status_question(text: str) -> bool:
    """Whether a customer's text asks about an order (Dutch or English)."""
    return bool(STATUS_QUESTION.search(text or ""))


def answer_order_status_question(
    inbound: CommunicationMessage, contact: Contact
) -> CommunicationMessage | None:
    """Queue the status template as the answer to ``inbound``, when it asks and may be told."""
    thread = inbound.thread
    if not is_order_status_question(inbound.message_content):
        return None
    if (inbound.channel.configuration or {}).get("auto_responses") is False:
        return None
    order = _order_asked_about(inbound.message_content, contact, thread)
    template = status_template()
    if order is None or template is None or _answered_recently(thread.id, template.id):
        return None
    if thread.order_id is None:
        thread.order = order  # the conversation is about this order now
    return queue_status_template(
        thread,
        inbound.channel_id,
        contact,
        order,
        template,
        message_type=MessageType.AUTO_RESPONSE,
        automation="order_status_answer",
        not_before=inbound.created_at,
        extra={"reply_to": inbound.external_message_id, "auto_reply_to": str(inbound.id)},
    )


def queue_status_template(
    thread,
    channel_id,
    contact: Contact,
    order: Order,
    template: CommunicationTemplate,
    *,
    message_type: MessageType,
    automation: str,
    not_before=None,
    extra: dict | None = None,
) -> CommunicationMessage | None:
    """Write the filled-in status template to ``thread`` and queue it after the commit.

    Used for answers to status questions and for milestone notices; as an
    approved template it may go out even outside the 24-hour window.
    """
    label = _status_label(order, template.language)
    values = {"order_id": order.order_number, "order_status": label, "status": label}
    try:
        rendered = render_for_thread(template, thread, None, values)
    except TemplateRenderError as exc:
        log.warning("order-status template skipped, template incomplete: %s", exc.message)
        return None
    now = utcnow()
    reply = post_outbound(
        thread,
        channel_id=channel_id,
        body=rendered.body.strip(),
        recipient={"phone": contact.phone, "name": contact.display_name},
        message_type=message_type,
        template_id=template.id,
        automation=automation,
        at=max(now, not_before) if not_before else now,
        extra={
            "template_parameters": template_parameters(template, thread, None, values),
            "order_id": str(order.id),
            **(extra or {}),
        },
    )
    record_use(template.id)
    return reply


def _order_asked_about(text: str, contact: Contact, thread) -> Order | None:
    """The order named in ``text`` if it is this customer's, else their latest one.

    A number the customer does not own gets no answer: a status is not told to
    whoever happens to know an order number.
    """
    named_order, latest_order = _order_statements()
    mine = {"contact_id": contact.id, "thread_order_id": thread.order_id}
    named = ORDER_NUMBER.search(text or "")
    if named:
        return db.session.scalar(named_order, {**mine, "number": named.group(0).upper()})
    if thread.order is not None:
        return thread.order
    return db.session.scalar(latest_order, mine)


# Built once per process: a customer's text asks after an order in every few
# messages, and a statement object works out its cache key once.
@functools.cache
def _order_statements() -> tuple[sa.Select, sa.Select]:
    contact_id = sa.bindparam("contact_id")
    mine = sa.and_(
        sa.or_(
            Order.end_customer_contact_id == contact_id,
            Order.account_contact_id == contact_id,
            Order.id == sa.bindparam("thread_order_id"),
        ),
        # A partner's sandbox order is never told to a customer.
        Order.is_test.is_(False),
    )
    named = sa.select(Order).where(Order.order_number == sa.bindparam("number"), mine)
    latest = sa.select(Order).where(mine).order_by(Order.created_at.desc()).limit(1)
    return named, latest


def status_template() -> CommunicationTemplate | None:
    return db.session.scalar(_STATUS_TEMPLATE)


_STATUS_TEMPLATE = (
    sa.select(CommunicationTemplate)
    .where(
        CommunicationTemplate.whatsapp_template_name == WHATSAPP_TEMPLATE,
        CommunicationTemplate.is_active.is_(True),
    )
    .order_by(CommunicationTemplate.created_at)
    .limit(1)
)


def _answered_recently(thread_id, template_id) -> bool:
    return (
        db.session.scalar(
            sa.select(CommunicationMessage.id)
            .where(
                CommunicationMessage.thread_id == thread_id,
                CommunicationMessage.message_type == MessageType.AUTO_RESPONSE,
                CommunicationMessage.template_id == template_id,
                CommunicationMessage.created_at > utcnow() - COOLDOWN,
            )
            .limit(1)
        )
        is not None
    )


def _status_label(order: Order, language: str | None) -> str:
    labels = ORDER_STATUS_LABELS.get((language or "nl")[:2].lower(), ORDER_STATUS_LABELS["nl"])
    return labels.get(order.status, str(order.status))
