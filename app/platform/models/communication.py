"""The communication tables: channels, threads, messages, tasks (templates: templates.py).

Column names follow the original data model. Where that model points ``*_contact_id``
at contacts for staff, these tables point ``*_user_id`` at users: staff sign in here (see
``User``), while customers and partners stay contacts.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects.postgresql import TSVECTOR

from app.platform.crypto import EncryptedJSON
from app.platform.database import Entity, enum_column, utcnow
from app.platform.extensions import db
from app.platform.models.enums import (
    ChannelType,
    DeliveryStatus,
    MessageType,
    Priority,
    TaskStatus,
    TaskType,
    ThreadStatus,
    ThreadType,
)
from app.platform.models.urgency import INTERNAL_CHANNEL_TYPES, INTERNAL_THREAD_TYPES, urgency_key

# The subject an erased person's conversation keeps (app/conversations/core/erasure.py):
# stored in English, shown in the reader's language (app/platform/ui.py, thread_subject).
ERASED_THREAD_SUBJECT = "Erased conversation"

# How the JSON API names a message's direction, from its type.
DIRECTION_BY_TYPE = {
    MessageType.INCOMING: "inbound",
    MessageType.OUTGOING: "outbound",
    MessageType.AUTO_RESPONSE: "outbound",
    MessageType.INTERNAL_NOTE: "internal",
    MessageType.SYSTEM_NOTIFICATION: "internal",
}


class CommunicationChannel(Entity, db.Model):
    """A configured way of talking: an Outlook mailbox, a WhatsApp number, notes."""

    __tablename__ = "communication_channel"

    channel_type: so.Mapped[ChannelType] = so.mapped_column(enum_column(ChannelType), index=True)
    channel_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    is_active: so.Mapped[bool] = so.mapped_column(default=True)
    # The original data model keeps settings and secrets in one ``configuration``
    # document. They are split here: settings (mailbox, business hours, signature) stay readable
    # and cheap to load on every inbox page; API keys and tokens live in
    # ``credentials``, encrypted at rest and loaded only when a transport asks.
    configuration: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    credentials: so.Mapped[Optional[dict[str, Any]]] = so.mapped_column(
        EncryptedJSON, deferred=True
    )
    auto_assignment_rules: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    response_sla_hours: so.Mapped[Optional[int]] = so.mapped_column()
    escalation_rules: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    # Opening hours the SLA clock runs in; None = the default calendar.
    business_calendar_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("business_calendars.id", ondelete="SET NULL")
    )


class CommunicationThread(Entity, db.Model):
    """One conversation with a customer or partner, across every channel it touched."""

    __tablename__ = "communication_thread"
    __table_args__ = (
        # "Newest" order of the inbox.
        sa.Index("ix_communication_thread_last_message", "last_message_at", "id"),
        # A customer's open conversation on a channel, newest first: the look-up every
        # inbound message makes (app/conversations/core/senders.py). On contact_id alone
        # PostgreSQL's generic plan ANDed it with a bitmap of every thread of the
        # channel, which grows with the table; this is one index probe. It also
        # serves what looks up a contact's threads.
        sa.Index(
            "ix_communication_thread_contact_channel", "contact_id", "channel_id", "last_message_at"
        ),
        # "Urgency" order of the inbox, whole and narrowed the common ways; each
        # is an ordered index scan that stops after one page.
        sa.Index("ix_communication_thread_urgency", "urgency_bucket", "urgency_score", "id"),
        sa.Index(
            "ix_communication_thread_assignee_urgency",
            "assigned_to_user_id",
            "urgency_bucket",
            "urgency_score",
            "id",
            # The Overdue count's "mine in another team" part stays index-only.
            postgresql_include=["assigned_team_id"],
        ),
        sa.Index(
            "ix_communication_thread_team_urgency",
            "assigned_team_id",
            "urgency_bucket",
            "urgency_score",
            "id",
        ),
        sa.Index(
            "ix_communication_thread_channel_urgency",
            "channel_id",
            "urgency_bucket",
            "urgency_score",
            "id",
        ),
        # The Unassigned tab's count: an index-only count per team
        # (app/conversations/inbox/counts.py).
        sa.Index(
            "ix_communication_thread_unassigned",
            "assigned_team_id",
            "urgency_bucket",
            postgresql_where=sa.text("assigned_to_user_id IS NULL"),
            sqlite_where=sa.text("assigned_to_user_id IS NULL"),
        ),
        # The SLA scanner finds threads crossing a deadline without a full scan.
        sa.Index("ix_communication_thread_response_due", "response_due_at"),
        sa.Index("ix_communication_thread_sla_next_check", "sla_next_check_at"),
        # Analytics recomputes one day's roll-ups from the threads created or
        # resolved that day (app/analytics/rollups.py), and reads today directly.
        sa.Index("ix_communication_thread_created", "created_at"),
        sa.Index("ix_communication_thread_resolved", "resolved_at"),
        # The workload figure's open conversations per assignee, now: an index-only
        # count of the open ones instead of a scan of every thread ever.
        sa.Index(
            "ix_communication_thread_open_assignee",
            "assigned_to_user_id",
            postgresql_where=sa.text("status NOT IN ('resolved', 'closed')"),
            sqlite_where=sa.text("status NOT IN ('resolved', 'closed')"),
        ),
        # The wake-up job reads only snoozed threads whose time has come.
        sa.Index(
            "ix_communication_thread_snoozed_until",
            "snoozed_until",
            postgresql_where=sa.text("snoozed_until IS NOT NULL"),
            sqlite_where=sa.text("snoozed_until IS NOT NULL"),
        ),
        sa.Index(
            "ix_communication_thread_search",
            "search_vector",
            postgresql_using="gin",
        ),
    )

    thread_subject: so.Mapped[str] = so.mapped_column(sa.Text)
    thread_type: so.Mapped[ThreadType] = so.mapped_column(
        enum_column(ThreadType), default=ThreadType.CUSTOMER_SUPPORT
    )
    priority: so.Mapped[Priority] = so.mapped_column(enum_column(Priority), default=Priority.NORMAL)
    status: so.Mapped[ThreadStatus] = so.mapped_column(
        enum_column(ThreadStatus), default=ThreadStatus.OPEN
    )
    # channel_id and assigned_team_id have no index of their own: they lead the
    # channel's and team's urgency indexes, which serve them (each index is written
    # on every message, the thread's UPDATE being never HOT).
    channel_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("communication_channel.id", ondelete="SET NULL")
    )
    contact_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL")
    )
    order_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    customer_organization_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    partner_organization_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    assigned_team_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("teams.id", ondelete="SET NULL")
    )
    assigned_to_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    # Why auto-assignment chose the assignee, shown on the thread.
    assignment_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # The same reason as system-text keys and parameters (app/platform/system_texts.py),
    # shown in the reader's language; None on threads routed before it existed.
    assignment_reason_text: so.Mapped[Optional[list[Any]]] = so.mapped_column()
    # Never empty (set to the creation time until a message arrives), so keyset
    # pagination on (last_message_at, id) needs no NULL handling.
    last_message_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_message_preview: so.Mapped[Optional[str]] = so.mapped_column(sa.String(280))
    # The newest customer message (kept by the owner's ``record_inbound``): a
    # conversation is unread for an agent whose ``ThreadRead`` is older than this.
    last_customer_message_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    response_due_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    first_response_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    resolved_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # SLA clock pause while waiting on the customer (seconds banked, start of pause).
    sla_paused_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    sla_paused_seconds: so.Mapped[int] = so.mapped_column(default=0)
    # Highest escalation-ladder step fired in the current SLA cycle (0 = none).
    sla_stage: so.Mapped[int] = so.mapped_column(default=0)
    # The current SLA cycle: when its clock started, its length in business
    # seconds, and a counter so each ladder step fires once per cycle.
    sla_started_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    sla_target_seconds: so.Mapped[Optional[int]] = so.mapped_column()
    sla_cycle: so.Mapped[int] = so.mapped_column(default=0)
    # When the next ladder step falls due (None = nothing to check): the
    # escalation scan reads only rows whose moment has come, by index.
    sla_next_check_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # Business seconds to the first answer and to resolution, for analytics.
    first_response_seconds: so.Mapped[Optional[int]] = so.mapped_column()
    resolution_seconds: so.Mapped[Optional[int]] = so.mapped_column()
    # Snoozed (``app.conversations.core.snoozing``): out of the open lists since
    # ``snoozed_at`` until ``snoozed_until``, or until the customer writes when
    # that is empty. The SLA clock is paused meanwhile (``sla_paused_at``).
    snoozed_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    snoozed_until: so.Mapped[Optional[datetime]] = so.mapped_column()
    snoozed_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    tags: so.Mapped[list[Any]] = so.mapped_column(default=list)
    external_references: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    # Bumped on every edit a person makes, so a stale form is refused, not applied.
    lock_version: so.Mapped[int] = so.mapped_column(default=1)
    # The inbox's urgency order as two sortable columns (see ``refresh_urgency``),
    # kept on the row because an ORDER BY over an expression cannot use an index.
    urgency_bucket: so.Mapped[int] = so.mapped_column(sa.SmallInteger, default=1)
    urgency_score: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    # Full-text document (subject, contact, every message) on PostgreSQL; unused
    # on SQLite, where search falls back to LIKE.
    search_vector: so.Mapped[Optional[str]] = so.mapped_column(
        sa.Text().with_variant(TSVECTOR(), "postgresql"), deferred=True
    )

    channel: so.Mapped[Optional[CommunicationChannel]] = so.relationship()
    contact = so.relationship("Contact")
    order = so.relationship("Order")
    assigned_to = so.relationship("User", foreign_keys=[assigned_to_user_id])
    assigned_team = so.relationship("Team")
    snoozed_by = so.relationship("User", foreign_keys=[snoozed_by_user_id])
    messages: so.Mapped[list["CommunicationMessage"]] = so.relationship(
        back_populates="thread",
        order_by="CommunicationMessage.created_at",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def refresh_urgency(self, *, internal: bool = False) -> None:
        """Recompute the urgency sort key (``app.platform.models.urgency`` has the order).

        ``internal``: the thread is a task or note among colleagues, not a customer's.
        """
        self.urgency_bucket, self.urgency_score = urgency_key(
            closed=self.status in (ThreadStatus.RESOLVED, ThreadStatus.CLOSED),
            internal=internal,
            response_due_at=self.response_due_at,
            last_activity=self.last_message_at or utcnow(),
            priority=self.priority or Priority.NORMAL,
            snoozed=self.snoozed_at is not None,
            snoozed_until=self.snoozed_until,
        )

    @property
    def is_snoozed(self) -> bool:
        return self.snoozed_at is not None


# A channel's type never changes, so one look-up per channel and process will do.
_INTERNAL_CHANNEL: dict[uuid.UUID, bool] = {}


def _is_internal(connection: sa.Connection, thread: CommunicationThread) -> bool:
    if thread.thread_type in INTERNAL_THREAD_TYPES:
        return True
    if thread.channel_id is None:
        return False
    if thread.channel_id not in _INTERNAL_CHANNEL:
        channel_type = connection.scalar(
            sa.select(CommunicationChannel.channel_type).where(
                CommunicationChannel.id == thread.channel_id
            )
        )
        _INTERNAL_CHANNEL[thread.channel_id] = channel_type in INTERNAL_CHANNEL_TYPES
    return _INTERNAL_CHANNEL[thread.channel_id]


@sa.event.listens_for(CommunicationThread, "before_insert")
@sa.event.listens_for(CommunicationThread, "before_update")
def _keep_urgency_current(mapper, connection, thread: CommunicationThread) -> None:
    # Only a deadline makes the difference; the look-up is skipped otherwise.
    has_deadline = thread.response_due_at is not None
    thread.refresh_urgency(internal=has_deadline and _is_internal(connection, thread))


class CommunicationMessage(Entity, db.Model):
    """One message in a thread: inbound, outbound, a note or a system line."""

    __tablename__ = "communication_message"
    __table_args__ = (
        sa.Index("ix_communication_message_thread_created", "thread_id", "created_at"),
        # One day's messages for the analytics roll-ups and today's direct figures.
        sa.Index("ix_communication_message_created", "created_at"),
        # Provider ids (wamid, Graph id) arrive more than once; one row each.
        sa.UniqueConstraint("channel_id", "external_message_id"),
        # The send sweeper reads only messages still waiting to go out.
        sa.Index(
            "ix_communication_message_pending_send",
            "created_at",
            postgresql_where=sa.text("delivery_status = 'pending'"),
            sqlite_where=sa.text("delivery_status = 'pending'"),
        ),
    )

    thread_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("communication_thread.id", ondelete="CASCADE")
    )
    channel_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("communication_channel.id", ondelete="SET NULL")
    )
    message_type: so.Mapped[MessageType] = so.mapped_column(enum_column(MessageType))
    sender_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    sender_contact_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    sender_external: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    recipient_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    recipient_external: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    subject: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    message_content: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    message_html: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # The language a customer's message is written in (ISO 639-1, app/conversations/languages);
    # None for our own messages and for texts too short or mixed to tell.
    language: so.Mapped[Optional[str]] = so.mapped_column(sa.String(8))
    attachments: so.Mapped[list[Any]] = so.mapped_column(default=list)
    external_message_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    delivery_status: so.Mapped[DeliveryStatus] = so.mapped_column(
        enum_column(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    delivery_error: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    template_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("communication_template.id", ondelete="SET NULL")
    )
    sent_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    delivered_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    read_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # While a worker sends it: until when its claim holds (see app/conversations/core/sending.py).
    send_lease_expires_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # An agent's reply waits until then before it is sent, while Undo can still
    # withdraw it (see app/conversations/core/holding.py); cleared when a worker claims it.
    send_held_until: so.Mapped[Optional[datetime]] = so.mapped_column()
    extra: so.Mapped[dict[str, Any]] = so.mapped_column("metadata", default=dict)
    # When we wrote it down; ``created_at`` is when it happened, and a customer's
    # message carries the provider's time, often earlier. The reply box's check for
    # crossing messages (app/conversations/core/collisions.py) needs the order of arrival.
    recorded_at: so.Mapped[datetime] = so.mapped_column(
        default=utcnow, server_default=sa.func.now()
    )

    thread: so.Mapped[CommunicationThread] = so.relationship(back_populates="messages")
    channel: so.Mapped[Optional[CommunicationChannel]] = so.relationship()
    sender_user = so.relationship("User", foreign_keys=[sender_user_id])
    sender_contact = so.relationship("Contact", foreign_keys=[sender_contact_id])

    @property
    def direction(self) -> str:
        return DIRECTION_BY_TYPE[self.message_type]

    @property
    def is_held(self) -> bool:
        """Still inside its undo window: not sent, and its author may withdraw it."""
        return self.send_held_until is not None and self.send_held_until > utcnow()

    @property
    def held_seconds_left(self) -> float:
        """Seconds until the hold ends by the server's clock (0 when not held)."""
        if self.send_held_until is None:
            return 0.0
        return round(max((self.send_held_until - utcnow()).total_seconds(), 0.0), 1)


