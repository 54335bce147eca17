"""A partner integration: how we talk to one partner's systems."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.crypto import EncryptedJSON, EncryptedText
from app.platform.database import Entity, enum_column, utcnow
from app.platform.extensions import db
from app.platform.models.enums import AuthenticationType, OrderStatus, SyncFrequency

# What a partner's own status may reach until an admin grants more: a pause is
# the partner's to report (its customer asks to wait, a car is late); it moves
# no money and an agent undoes it.
DEFAULT_GRANTED_STATUSES = (OrderStatus.ON_HOLD.value,)


class PartnerIntegration(Entity, db.Model):
    """Configuration and health of one partner's API and webhook integration."""

    __tablename__ = "partner_integrations"

    partner_organization_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    integration_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    api_base_url: so.Mapped[Optional[str]] = so.mapped_column(sa.String(2000))
    api_version: so.Mapped[Optional[str]] = so.mapped_column(sa.String(20))
    authentication_type: so.Mapped[AuthenticationType] = so.mapped_column(
        enum_column(AuthenticationType), default=AuthenticationType.API_KEY
    )
    api_credentials: so.Mapped[Optional[dict[str, Any]]] = so.mapped_column(EncryptedJSON)
    webhook_url: so.Mapped[Optional[str]] = so.mapped_column(sa.String(2000))
    webhook_secret: so.Mapped[Optional[str]] = so.mapped_column(EncryptedText)
    webhook_events: so.Mapped[list[Any]] = so.mapped_column(default=list)
    status_mapping: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    is_active: so.Mapped[bool] = so.mapped_column(default=True)
    sync_enabled: so.Mapped[bool] = so.mapped_column(default=True)
    last_sync_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    sync_frequency: so.Mapped[SyncFrequency] = so.mapped_column(
        enum_column(SyncFrequency), default=SyncFrequency.REAL_TIME
    )
    success_rate: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(5, 2))
    last_error_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    last_error_message: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # Requests per minute allowed on the partner API for this partner.
    rate_limit_per_minute: so.Mapped[int] = so.mapped_column(default=120)
    # How many times one callback is tried before a person is alerted.
    max_delivery_attempts: so.Mapped[int] = so.mapped_column(default=3)
    # Set when the partner's endpoint answered 410 Gone: no callbacks until re-enabled.
    webhook_disabled_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    webhook_disabled_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # Mailbox address partner order e-mails arrive on (Alva), parsed into drafts.
    order_email_address: so.Mapped[Optional[str]] = so.mapped_column(sa.String(254), index=True)
    # Where alerts about failing callbacks go when the partner has no contact e-mail.
    alert_email: so.Mapped[Optional[str]] = so.mapped_column(sa.String(254))
    # Our statuses this partner's own statuses may put an order in (its
    # ``partner_to_chargecars`` mapping, the status webhook). Granted by an admin
    # (app.orders.partners.grants); the partner API cannot change it.
    granted_statuses: so.Mapped[list[Any]] = so.mapped_column(
        default=lambda: list(DEFAULT_GRANTED_STATUSES)
    )

    # Secret rotation with overlap: the secret that was replaced keeps
    # signing beside the new one until ``previous_secret_expires_at``.
    previous_webhook_secret: so.Mapped[Optional[str]] = so.mapped_column(EncryptedText)
    previous_secret_expires_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # Networks (CIDR) the partner's API keys may be used from; empty = anywhere.
    ip_allowlist: so.Mapped[list[Any]] = so.mapped_column(default=list)

    # The sandbox's own callback settings: a test order's callbacks go
    # to this URL, with these events, signed with this secret, so a test key never
    # chooses where a live order's callbacks (live customers' details) are sent.
    sandbox_webhook_url: so.Mapped[Optional[str]] = so.mapped_column(sa.String(2000))
    sandbox_webhook_events: so.Mapped[list[Any]] = so.mapped_column(default=list)
    sandbox_webhook_secret: so.Mapped[Optional[str]] = so.mapped_column(EncryptedText)
    previous_sandbox_webhook_secret: so.Mapped[Optional[str]] = so.mapped_column(EncryptedText)
    previous_sandbox_secret_expires_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # The partner's explicit choice: while the sandbox URL is empty, test callbacks
    # go to the live webhook_url (signed with the live secret). Off: they are skipped.
    test_callbacks_to_live_url: so.Mapped[bool] = so.mapped_column(
        default=False, server_default=sa.false()
    )

    partner_organization = so.relationship("Organization")

    def signing_secrets(self, now: datetime | None = None) -> list[str]:
        """The secrets that sign and verify right now: the current one first.

        During a rotation's overlap the replaced secret is still valid beside
        the new one; once ``previous_secret_expires_at`` has passed it is
        ignored (and cleared by the next rotation).
        """
        return _valid_secrets(
            self.webhook_secret,
            self.previous_webhook_secret,
            self.previous_secret_expires_at,
            now,
        )

    def previous_secret_is_valid(self, now: datetime | None = None) -> bool:
        """True while the replaced secret is still in its overlap window."""
        return _in_overlap(
            self.webhook_secret, self.previous_webhook_secret, self.previous_secret_expires_at, now
        )

    def sandbox_signing_secrets(self, now: datetime | None = None) -> list[str]:
        """The sandbox's secrets that sign test callbacks now, as :meth:`signing_secrets`."""
        return _valid_secrets(
            self.sandbox_webhook_secret,
            self.previous_sandbox_webhook_secret,
            self.previous_sandbox_secret_expires_at,
            now,
        )

    def previous_sandbox_secret_is_valid(self, now: datetime | None = None) -> bool:
        return _in_overlap(
            self.sandbox_webhook_secret,
            self.previous_sandbox_webhook_secret,
            self.previous_sandbox_secret_expires_at,
            now,
        )


