"""Writing messages into a conversation: ours, notes, status lines, delivery ticks.

Each function adds one message and keeps its thread right in the same
transaction (preview, last activity, search document, SLA clock), then
publishes what happened for the listeners to hear after the commit. Inbound
customer messages are in :mod:`app.conversations.core.inbound`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from app.conversations.attachments.uploads import UploadedFile, store_uploads
from app.conversations.business_time import clock as sla_clock
from app.conversations.core.events import MessageCreated, ThreadChanged
from app.conversations.core.holding import BEFORE_SEND, before_send
from app.conversations.core.storing import store
from app.conversations.inbox.search import append_on_flush
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationChannel, CommunicationMessage, CommunicationThread
from app.platform.models.communication import DIRECTION_BY_TYPE
from app.platform.models.enums import ChannelType, DeliveryStatus, MessageType, ThreadStatus
from app.platform.system_texts import CATALOGUE, Sentence, english, to_json
from app.platform.transactions import publish

PREVIEW_LENGTH = 280

# Delivery only moves forward; a late "delivered" never overwrites "read".
DELIVERY_RANK = {
    DeliveryStatus.PENDING: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
}
FINAL_DELIVERY = (DeliveryStatus.FAILED, DeliveryStatus.BOUNCED)


def add_message(
    thread: CommunicationThread,
    message: CommunicationMessage,
    *,
    send: bool = False,
    send_at: datetime | None = None,
) -> CommunicationMessage:
    """Add ``message`` and publish it (within this package: the writers above call it)."""
    if not store(thread, message):
        db.session.add(message)
        db.session.flush()
    channel_type = None
    if message.channel_id is not None:
        channel = message.channel or db.session.get(CommunicationChannel, message.channel_id)
        channel_type = channel.channel_type.value if channel else None
    publish(
        MessageCreated(
            thread.id,
            message.id,
            DIRECTION_BY_TYPE[message.message_type],
            message.message_type.value,
            channel_type,
            queued_send=send,
            send_at=send_at,
        ),
        message,
        thread,
    )
    return message


def touch(thread: CommunicationThread, at: datetime, text: str | None) -> None:
    """Make ``text`` the thread's preview if it is its newest activity."""
    if thread.last_message_at is None or at >= thread.last_message_at:
        thread.last_message_at = at
        thread.last_message_preview = " ".join((text or "").split())[:PREVIEW_LENGTH]


def post_outbound(
    thread: CommunicationThread,
    *,
    channel_id: uuid.UUID,
    body: str,
    recipient: dict,
    message_type: MessageType = MessageType.OUTGOING,
    author_id: uuid.UUID | None = None,
    subject: str | None = None,
    html: str | None = None,
    template_id: uuid.UUID | None = None,
    extra: dict | None = None,
    at: datetime | None = None,
    answers_customer: bool = False,
    send: bool = True,
    files: Sequence[UploadedFile] = (),
    automation: str | None = None,
    body_text: Sentence | None = None,
    hold_until: datetime | None = None,
) -> CommunicationMessage:
    """A message from us to the customer, pending until its channel's job sends it.

    ``answers_customer``: an agent's reply, which stops the SLA clock's first
    response and moves an open thread to in progress. ``send``: queue the
    channel's send job after the commit (False when the caller's own delivery
    job sends it, as transactional mail does). ``files``: checked uploads,
    stored beside the message (``ATTACHMENTS_DIR/<message id>/``) before the
    commit; the send job reads them by the message's id. If the commit fails
    the caller removes them (``app.conversations.attachments.storage.discard_message_files``).
    ``automation``: the kind of automation that wrote it (``out_of_hours``,
    ``visit_reminder`` …), a key of the system-text catalogue
    (``automation.<kind>``) that the timeline shows as its sender.
    ``body_text``: a catalogue sentence standing for the body when the real
    content lives at the provider (a SendGrid template). ``hold_until``: not
    sent before then, and until then its author may
    withdraw it (:mod:`app.conversations.core.holding`).
    """
    at = at or utcnow()
    extra = dict(extra or {})
    if automation is not None:
        if f"automation.{automation}" not in CATALOGUE:
            raise KeyError(f"automation {automation!r} has no label in the catalogue")
        extra["automation"] = automation
    if body_text is not None:
        body = english(body_text)
        extra["system_text"] = to_json(body_text)
    if hold_until is not None:
        # The lease stands until the hold ends: the stalled-send sweep takes the
        # message up after that even if its scheduled job is lost.
        extra[BEFORE_SEND] = before_send(thread)
    message = CommunicationMessage(
        thread_id=thread.id,
        channel_id=channel_id,
        message_type=message_type,
        sender_user_id=author_id,
        recipient_external=recipient,
        subject=subject,
        message_content=body,
        message_html=html,
        template_id=template_id,
        delivery_status=DeliveryStatus.PENDING,
        created_at=at,
        extra=extra,
        send_held_until=hold_until,
        send_lease_expires_at=hold_until,
    )
    touch(thread, at, body)
    # In the thread's UPDATE that add_message's flush sends, not a statement of its own.
    append_on_flush(thread, " ".join(filter(None, [subject, body])))
    if answers_customer:
        sla_clock.record_first_response(thread, at)
        if thread.status == ThreadStatus.OPEN:
            thread.status = ThreadStatus.IN_PROGRESS
    if files:
        # The files' names count as the message's text for search and preview.
        names = " ".join(f.filename for f in files)
        append_on_flush(thread, names)
        if not body:
            touch(thread, at, f"\U0001f4ce {names}")
    add_message(thread, message, send=send, send_at=hold_until)
    if files:
        message.attachments = store_uploads(message.id, files)
    publish(ThreadChanged(thread.id, "message"))
    return message


