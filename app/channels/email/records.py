"""Where a transactional e-mail is kept: an outbound message in the customer's thread.

Every SendGrid send is a ``CommunicationMessage`` on the e-mail channel, in a
thread of the recipient's contact (linked to the order when there is one). That
one row is the send's record: the delivery job reads its template and data from
``extra["sendgrid"]``, the event webhook finds it by ``external_message_id`` (the
X-Message-Id) and moves its ticks, and agents see the mail in the conversation.
A thread started only for an automated mail is created resolved: nothing is
owed until the customer writes, and a reply reopens it.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.database import utcnow
from app.extensions import db
from app.inbox.search import append_to_search_document, rebuild_search_documents
from app.models import CommunicationMessage, CommunicationThread, Contact, Order
from app.models.enums import ChannelType, DeliveryStatus, MessageType, ThreadStatus, ThreadType
from app.threads.inbound import channel_of_type, latest_open_thread
from app.threads.presenters import announce_message, announce_thread
from app.transactions import after_commit

PREVIEW_LENGTH = 280


def record_mail(
    contact: Contact,
    *,
    subject: str,
    summary: str,
    sendgrid: dict,
    template_key: str,
    order: Order | None = None,
    sender_user_id: uuid.UUID | None = None,
    extra: dict | None = None,
) -> CommunicationMessage:
    """Add a pending outbound e-mail for ``contact``; the caller commits."""
    channel = channel_of_type(ChannelType.EMAIL_OUTLOOK)
    thread = order_thread_for(contact, channel.id, order, subject)
    now = utcnow()
    message = CommunicationMessage(
        thread_id=thread.id,
        channel_id=channel.id,
        message_type=MessageType.OUTGOING,
        sender_user_id=sender_user_id,
        recipient_external={"email": contact.email, "name": contact.display_name},
        subject=subject,
        message_content=summary,
        delivery_status=DeliveryStatus.PENDING,
        created_at=now,
        extra={
            **(extra or {}),
            "provider": "sendgrid",
            "template_key": template_key,
            "order_id": str(order.id) if order else None,
            "sendgrid": sendgrid,
        },
    )
    db.session.add(message)
    db.session.flush()
    if now >= thread.last_message_at:
        thread.last_message_at = now
        thread.last_message_preview = " ".join(summary.split())[:PREVIEW_LENGTH]
    append_to_search_document(thread.id, f"{subject} {summary}")
    after_commit(lambda: (announce_message(message), announce_thread(thread, "message")))
    return message


def order_thread_for(
    contact: Contact, channel_id: uuid.UUID, order: Order | None, subject: str
) -> CommunicationThread:
    # Order mails stay in that order's conversation, so "was it sent?" is one
    # indexed look-up by order (see already_sent).
    thread = latest_open_thread(channel_id, contact.id, order.id if order else None)
    if thread is not None:
        return thread
    now = utcnow()
    thread = CommunicationThread(
        thread_subject=subject,
        thread_type=ThreadType.INSTALLATION_COORDINATION if order else ThreadType.CUSTOMER_SUPPORT,
        status=ThreadStatus.RESOLVED,
        resolved_at=now,
        channel_id=channel_id,
        contact_id=contact.id,
        customer_organization_id=contact.organization_id,
        order_id=order.id if order else None,
        last_message_at=now,
        created_at=now,
    )
    db.session.add(thread)
    db.session.flush()
    rebuild_search_documents([thread.id])
    return thread


def already_sent(order_id: uuid.UUID, template_key: str, **match: str) -> bool:
    """Whether the order's conversation already holds this mail (any delivery outcome)."""
    query = (
        sa.select(CommunicationMessage.id)
        .join(CommunicationThread, CommunicationThread.id == CommunicationMessage.thread_id)
        .where(
            CommunicationThread.order_id == order_id,
            CommunicationMessage.message_type == MessageType.OUTGOING,
            CommunicationMessage.extra["template_key"].as_string() == template_key,
        )
        .limit(1)
    )
    for key, value in match.items():
        query = query.where(CommunicationMessage.extra[key].as_string() == value)
    return db.session.scalar(query) is not None
