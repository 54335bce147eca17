"""Messages arriving from customers, whatever the channel, and delivery reports.

Channel processors (WhatsApp, Outlook, SMS, SendGrid) parse their provider's
payload and call these functions; the threading, deduplication, SLA deadline and
live announcements are the same for all of them. Nothing here commits: the
webhook job commits once the whole event is processed, and the announcements
are sent after that commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from app.assignment.services import assign_thread
from app.extensions import db
from app.inbox.search import append_to_search_document, rebuild_search_documents
from app.models import CommunicationChannel, CommunicationMessage, CommunicationThread, Contact
from app.models.enums import ChannelType, DeliveryStatus, MessageType, ThreadStatus
from app.sla import clock as sla_clock
from app.threads.presenters import announce_message, announce_thread
from app.threads.services import PREVIEW_LENGTH, advance_delivery
from app.transactions import after_commit

# Threads in these states take new messages; a closed conversation starts anew.
REOPENABLE = (ThreadStatus.RESOLVED,)
CLOSED = (ThreadStatus.CLOSED,)
DEFAULT_SLA_HOURS = {
    ChannelType.EMAIL_OUTLOOK: 4,
    ChannelType.WHATSAPP_BUSINESS: 1,
    ChannelType.SMS: 4,
}


@dataclass
class InboundMessage:
    """One customer message as a channel processor understood it."""

    external_message_id: str
    content: str
    received_at: datetime
    subject: str | None = None
    html: str | None = None
    attachments: list[dict] = field(default_factory=list)
    sender_external: dict = field(default_factory=dict)
    # A provider's conversation key (Graph conversationId); None: one thread per contact.
    conversation_key: str | None = None
    # Earlier provider ids this message answers (In-Reply-To, References).
    replies_to: list[str] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)


def channel_of_type(channel_type: ChannelType) -> CommunicationChannel:
    """The active channel of a type; created on first use so inbound never drops."""
    channel = db.session.scalar(
        sa.select(CommunicationChannel)
        .where(CommunicationChannel.channel_type == channel_type)
        .order_by(CommunicationChannel.is_active.desc(), CommunicationChannel.created_at)
        .limit(1)
    )
    if channel is None:
        channel = CommunicationChannel(
            channel_type=channel_type,
            channel_name=channel_type.value.replace("_", " ").title(),
            response_sla_hours=DEFAULT_SLA_HOURS.get(channel_type),
        )
        db.session.add(channel)
        db.session.flush()
    return channel


def receive(
    channel: CommunicationChannel, contact: Contact, inbound: InboundMessage
) -> CommunicationMessage | None:
    """Store an inbound message in the right thread; None if it was already stored."""
    duplicate = db.session.scalar(
        sa.select(CommunicationMessage.id).where(
            CommunicationMessage.channel_id == channel.id,
            CommunicationMessage.external_message_id == inbound.external_message_id,
        )
    )
    if duplicate is not None:
        return None
    thread = _thread_for(channel, contact, inbound)
    message = CommunicationMessage(
        thread_id=thread.id,
        channel_id=channel.id,
        message_type=MessageType.INCOMING,
        sender_contact_id=contact.id,
        sender_external=inbound.sender_external,
        subject=inbound.subject,
        message_content=inbound.content,
        message_html=inbound.html,
        attachments=inbound.attachments,
        external_message_id=inbound.external_message_id,
        delivery_status=DeliveryStatus.DELIVERED,
        delivered_at=inbound.received_at,
        created_at=inbound.received_at,
        extra=inbound.metadata,
    )
    db.session.add(message)
    db.session.flush()
    if inbound.received_at >= thread.last_message_at:
        thread.last_message_at = inbound.received_at
        thread.last_message_preview = " ".join(inbound.content.split())[:PREVIEW_LENGTH]
    if thread.status in REOPENABLE:
        sla_clock.reopen(thread)
    if thread.status in REOPENABLE or thread.status == ThreadStatus.WAITING_CUSTOMER:
        thread.status = ThreadStatus.OPEN
    # Business-time deadline: resumes a paused clock, or starts a cycle if none runs.
    sla_clock.customer_wrote(thread, inbound.received_at)
    append_to_search_document(thread.id, " ".join(filter(None, [inbound.subject, inbound.content])))
    after_commit(lambda: (announce_message(message), announce_thread(thread, "message")))
    return message


def latest_open_thread(
    channel_id: uuid.UUID, contact_id: uuid.UUID, order_id: uuid.UUID | None = None
) -> CommunicationThread | None:
    """The contact's most recent thread on a channel that is not closed (of an order)."""
    query = (
        sa.select(CommunicationThread)
        .where(
            CommunicationThread.channel_id == channel_id,
            CommunicationThread.contact_id == contact_id,
            CommunicationThread.status.not_in(CLOSED),
        )
        .order_by(CommunicationThread.last_message_at.desc())
        .limit(1)
    )
    if order_id is not None:
        query = query.where(CommunicationThread.order_id == order_id)
    return db.session.scalar(query)