def post_note(
    thread: CommunicationThread, author_id: uuid.UUID, body: str, *, at: datetime | None = None
) -> CommunicationMessage:
    """An internal note: seen by colleagues, never sent to the customer."""
    message = CommunicationMessage(
        thread_id=thread.id,
        message_type=MessageType.INTERNAL_NOTE,
        sender_user_id=author_id,
        message_content=body,
        delivery_status=DeliveryStatus.DELIVERED,
        created_at=at or utcnow(),
    )
    append_on_flush(thread, body)
    return add_message(thread, message)


def record_status_line(
    thread: CommunicationThread,
    line: Sentence,
    *,
    author_id: uuid.UUID | None = None,
    sender_contact_id: uuid.UUID | None = None,
    sender_external: dict | None = None,
    at: datetime | None = None,
    extra: dict | None = None,
    searchable: bool = False,
    preview: bool = False,
) -> CommunicationMessage:
    """A line in the timeline saying what happened ("escalated", "on the way").

    ``line`` comes from the system-text catalogue (:mod:`app.platform.system_texts`): its
    key and parameters are kept in ``extra["system_text"]`` and shown in the
    reader's language; the English text is the message's content, for search
    and the API.
    """
    at = at or utcnow()
    text = english(line)
    message = CommunicationMessage(
        thread_id=thread.id,
        message_type=MessageType.SYSTEM_NOTIFICATION,
        sender_user_id=author_id,
        sender_contact_id=sender_contact_id,
        sender_external=dict(sender_external or {}),
        message_content=text,
        delivery_status=DeliveryStatus.DELIVERED,
        created_at=at,
        extra={**(extra or {}), "system_text": to_json(line)},
    )
    if searchable:
        append_on_flush(thread, text)
    if preview:
        touch(thread, at, text)
    return add_message(thread, message)


def advance_delivery(
    message: CommunicationMessage, status: DeliveryStatus, error: str | None = None
) -> bool:
    """Move a message's delivery status forward; returns whether it changed."""
    current = message.delivery_status
    if current in FINAL_DELIVERY or current == status:
        return False
    if status not in FINAL_DELIVERY and DELIVERY_RANK[status] < DELIVERY_RANK[current]:
        return False
    now = utcnow()
    message.delivery_status = status
    if status == DeliveryStatus.SENT:
        message.sent_at = message.sent_at or now
    elif status == DeliveryStatus.DELIVERED:
        message.delivered_at = message.delivered_at or now
    elif status == DeliveryStatus.READ:
        message.delivered_at = message.delivered_at or now
        message.read_at = message.read_at or now
    else:
        message.delivery_error = error or "The provider refused the message."
    return True


def record_delivery(
    message: CommunicationMessage, status: DeliveryStatus, error: str | None = None
) -> bool:
    """Apply a delivery status to one of our messages; True if its ticks moved."""
    if not advance_delivery(message, status, error):
        return False
    publish(
        ThreadChanged(
            message.thread_id,
            "delivery",
            {"message_id": str(message.id), "delivery_status": message.delivery_status.value},
        )
    )
    return True


def apply_delivery_reports(
    channel_type: ChannelType,
    reports: Sequence[tuple[str, DeliveryStatus, str | None]],
) -> set[str]:
    """Apply many (external id, status, error) reports in their order, in one read of
    the messages (locked in id order, so two batches reporting on the same messages
    wait for each other instead of overwriting); returns the unknown external ids."""
    wanted = {external_id for external_id, _, _ in reports}
    if not wanted:
        return set()
    messages = {
        message.external_message_id: message
        for message in db.session.scalars(
            sa.select(CommunicationMessage)
            .join(CommunicationChannel, CommunicationChannel.id == CommunicationMessage.channel_id)
            .where(
                CommunicationChannel.channel_type == channel_type,
                CommunicationMessage.external_message_id.in_(wanted),
            )
            .order_by(CommunicationMessage.id)
            .with_for_update(of=CommunicationMessage)
        )
    }
    for external_id, status, error in reports:
        message = messages.get(external_id)
        if message is not None:
            record_delivery(message, status, error)
    return wanted - messages.keys()


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
    record_delivery(message, status, error)
    return True
