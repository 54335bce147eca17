"""What happens to a conversation, as events its listeners hear after the commit.

Published only by the conversation's owner (:mod:`app.conversations.core`); plain
ids and values, so a listener loads what it needs from committed rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from app.platform.events import DomainEvent


@dataclass(frozen=True)
class ThreadOpened(DomainEvent):
    """A new conversation; ``needs_routing`` when the assignment rules should place it."""

    thread_id: uuid.UUID
    channel_type: str | None
    needs_routing: bool = False


@dataclass(frozen=True)
class MessageCreated(DomainEvent):
    """A message in a thread: a customer's (``inbound``), ours, a note or a status line.

    ``queued_send`` is True when an outbound message was handed to its channel's
    send job after the commit; ``send_at`` when that job should run (a reply
    held for Undo), None for at once.
    """

    thread_id: uuid.UUID
    message_id: uuid.UUID
    direction: str  # inbound | outbound | internal
    message_type: str
    channel_type: str | None
    queued_send: bool = False
    send_at: datetime | None = None


@dataclass(frozen=True)
class ThreadChanged(DomainEvent):
    """Something about a thread changed that browsers showing it should hear about.

    ``reason`` is what the live update says (``message``, ``delivery``,
    ``edited``, ``assigned``, ``created`` …); ``details`` travel with it.
    """

    thread_id: uuid.UUID
    reason: str
    details: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class ThreadAssigned(DomainEvent):
    """A thread got a new assignee (or team), by a rule or by a person.

    ``by_user_id`` is the person who assigned it; None when a rule or an
    escalation did. ``reason`` is in English.
    """

    thread_id: uuid.UUID
    user_id: uuid.UUID | None
    team_id: uuid.UUID | None
    previous_user_id: uuid.UUID | None
    reason: str
    by_user_id: uuid.UUID | None = None
