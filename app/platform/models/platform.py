"""Cross-cutting records: notifications, the audit trail, webhook in- and outboxes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity, enum_column
from app.platform.extensions import db
from app.platform.models.enums import DeliveryKind, OutboundState, Priority, ProcessingState

# Notices about a thread that coalesce while unread (app/conversations/notifications/listeners.py).
UNREAD_THREAD_NOTICE = (
    "read_at IS NULL AND source_table = 'communication_thread' "
    "AND notification_type IN ('customer_reply', 'thread_assigned')"
)


# The desk's notice of a new order waiting for a person (app/orders/core/waiting.py), and
# the Fillout intake's own notice of the same order: one per user and order.
ORDER_WAITING_NOTICE = (
    "source_table = 'orders' "
    "AND notification_type IN ('order_waiting', 'order_intake_received')"
)


class Notification(Entity, db.Model):
    """An in-app notice for one user (type, title, message, source)."""

    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index("ix_notifications_user_read", "user_id", "read_at"),
        # One unread reply/assignment notice per user and thread, enforced by the
        # database: two workers handling a customer's burst at once would both
        # find none unread and each tell the assignee.
        sa.Index(
            "uq_notifications_unread_thread_notice",
            "user_id",
            "source_record_id",
            unique=True,
            sqlite_where=sa.text(UNREAD_THREAD_NOTICE),
            postgresql_where=sa.text(UNREAD_THREAD_NOTICE),
        ),
        # One notice per desk member and new order, even when two workers take the
        # same intake at once or the hook and the intake both tell them.
        sa.Index(
            "uq_notifications_order_waiting",
            "user_id",
            "source_record_id",
            unique=True,
            sqlite_where=sa.text(ORDER_WAITING_NOTICE),
            postgresql_where=sa.text(ORDER_WAITING_NOTICE),
        ),
    )

    user_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    notification_type: so.Mapped[str] = so.mapped_column(sa.String(64))
    title: so.Mapped[str] = so.mapped_column(sa.String(255))
    message: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # The same as catalogue sentences (app/platform/system_texts.py), rendered in the
    # reader's language; title/message keep the English for the API.
    title_text: so.Mapped[Optional[list[Any]]] = so.mapped_column()
    message_text: so.Mapped[Optional[list[Any]]] = so.mapped_column()
    priority: so.Mapped[Priority] = so.mapped_column(enum_column(Priority), default=Priority.NORMAL)
    source_table: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    source_record_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column()
    link: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))
    read_at: so.Mapped[Optional[datetime]] = so.mapped_column()


class AuditLog(Entity, db.Model):
    """Who changed what, and from what to what. Written, never updated."""

    __tablename__ = "audit_logs"
    __table_args__ = (
        sa.Index("ix_audit_logs_record", "table_name", "record_id"),
        # The audit page lists newest first, a page at a time (keyset on created_at, id).
        sa.Index("ix_audit_logs_created_at", "created_at", "id"),
    )

    table_name: so.Mapped[str] = so.mapped_column(sa.String(64))
    record_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column()
    action: so.Mapped[str] = so.mapped_column(sa.String(64))
    changed_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    changes: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    ip_address: so.Mapped[Optional[str]] = so.mapped_column(sa.String(45))


class InboundWebhookEvent(Entity, db.Model):
    """A webhook exactly as it arrived, stored before anything is done with it.

    ``dedupe_key`` (a wamid, a Stripe event id, a body hash) is unique per source,
    so a provider's retry finds the first copy instead of making a second.
    """

    __tablename__ = "inbound_webhook_events"
    __table_args__ = (
        sa.UniqueConstraint("source", "dedupe_key"),
        sa.Index("ix_inbound_webhook_events_state_created", "processing_state", "created_at"),
        # The workers' consumers claim from here, oldest first: an index of only the
        # events waiting, read in order, so a claim's cost does not grow with the
        # events processed since the last vacuum (app.platform.webhooks.processing).
        sa.Index(
            "ix_inbound_webhook_events_received",
            "created_at",
            postgresql_where=sa.text("processing_state = 'received'"),
            sqlite_where=sa.text("processing_state = 'received'"),
        ),
    )

    source: so.Mapped[str] = so.mapped_column(sa.String(64))
    event_type: so.Mapped[Optional[str]] = so.mapped_column(sa.String(120))
    dedupe_key: so.Mapped[str] = so.mapped_column(sa.String(255))
    raw_body: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
    headers: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    processing_state: so.Mapped[ProcessingState] = so.mapped_column(
        enum_column(ProcessingState), default=ProcessingState.RECEIVED
    )
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    last_error: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    processed_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # While processing: until when the worker's claim holds. A worker that dies
    # mid-way leaves it to run out, and the sweeper hands the event on.
    lease_expires_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # Which worker claimed it last ("host:pid"): whose lease it is, for operators
    # (and tests) looking at an event left processing.
    claimed_by: so.Mapped[Optional[str]] = so.mapped_column(sa.String(120))
    # What processing found worth telling, though nothing failed (a payment
    # for an invoice we do not know).
    note: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)


class OutboundDelivery(Entity, db.Model):
    """An HTTP call we owe someone (partner callback, Make scenario, Teams card).

    Written in the same transaction as the change that causes it (an outbox), and
    worked off by the delivery job; ``next_attempt_at`` drives retries.
    """

    __tablename__ = "outbound_deliveries"
    __table_args__ = (sa.Index("ix_outbound_deliveries_state_next", "state", "next_attempt_at"),)

    kind: so.Mapped[DeliveryKind] = so.mapped_column(enum_column(DeliveryKind))
    partner_integration_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("partner_integrations.id", ondelete="SET NULL"), index=True
    )
    order_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    webhook_endpoint_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("webhook_endpoints.id", ondelete="SET NULL"), index=True
    )
    event_type: so.Mapped[str] = so.mapped_column(sa.String(64))
    # The Standard Webhooks message id: stable across retries of one delivery.
    webhook_id: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    target_url: so.Mapped[str] = so.mapped_column(sa.String(2000))
    payload: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    # The exact bytes sent (and signed), so every retry carries the same body and
    # signature checks on the receiver hold whatever JSONB does to key order.
    body: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    state: so.Mapped[OutboundState] = so.mapped_column(
        enum_column(OutboundState), default=OutboundState.PENDING
    )
    attempt_count: so.Mapped[int] = so.mapped_column(default=0)
    max_attempts: so.Mapped[int] = so.mapped_column(default=3)
    next_attempt_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    last_status_code: so.Mapped[Optional[int]] = so.mapped_column()
    last_error: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    delivered_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # When a worker took the delivery; a claim older than the lease means the
    # worker died mid-call and the delivery is handed out again.
    claimed_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # A callback about a test order (sandbox): marked as test in body and headers.
    is_test: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())

    attempts: so.Mapped[list["DeliveryAttempt"]] = so.relationship(
        back_populates="delivery",
        order_by="DeliveryAttempt.attempt_number",
        cascade="all, delete-orphan",
    )


class DeliveryAttempt(Entity, db.Model):
    """One try at an outbound delivery, kept for the delivery log."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (sa.UniqueConstraint("delivery_id", "attempt_number"),)

    delivery_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("outbound_deliveries.id", ondelete="CASCADE")
    )
    attempt_number: so.Mapped[int] = so.mapped_column()
    status_code: so.Mapped[Optional[int]] = so.mapped_column()
    latency_ms: so.Mapped[Optional[float]] = so.mapped_column()
    response_excerpt: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    error: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    triggered_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    delivery: so.Mapped[OutboundDelivery] = so.relationship(back_populates="attempts")


