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

from app.conversations.core import channel_of_type, post_outbound, thread_for_contact
from app.platform.extensions import db
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationThread,
    Contact,
    Order,
)
from app.platform.models.enums import ChannelType, MessageType, ThreadType
from app.platform.system_texts import SystemText, email_automation, text


def record_mail(
    contact: Contact,
    *,
    subject: str,
    sendgrid: dict,
    template_key: str,
    order: Order | None = None,
    sender_user_id: uuid.UUID | None = None,
    extra: dict | None = None,
) -> CommunicationMessage:
    """Add a pending outbound e-mail for ``contact``; the caller commits.

    Its content lives at SendGrid (a dynamic template), so the timeline shows
    which mail it was, as a catalogue sentence; the template id stays in
    ``extra["sendgrid"]`` (shown to admins only).
    """
    automation = email_automation(template_key)
    channel = channel_of_type(ChannelType.EMAIL_OUTLOOK)
    thread = order_thread_for(contact, channel, order, subject)
    # Sent by the SendGrid delivery job (app.conversations.channels.email.transactional), which
    # keeps its own schedule, not by the conversation's send job.
    return post_outbound(
        thread,
        channel_id=channel.id,
        body="",
        body_text=text(
            "email.sent_from_template", template=SystemText(f"automation.{automation}")
        ),
        automation=None if sender_user_id else automation,
        recipient={"email": contact.email, "name": contact.display_name},
        author_id=sender_user_id,
        subject=subject,
        extra={
            **(extra or {}),
            "provider": "sendgrid",
            "template_key": template_key,
            "order_id": str(order.id) if order else None,
            "sendgrid": sendgrid,
        },
        send=False,
    )


def order_thread_for(
    contact: Contact, channel: CommunicationChannel, order: Order | None, subject: str
) -> CommunicationThread:
    """The order's conversation with ``contact`` on ``channel``, started resolved if new.

    Order mails stay in that order's conversation, so "was it sent?" is one
    indexed look-up by order (see already_sent).
    """
    return thread_for_contact(
        contact,
        channel,
        subject=subject,
        order_id=order.id if order else None,
        thread_type=ThreadType.INSTALLATION_COORDINATION if order else ThreadType.CUSTOMER_SUPPORT,
    )


def already_sent(order_id: uuid.UUID, template_key: str, **match: str | None) -> bool:
    """Whether the order's conversation already holds this mail (any delivery outcome).

    Each ``match`` names a field of the message's ``extra`` and its value; None
    matches a message without that field (one written before it was kept)."""
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
        field = CommunicationMessage.extra[key].as_string()
        query = query.where(field.is_(None) if value is None else field == value)
    return db.session.scalar(query) is not None
