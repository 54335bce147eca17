"""Starting a conversation by hand, through the JSON API.

The person starting it must be able to see what they name: the order by the
order page's rule, the customer by the inbox's (a customer whose conversations
all belong to another team is not theirs to write to). A name that does not
exist is a field error (422); one that exists but is not theirs is refused
(403), as the API refuses another team's thread rather than pretending it is
missing: ids are random UUIDs, so the difference tells nobody anything.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.conversations.core import announce_change
from app.conversations.core import open_thread as start_thread
from app.conversations.inbox.access import can_see_contact
from app.conversations.order_hooks import may_view_orders
from app.conversations.workspace.services import InvalidInput
from app.platform.extensions import db
from app.platform.models import CommunicationChannel, CommunicationThread, Contact, Order, User
from app.platform.models.enums import Priority, ThreadType


class NamedRecordHidden(PermissionError):
    """The author named an order or customer they may not see; ``fields`` says which."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


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
    if author is not None:
        _refuse_hidden(author, contact, order)
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


def _refuse_hidden(author: User, contact: Contact | None, order: Order | None) -> None:
    hidden: dict[str, str] = {}
    if order is not None and not may_view_orders(author):
        hidden["order_id"] = "an order you may not see"
    if contact is not None and not can_see_contact(author, contact):
        hidden["contact_id"] = "a customer of another team"
    if hidden:
        raise NamedRecordHidden(hidden)


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
