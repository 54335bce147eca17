"""Starting a conversation by hand, through the JSON API."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.conversations import announce_change
from app.conversations import open_thread as start_thread
from app.extensions import db
from app.models import CommunicationChannel, CommunicationThread, Contact, Order, User
from app.models.enums import Priority, ThreadType
from app.threads.services import InvalidInput


def open_thread(
    author: User | None,
    *,
    subject: str | None,
    contact_id: uuid.UUID | str | None = None,
    channel_type: str | None = None,
    thread_type: str | None = None,
    priority: str | None = None,
    order_id: uuid.UUID | str | None = None,
    tags: list[str] | None = None,
) -> CommunicationThread:
    """Start a conversation by hand (a phone call logged, an internal ticket)."""
    errors: dict[str, str] = {}
    subject = (subject or "").strip()
    if not subject:
        errors["subject"] = "required"
    elif len(subject) > 500:
        errors["subject"] = "at most 500 characters"
    values: dict = {}
    for field, enum, raw in (
        ("thread_type", ThreadType, thread_type),
        ("priority", Priority, priority),
    ):
        if raw is not None:
            try:
                values[field] = enum(raw)
            except ValueError:
                errors[field] = f"must be one of {', '.join(enum.values())}"
    contact = _get_or_error(Contact, contact_id, "contact_id", errors)
    order = _get_or_error(Order, order_id, "order_id", errors)
    channel = None
    if channel_type is not None:
        channel = db.session.scalar(
            sa.select(CommunicationChannel).where(
                CommunicationChannel.channel_type == channel_type,
                CommunicationChannel.is_active.is_(True),
            )
        )
        if channel is None:
            errors["channel"] = "no active channel of that type"
    if tags is not None and (
        not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags)
    ):
        errors["tags"] = "must be a list of words"
    if errors:
        raise InvalidInput(errors)
    thread = start_thread(
        subject=subject,
        contact=contact,
        channel=channel,
        order_id=order.id if order else None,
        # None when an automation (a Make scenario, say) opens the thread.
        created_by_user_id=author.id if author else None,
        tags=tags or [],
        **values,
    )
    # Opened by hand, with no message yet: the inbox hears of it now.
    announce_change(thread, "created")
    return thread


def _get_or_error(model, raw_id, field: str, errors: dict[str, str]):
    if raw_id in (None, ""):
        return None
    try:
        record = db.session.get(model, uuid.UUID(str(raw_id)))
    except ValueError:
        record = None
    if record is None:
        errors[field] = "not found"
    return record
