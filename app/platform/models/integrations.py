"""The integration hub: connectors, sync jobs, field mappings, webhooks out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.crypto import EncryptedJSON, EncryptedText
from app.platform.database import Entity
from app.platform.extensions import db


class Integration(Entity, db.Model):
    """One connection to an outside system (HubSpot, QuickBooks, Stripe, …).

    ``credentials`` (API key, OAuth tokens, webhook signing secret) are
    encrypted and deferred: listing integrations never decrypts them.
    ``config`` holds what is not secret: base URL, realm/portal ids, the
    generic connector's endpoints.
    """

    __tablename__ = "integrations"

    provider: so.Mapped[str] = so.mapped_column(sa.String(40), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    category: so.Mapped[str] = so.mapped_column(sa.String(20))
    auth_method: so.Mapped[str] = so.mapped_column(sa.String(20))
    # active / inactive / error
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="inactive", index=True)
    credentials: so.Mapped[Optional[dict[str, Any]]] = so.mapped_column(
        EncryptedJSON, deferred=True
    )
    config: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    # one_way_in / one_way_out / two_way
    sync_direction: so.Mapped[str] = so.mapped_column(sa.String(16), default="two_way")
    # real_time / hourly / daily / weekly / manual
    sync_frequency: so.Mapped[str] = so.mapped_column(sa.String(16), default="manual")
    batch_size: so.Mapped[int] = so.mapped_column(default=100)
    # Sync settings: list deleted/archived remote records too, only
    # records modified in this range, and the provider's own filters (keys the
    # registry declares for it). The connectors turn them into the provider's query.
    include_deleted: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    modified_since: so.Mapped[Optional[datetime]] = so.mapped_column()
    modified_until: so.Mapped[Optional[datetime]] = so.mapped_column()
    sync_filters: so.Mapped[dict[str, Any]] = so.mapped_column(
        default=dict, server_default=sa.text("'{}'")
    )
    webhooks_enabled: so.Mapped[bool] = so.mapped_column(default=False)
    token_expires_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    last_sync_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    last_success_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    last_error_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    last_error_message: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    records_synced: so.Mapped[int] = so.mapped_column(default=0)
    created_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    field_mappings: so.Mapped[list["FieldMapping"]] = so.relationship(
        back_populates="integration",
        order_by="FieldMapping.position",
        cascade="all, delete-orphan",
    )


class FieldMapping(Entity, db.Model):
    """One field of one object, ours ↔ theirs (a dot path), with a safe transform."""

    __tablename__ = "integration_field_mappings"
    __table_args__ = (
        sa.UniqueConstraint("integration_id", "object_type", "local_field", "remote_field"),
    )

    integration_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("integrations.id", ondelete="CASCADE"), index=True
    )
    object_type: so.Mapped[str] = so.mapped_column(sa.String(40))
    local_field: so.Mapped[str] = so.mapped_column(sa.String(120))
    remote_field: so.Mapped[str] = so.mapped_column(sa.String(255))
    data_type: so.Mapped[str] = so.mapped_column(sa.String(16), default="string")
    required: so.Mapped[bool] = so.mapped_column(default=False)
    # in / out / both
    direction: so.Mapped[str] = so.mapped_column(sa.String(8), default="both")
    # A name from a fixed list (upper, lower, trim, e164, cents_to_euros, …); never code.
    transform: so.Mapped[Optional[str]] = so.mapped_column(sa.String(40))
    position: so.Mapped[int] = so.mapped_column(default=0)

    integration: so.Mapped[Integration] = so.relationship(back_populates="field_mappings")


class SyncJob(Entity, db.Model):
    """One run of a sync: counts for the progress bar, and how it ended."""

    __tablename__ = "sync_jobs"
    __table_args__ = (
        sa.Index("ix_sync_jobs_integration_created", "integration_id", "created_at"),
        sa.Index("ix_sync_jobs_status_heartbeat", "status", "heartbeat_at"),
    )

    integration_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("integrations.id", ondelete="CASCADE")
    )
    object_type: so.Mapped[str] = so.mapped_column(sa.String(40))
    direction: so.Mapped[str] = so.mapped_column(sa.String(16))
    # pending / running / completed / completed_with_errors / failed / cancelled
    status: so.Mapped[str] = so.mapped_column(sa.String(24), default="pending")
    # Only the records that failed last time (a re-run after a fix).
    only_failed: so.Mapped[bool] = so.mapped_column(default=False)
    total_records: so.Mapped[int] = so.mapped_column(default=0)
    processed: so.Mapped[int] = so.mapped_column(default=0)
    succeeded: so.Mapped[int] = so.mapped_column(default=0)
    failed: so.Mapped[int] = so.mapped_column(default=0)
    # Remote records listed as deleted/archived: kept apart, never (re)created locally.
    archived: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    # Where the next batch starts: the provider's paging cursor, committed with
    # each batch, so a rerun continues there instead of at the first page.
    cursor: so.Mapped[Optional[str]] = so.mapped_column(sa.String(1000))
    # How often a worker took the job up, and the record it last resumed at.
    runs: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    resumed_at_record: so.Mapped[Optional[int]] = so.mapped_column()
    # The running worker's claim: a batch commits only under its own token, and a
    # heartbeat older than SYNC_LEASE_SECONDS lets another worker take the job over.
    claim_token: so.Mapped[Optional[uuid.UUID]] = so.mapped_column()
    heartbeat_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    cancel_requested: so.Mapped[bool] = so.mapped_column(default=False)
    started_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    finished_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    error: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    triggered_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )


class SyncRecord(Entity, db.Model):
    """Where one local record stands with one integration: its remote id, last error."""

    __tablename__ = "sync_records"
    __table_args__ = (
        sa.UniqueConstraint("integration_id", "object_type", "local_id"),
        sa.Index("ix_sync_records_integration_status", "integration_id", "status"),
    )

    integration_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("integrations.id", ondelete="CASCADE")
    )
    object_type: so.Mapped[str] = so.mapped_column(sa.String(40))
    local_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    remote_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255), index=True)
    # synced / failed / pending / archived (deleted or archived at the provider)
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="synced")
    last_error: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    last_sync_job_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("sync_jobs.id", ondelete="SET NULL")
    )
    synced_at: so.Mapped[Optional[datetime]] = so.mapped_column()


class WebhookEndpoint(Entity, db.Model):
    """Someone else's URL that hears about our platform events."""

    __tablename__ = "webhook_endpoints"

    url: so.Mapped[str] = so.mapped_column(sa.String(2000))
    description: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    events: so.Mapped[list[Any]] = so.mapped_column(default=list)
    secret: so.Mapped[Optional[str]] = so.mapped_column(EncryptedText)
    # Extra headers sent with every call; may hold tokens, so encrypted.
    custom_headers: so.Mapped[Optional[dict[str, Any]]] = so.mapped_column(EncryptedJSON)
    max_attempts: so.Mapped[int] = so.mapped_column(default=3)
    retry_base_seconds: so.Mapped[Optional[int]] = so.mapped_column()
    is_active: so.Mapped[bool] = so.mapped_column(default=True)
    disabled_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    disabled_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    created_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )


class PlatformEvent(Entity, db.Model):
    """Something that happened, in our words (``invoice.paid``, ``customer.created``).

    Provider webhooks and our own changes become platform events; webhook
    endpoints subscribed to the name get a delivery.
    """

    __tablename__ = "platform_events"
    __table_args__ = (sa.Index("ix_platform_events_name_created", "name", "created_at"),)

    name: so.Mapped[str] = so.mapped_column(sa.String(64))
    source: so.Mapped[str] = so.mapped_column(sa.String(40))
    payload: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    integration_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("integrations.id", ondelete="SET NULL")
    )
    inbound_event_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("inbound_webhook_events.id", ondelete="SET NULL")
    )
