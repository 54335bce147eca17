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
