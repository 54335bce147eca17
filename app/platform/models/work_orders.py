"""Property work orders (ROVIDA, Yardi) and the orders they became."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity
from app.platform.extensions import db


class WorkOrderLink(Entity, db.Model):
    """One remote work order and our order for it.

    ``(integration_id, remote_id)`` is unique: a second sync or a redelivered
    notice of the same work order finds this row instead of making a second
    order. ``closed_at`` says we closed the work order at the provider, so a
    retried close job never closes it twice.
    """

    __tablename__ = "work_order_links"
    __table_args__ = (sa.UniqueConstraint("integration_id", "remote_id"),)

    integration_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("integrations.id", ondelete="CASCADE")
    )
    remote_id: so.Mapped[str] = so.mapped_column(sa.String(255))
    order_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE"), unique=True
    )
    # The provider's status word when we last read it ("open", "Work Completed", …).
    remote_status: so.Mapped[Optional[str]] = so.mapped_column(sa.String(40))
    closed_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    close_attempts: so.Mapped[int] = so.mapped_column(default=0)
    last_error: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)

    photos: so.Mapped[list["WorkOrderPhoto"]] = so.relationship(
        back_populates="work_order", cascade="all, delete-orphan"
    )


class WorkOrderPhoto(Entity, db.Model):
    """A technician's photo uploaded to the work order: written right after the upload
    answered, so a retried job skips it."""

    __tablename__ = "work_order_photos"
    __table_args__ = (sa.UniqueConstraint("work_order_id", "photo_path"),)

    work_order_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("work_order_links.id", ondelete="CASCADE")
    )
    # The attachment entry's ``path`` (``<message id>/<file name>``, app.conversations.attachments).
    photo_path: so.Mapped[str] = so.mapped_column(sa.String(400))
    # The provider's id for the attachment, when its answer names one (Yardi's does not).
    remote_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))

    work_order: so.Mapped[WorkOrderLink] = so.relationship(back_populates="photos")