def _in_overlap(
    current: str | None, previous: str | None, expires_at: datetime | None, now: datetime | None
) -> bool:
    return (
        bool(previous)
        and expires_at is not None
        and expires_at > (now or utcnow())
        and previous != current
    )


def _valid_secrets(
    current: str | None, previous: str | None, expires_at: datetime | None, now: datetime | None
) -> list[str]:
    secrets = [current] if current else []
    if _in_overlap(current, previous, expires_at, now):
        secrets.append(previous)
    return secrets


class PartnerApiUsage(Entity, db.Model):
    """A partner's calls to the API per day and response-time bucket.

    A small histogram instead of one average: each row counts the calls of one
    day whose answer took at most ``bucket_ms`` (and more than the bucket below),
    so p50 and p95 can be read off per period. ``day`` is the Dutch calendar day,
    like the order figures beside it. Filled in batches by
    :func:`app.integrations.usage.flush_usage`, never per request.
    """

    __tablename__ = "partner_api_usage"
    __table_args__ = (
        sa.UniqueConstraint(
            "day", "partner_organization_id", "bucket_ms", name="uq_partner_api_usage_day_bucket"
        ),
    )

    day: so.Mapped[date] = so.mapped_column(sa.Date)
    partner_organization_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    # Upper bounds (ms) of the buckets: fine around the partner API's target (< 500 ms). The
    # last bucket, SLOWER_BUCKET_MS, holds everything slower than the largest bound.
    BUCKETS_MS = (25, 50, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 2000, 5000)
    SLOWER_BUCKET_MS = 2_147_483_647

    bucket_ms: so.Mapped[int] = so.mapped_column()
    request_count: so.Mapped[int] = so.mapped_column(default=0)
    # Answers of 400 and above (refused key, validation, rate limit, server error).
    error_count: so.Mapped[int] = so.mapped_column(default=0)
    total_duration_ms: so.Mapped[float] = so.mapped_column(default=0.0)


class PartnerIdempotencyKey(Entity, db.Model):
    """A partner's ``Idempotency-Key`` on order intake and the first answer to it.

    Unique per partner and key, so of two requests with one key the second
    waits for the first's transaction and then replays its answer
    (:mod:`app.orders.partners.idempotency`). Kept 24 hours.
    """

    __tablename__ = "partner_idempotency_keys"
    __table_args__ = (
        sa.UniqueConstraint(
            "partner_organization_id", "key", name="uq_partner_idempotency_keys_partner_key"
        ),
    )

    partner_organization_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE")
    )
    key: so.Mapped[str] = so.mapped_column(sa.String(255))
    # SHA-256 of the request body's canonical JSON: the same key with another body is refused.
    request_fingerprint: so.Mapped[str] = so.mapped_column(sa.String(64))
    # The first answer, replayed byte for byte. None only inside the first request's
    # own transaction, which writes the answer before it commits.
    response_status: so.Mapped[Optional[int]] = so.mapped_column()
    response_body: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
