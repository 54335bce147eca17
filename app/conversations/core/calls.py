"""Logging a phone call on a conversation (channel type ``phone_call``).

A call an agent made or took is written as a message on the ``phone_call``
channel (incoming for a customer's call, outgoing for ours) whose content is
the agent's notes, with a :class:`~app.platform.models.PhoneCall` row beside it for the
direction, duration and outcome. Nothing is sent: the call already happened,
so the message is delivered from the start and no send job is queued.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from app.conversations.business_time import clock as sla_clock
from app.conversations.core.events import ThreadChanged
from app.conversations.core.messages import add_message, touch
from app.conversations.core.threads import channel_of_type
from app.conversations.inbox.search import append_on_flush
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread, PhoneCall
from app.platform.models.calls import CALL_PREVIEW_MARK
from app.platform.models.enums import (
    CallDirection,
    CallOutcome,
    ChannelType,
    DeliveryStatus,
    MessageType,
    ThreadStatus,
)
from app.platform.transactions import publish


def call_answers_customer(direction: CallDirection, outcome: CallOutcome) -> bool:
    """Whether a call counts as our response to the customer for the SLA clock.

    Only a call in which someone spoke with the customer (outcome ``reached``)
    does, in either direction: an outbound call that reached them is an answer
    just as a sent reply is, and a customer's call an agent took was answered
    on the spot. No answer, a wrong number or a callback request left the
    customer without an answer. A voicemail does not count either: it is one
    way, often unheard, and counting it would let a ten-second call stop the
    clock, so the first-response figure would no longer mean a customer was
    helped.
    """
    del direction  # both directions follow the same rule; kept for the callers' clarity
    return outcome == CallOutcome.REACHED


def format_duration(seconds: int) -> str:
    """``252`` → ``"4:12"``; an hour or more as ``"1:02:03"``."""
    hours, rest = divmod(max(int(seconds), 0), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def log_call(
    thread: CommunicationThread,
    *,
    agent_id: uuid.UUID,
    direction: CallDirection,
    outcome: CallOutcome,
    duration_seconds: int,
    notes: str = "",
    at: datetime | None = None,
) -> CommunicationMessage:
    """Record a phone call on ``thread``; returns its message (``message.phone_call``).

    Keeps the thread's preview, search document and SLA clock right: a call
    that reached the customer is their first response
    (:func:`call_answers_customer`) and moves an open thread to in progress.
    A call never starts an SLA clock; the thread's own clock runs as before.
    """
    at = at or utcnow()
    channel = channel_of_type(ChannelType.PHONE_CALL)
    message_type = (
        MessageType.INCOMING if direction == CallDirection.INBOUND else MessageType.OUTGOING
    )
    message = CommunicationMessage(
        thread_id=thread.id,
        channel_id=channel.id,
        message_type=message_type,
        sender_user_id=agent_id,
        message_content=notes,
        delivery_status=DeliveryStatus.DELIVERED,
        sent_at=at,
        delivered_at=at,
        created_at=at,
    )
    message.channel = channel
    preview = f"{CALL_PREVIEW_MARK} {format_duration(duration_seconds)}"
    touch(thread, at, f"{preview} · {notes}" if notes else preview)
    if notes:
        append_on_flush(thread, notes)
    if call_answers_customer(direction, outcome):
        sla_clock.record_first_response(thread, at)
        if thread.status == ThreadStatus.OPEN:
            thread.status = ThreadStatus.IN_PROGRESS
    add_message(thread, message)
    db.session.add(
        PhoneCall(
            message=message,
            agent_id=agent_id,
            direction=direction,
            outcome=outcome,
            duration_seconds=duration_seconds,
            called_at=at,
        )
    )
    db.session.flush()
    publish(ThreadChanged(thread.id, "message"))
    return message
