"""Threads and messages as JSON, and telling browsers about them.

Call the ``announce_*`` functions after the commit that made the change.
"""

from __future__ import annotations

import uuid

from app.conversations.core import format_duration
from app.conversations.inbox.access import thread_rooms
from app.platform.models import CommunicationMessage, CommunicationThread
from app.platform.models.enums import ChannelType
from app.platform.realtime import publish


def message_to_dict(message: CommunicationMessage) -> dict:
    """A message as the JSON API describes it."""
    sender = None
    if message.sender_user is not None:
        sender = {
            "type": "user",
            "id": str(message.sender_user.id),
            "name": message.sender_user.name,
        }
    elif message.sender_contact is not None:
        sender = {
            "type": "contact",
            "id": str(message.sender_contact.id),
            "name": message.sender_contact.display_name,
        }
    return {
        "id": str(message.id),
        "thread_id": str(message.thread_id),
        "direction": message.direction,
        "message_type": message.message_type.value,
        "channel": message.channel.channel_type.value if message.channel else None,
        "subject": message.subject,
        "content": message.message_content,
        "external_message_id": message.external_message_id,
        "delivery_status": message.delivery_status.value,
        "delivery_error": message.delivery_error,
        "template_id": str(message.template_id) if message.template_id else None,
        "sender": sender,
        "created_at": message.created_at.isoformat(),
        "call": call_to_dict(message),
    }


def call_to_dict(message: CommunicationMessage) -> dict | None:
    """A logged call's facts (direction, outcome, duration); None for other messages."""
    # Only a phone_call message loads its call row: no query per ordinary message.
    if message.channel is None or message.channel.channel_type != ChannelType.PHONE_CALL:
        return None
    call = message.phone_call
    if call is None:
        return None
    return {
        "direction": call.direction.value,
        "outcome": call.outcome.value,
        "duration_seconds": call.duration_seconds,
        "duration": format_duration(call.duration_seconds),
        "called_at": call.called_at.isoformat(),
        "agent_id": str(call.agent_id) if call.agent_id else None,
    }


def announce_message(message: CommunicationMessage) -> None:
    thread = message.thread
    publish(
        "message:new",
        {"thread_id": str(thread.id), "message": message_to_dict(message)},
        rooms=thread_rooms(thread),
    )


def announce_thread(thread: CommunicationThread, reason: str, **details) -> None:
    payload = {
        "thread_id": str(thread.id),
        "reason": reason,
        "status": thread.status.value,
        "priority": thread.priority.value,
        "lock_version": thread.lock_version,
        "assigned_to": (
            {"id": str(thread.assigned_to_user_id), "name": thread.assigned_to.name}
            if thread.assigned_to_user_id and thread.assigned_to
            else None
        ),
    }
    payload.update({k: str(v) if isinstance(v, uuid.UUID) else v for k, v in details.items()})
    publish("thread:updated", payload, rooms=thread_rooms(thread))