class SandboxSend(Entity, db.Model):
    """An outbound provider call recorded instead of sent (credentials unset).

    The sandbox transport writes these so ``make run`` works end to end and a
    person can see in the UI exactly what would have left the machine.
    """

    __tablename__ = "sandbox_sends"
    __table_args__ = (sa.Index("ix_sandbox_sends_provider_created", "provider", "created_at"),)

    provider: so.Mapped[str] = so.mapped_column(sa.String(32))
    recipient: so.Mapped[Optional[str]] = so.mapped_column(sa.String(320))
    request_body: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    simulated_status: so.Mapped[str] = so.mapped_column(sa.String(32), default="delivered")
    message_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("communication_message.id", ondelete="SET NULL"), index=True
    )


class ProviderStatus(Entity, db.Model):
    """How an outside provider (WhatsApp, Graph, SMS, Teams, SendGrid) is doing.

    Updated by every real call, so the channels page can say "failing since 10:42:
    token expired" without asking the provider.
    """

    __tablename__ = "provider_status"

    provider: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    last_success_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    last_error_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    last_error_message: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    consecutive_failures: so.Mapped[int] = so.mapped_column(default=0)
    # Set when the provider says our credentials are no good (WhatsApp error 190):
    # sending stops being worth retrying until a person fixes the configuration.
    unhealthy: so.Mapped[bool] = so.mapped_column(default=False)