def _thread_for(channel, contact, inbound: InboundMessage) -> CommunicationThread:
    thread = None
    if inbound.conversation_key:
        thread = db.session.scalar(
            sa.select(CommunicationThread)
            .where(
                CommunicationThread.channel_id == channel.id,
                CommunicationThread.external_references["conversation_key"].as_string()
                == inbound.conversation_key,
            )
            # After a closed thread, the conversation continues in a newer one.
            .order_by(CommunicationThread.last_message_at.desc())
            .limit(1)
        )
    if thread is None and inbound.replies_to:
        thread = _thread_replied_to(contact, inbound.replies_to)
        if thread is not None and thread.status not in CLOSED and inbound.conversation_key:
            # Found through In-Reply-To (e.g. the answer to a mail we started):
            # later mails of this conversation can then be matched by its key.
            references = thread.external_references or {}
            if not references.get("conversation_key"):
                thread.external_references = {
                    **references,
                    "conversation_key": inbound.conversation_key,
                }
    if thread is None and not inbound.conversation_key:
        thread = latest_open_thread(channel.id, contact.id)
    if thread is not None and thread.status not in CLOSED:
        return thread
    subject = (inbound.subject or "").strip() or subject_from(inbound.content)
    thread = CommunicationThread(
        thread_subject=subject,
        channel_id=channel.id,
        contact_id=contact.id,
        customer_organization_id=contact.organization_id,
        last_message_at=inbound.received_at,
        external_references=(
            {"conversation_key": inbound.conversation_key} if inbound.conversation_key else {}
        ),
    )
    db.session.add(thread)
    db.session.flush()
    rebuild_search_documents([thread.id])
    # A new conversation is routed by the channel's rules (seed 003 message flow).
    assign_thread(thread)
    return thread


def _thread_replied_to(contact, replies_to: list[str]) -> CommunicationThread | None:
    """The thread holding a message this one answers.

    ``replies_to`` holds provider ids (a WhatsApp context id, the Message-ID we
    gave an outgoing mail) or, for e-mail, the Message-IDs of the customer's own
    earlier mails, which are kept as ``internet_message_id`` in their metadata.
    """
    thread = db.session.scalar(
        sa.select(CommunicationThread)
        .join(CommunicationMessage, CommunicationMessage.thread_id == CommunicationThread.id)
        .where(CommunicationMessage.external_message_id.in_(replies_to))
        .limit(1)
    )
    if thread is None:
        # Narrowed to the sender's own messages, which the sender index finds.
        thread = db.session.scalar(
            sa.select(CommunicationThread)
            .join(CommunicationMessage, CommunicationMessage.thread_id == CommunicationThread.id)
            .where(
                CommunicationMessage.sender_contact_id == contact.id,
                CommunicationMessage.extra["internet_message_id"].as_string().in_(replies_to),
            )
            .limit(1)
        )
    return thread


def subject_from(content: str) -> str:
    words = " ".join(content.split())
    if not words:
        return "New conversation"
    return words if len(words) <= 80 else words[:77].rstrip() + "…"


def apply_delivery_report(
    channel_type: ChannelType,
    external_message_id: str,
    status: DeliveryStatus,
    *,
    error: str | None = None,
) -> bool:
    """Update an outbound message's ticks from a provider report; False if unknown."""
    message = db.session.scalar(
        sa.select(CommunicationMessage)
        .join(CommunicationChannel, CommunicationChannel.id == CommunicationMessage.channel_id)
        .where(
            CommunicationChannel.channel_type == channel_type,
            CommunicationMessage.external_message_id == external_message_id,
        )
        .limit(1)
    )
    if message is None:
        return False
    if not advance_delivery(message, status, error):
        return True
    thread = message.thread
    message_id: uuid.UUID = message.id
    after_commit(
        lambda: announce_thread(
            thread, "delivery", message_id=message_id, delivery_status=status.value
        ),
    )
    return True