class ThreadRead(Entity, db.Model):
    """Up to when one agent has seen one conversation (written by ``mark_read``).

    One row per agent and thread, upserted on every open; the inbox looks the
    viewer's row up to mark conversations with newer customer messages unread.
    """

    __tablename__ = "thread_reads"
    __table_args__ = (sa.UniqueConstraint("user_id", "thread_id"),)

    user_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    thread_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("communication_thread.id", ondelete="CASCADE"), index=True
    )
    last_read_at: so.Mapped[datetime] = so.mapped_column()


class InternalTask(Entity, db.Model):
    """A piece of work for a person, often born from a conversation."""

    __tablename__ = "internal_task"
    __table_args__ = (
        sa.Index("ix_internal_task_status_due", "status", "due_date"),
        sa.Index("ix_internal_task_assignee_status", "assigned_to_user_id", "status"),
        # Analytics reads today's completed tasks and recomputes one past day's
        # (app/analytics/rollups.py) without reading every task ever.
        sa.Index("ix_internal_task_completed", "completed_at"),
    )

    task_title: so.Mapped[str] = so.mapped_column(sa.String(255))
    task_description: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    task_type: so.Mapped[TaskType] = so.mapped_column(enum_column(TaskType), default=TaskType.OTHER)
    priority: so.Mapped[Priority] = so.mapped_column(enum_column(Priority), default=Priority.NORMAL)
    status: so.Mapped[TaskStatus] = so.mapped_column(
        enum_column(TaskStatus), default=TaskStatus.OPEN
    )
    assigned_to_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    assigned_team_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    created_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    thread_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("communication_thread.id", ondelete="SET NULL"), index=True
    )
    order_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    due_date: so.Mapped[Optional[date]] = so.mapped_column()
    due_time: so.Mapped[Optional[str]] = so.mapped_column(sa.String(5))
    completed_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    completion_notes: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    reminder_settings: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    # When the next reminder is due, so the reminder job reads an index, not every task.
    next_reminder_at: so.Mapped[Optional[datetime]] = so.mapped_column(index=True)
    lock_version: so.Mapped[int] = so.mapped_column(default=1)

    assigned_to = so.relationship("User", foreign_keys=[assigned_to_user_id])
    thread = so.relationship("CommunicationThread")
