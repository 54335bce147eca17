"""Listing threads for the inbox and the JSON API.

Pages are keyset-paginated on ``(last_message_at, id)``: the next page starts
after the last row seen, so page 400 costs what page 1 costs and rows never
repeat or vanish when new messages arrive between pages.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.database import utcnow
from app.extensions import db
from app.models import CommunicationChannel, CommunicationThread, Contact, User
from app.models.enums import ChannelType, ThreadStatus

CLOSED_STATUSES = (ThreadStatus.RESOLVED, ThreadStatus.CLOSED)

# Inbox tabs (CONTRACT §7) and the channel types each one shows.
CHANNEL_FILTERS: dict[str, tuple[ChannelType, ...]] = {
    "email": (ChannelType.EMAIL_OUTLOOK,),
    "whatsapp": (ChannelType.WHATSAPP_BUSINESS,),
    "sms": (ChannelType.SMS,),
    "tasks": (ChannelType.INTERNAL_TASK, ChannelType.INTERNAL_TICKET),
}
FILTERS = ("all", "email", "whatsapp", "sms", "tasks", "overdue", "mine")


class InvalidCursor(ValueError):
    pass


def encode_cursor(thread: CommunicationThread) -> str:
    raw = f"{thread.last_message_at.isoformat()}|{thread.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, _, ident = base64.urlsafe_b64decode(padded.encode()).decode().partition("|")
        return datetime.fromisoformat(stamp), uuid.UUID(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("cursor: not a cursor this server handed out") from exc


@dataclass
class ThreadPage:
    threads: list[CommunicationThread]
    next_cursor: str | None


def list_threads(
    viewer: User,
    *,
    filter_name: str = "all",
    cursor: str | None = None,
    limit: int = 50,
    now: datetime | None = None,
) -> ThreadPage:
    """One page of the inbox for ``viewer``, newest activity first."""
    if filter_name not in FILTERS:
        raise ValueError(f"filter: must be one of {', '.join(FILTERS)}")
    now = now or utcnow()
    query = (
        sa.select(CommunicationThread)
        .options(
            so.joinedload(CommunicationThread.contact),
            so.joinedload(CommunicationThread.channel),
            so.joinedload(CommunicationThread.assigned_to),
        )
        .order_by(CommunicationThread.last_message_at.desc(), CommunicationThread.id.desc())
        .limit(limit + 1)
    )
    if filter_name in CHANNEL_FILTERS:
        query = query.join(CommunicationThread.channel).where(
            CommunicationChannel.channel_type.in_(CHANNEL_FILTERS[filter_name])
        )
    elif filter_name == "overdue":
        query = query.where(
            CommunicationThread.response_due_at < now,
            CommunicationThread.status.not_in(CLOSED_STATUSES),
        )
    elif filter_name == "mine":
        query = query.where(CommunicationThread.assigned_to_user_id == viewer.id)
    if cursor:
        stamp, ident = decode_cursor(cursor)
        query = query.where(
            sa.tuple_(CommunicationThread.last_message_at, CommunicationThread.id)
            < sa.tuple_(stamp, ident)
        )
    rows = list(db.session.scalars(query).unique())
    has_more = len(rows) > limit
    rows = rows[:limit]
    return ThreadPage(rows, encode_cursor(rows[-1]) if has_more and rows else None)


def sla_label(thread: CommunicationThread, now: datetime | None = None) -> tuple[str, str] | None:
    """A short SLA state for a row, with a tone: ("2h overdue", "overdue")."""
    if thread.response_due_at is None or thread.status in CLOSED_STATUSES:
        return None
    now = now or utcnow()
    seconds = (thread.response_due_at - now).total_seconds()
    span = _human_span(abs(seconds))
    if seconds < 0:
        return f"{span} overdue", "overdue"
    tone = "soon" if seconds < 3600 else "ok"
    return f"due in {span}", tone


def _human_span(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h"
    return f"{hours // 24}d"


def contact_summary(contact: Contact | None) -> dict | None:
    if contact is None:
        return None
    return {
        "id": str(contact.id),
        "name": contact.display_name,
        "email": contact.email,
        "phone": contact.phone,
    }


def thread_to_dict(thread: CommunicationThread) -> dict:
    """A thread as CONTRACT §6 describes it."""
    return {
        "id": str(thread.id),
        "subject": thread.thread_subject,
        "thread_type": thread.thread_type.value,
        "priority": thread.priority.value,
        "status": thread.status.value,
        "channel": thread.channel.channel_type.value if thread.channel else None,
        "contact": contact_summary(thread.contact),
        "assigned_to": (
            {"id": str(thread.assigned_to.id), "name": thread.assigned_to.name}
            if thread.assigned_to
            else None
        ),
        "order_id": str(thread.order_id) if thread.order_id else None,
        "last_message_at": thread.last_message_at.isoformat(),
        "response_due_at": thread.response_due_at.isoformat() if thread.response_due_at else None,
        "tags": list(thread.tags or []),
    }
