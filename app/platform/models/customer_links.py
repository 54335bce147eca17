"""The customer's personal link to their order's page (``/t/<token>``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.crypto import EncryptedText
from app.platform.database import Entity
from app.platform.extensions import db


class CustomerLink(Entity, db.Model):
    """One personal link of an order's end customer, owned by
    :mod:`app.orders.core.customer_links`.

    The page finds a link by ``token_hash`` (SHA-256 of the token), never by the
    token. The token itself is kept encrypted so every message about the order
    carries the same link (and the desk can copy it): a database copy without
    ``ENCRYPTION_KEYS`` opens no page. At most one link per order is live (the
    partial unique index); revoking one keeps its row, so a revoked token stays
    unknown to the page. A person's erasure deletes their orders' links.
    """

    __tablename__ = "customer_links"
    __table_args__ = (
        sa.Index(
            "uq_customer_links_order_live",
            "order_id",
            unique=True,
            postgresql_where=sa.text("revoked_at IS NULL"),
            sqlite_where=sa.text("revoked_at IS NULL"),
        ),
    )

    order_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    token: so.Mapped[str] = so.mapped_column(EncryptedText)
    revoked_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    revoked_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )


# A customer photo's review: awaiting a look, approved, or asked for again.
PHOTO_RECEIVED, PHOTO_APPROVED, PHOTO_ASKED_AGAIN = "received", "approved", "asked_again"
PHOTO_STATUSES = (PHOTO_RECEIVED, PHOTO_APPROVED, PHOTO_ASKED_AGAIN)


class CustomerPhoto(Entity, db.Model):
    """A photo the customer sent from their page before the visit, owned by
    :mod:`app.orders.customer_page.photos` (upload) and
    :mod:`app.orders.core.customer_photos` (review).

    ``kind`` is the checklist item it answers (``meter_cupboard``, …). One photo
    per (order, kind) is current (the partial unique index); a new upload
    supersedes the one before, which keeps its row and file, so the desk can
    still see what was asked again and why. The file lies in ``ATTACHMENTS_DIR``
    at ``path``, re-encoded without its metadata (no location).

    Asking again is told to the customer once: the send job takes the row under
    a lock and sets ``ask_sent_at`` (or ``ask_problem``) in the transaction that
    writes the message.
    """

    __tablename__ = "customer_photos"
    __table_args__ = (
        sa.Index(
            "uq_customer_photos_current",
            "order_id",
            "kind",
            unique=True,
            postgresql_where=sa.text("superseded_at IS NULL"),
            sqlite_where=sa.text("superseded_at IS NULL"),
        ),
        sa.CheckConstraint(
            "status IN ('received', 'approved', 'asked_again')", name="status_known"
        ),
    )

    order_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    kind: so.Mapped[str] = so.mapped_column(sa.String(32))
    path: so.Mapped[str] = so.mapped_column(sa.Text)
    # A small JPEG beside it, for the order page and the phone's card.
    thumbnail_path: so.Mapped[str] = so.mapped_column(sa.Text)
    content_type: so.Mapped[str] = so.mapped_column(sa.String(32))
    size: so.Mapped[int] = so.mapped_column()
    width: so.Mapped[int] = so.mapped_column()
    height: so.Mapped[int] = so.mapped_column()
    uploaded_at: so.Mapped[datetime] = so.mapped_column()
    superseded_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default=PHOTO_RECEIVED)
    reviewed_by_user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    reviewed_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    # Why the photo is asked again, in the planner's words: the customer reads it.
    ask_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    ask_sent_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    ask_message_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("communication_message.id", ondelete="SET NULL")
    )
    # Why the customer was not told of the ask (no channel reaches them).
    ask_problem: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
