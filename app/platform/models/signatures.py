"""The customer's signature for a completed visit, drawn on the technician's phone."""

from __future__ import annotations

import uuid
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity
from app.platform.extensions import db
from app.platform.models.communication import CommunicationMessage


class VisitSignature(Entity, db.Model):
    """Who signed for the visit, and the note on the order's thread holding the image.

    One per visit (the unique key on the order and its visit's number: an order
    with a second day is signed for on each): the first signature is the
    customer's word and is kept; a second upload, whether a retry, a replay from
    the phone's offline queue or a second tap, finds this row and stores nothing.
    ``created_at`` is when it was signed.
    """

    __tablename__ = "visit_signatures"
    __table_args__ = (sa.UniqueConstraint("order_id", "visit_number"),)

    order_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("orders.id", ondelete="CASCADE")
    )
    visit_number: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    # The internal note with the PNG as its attachment (app.orders.mobile.signatures).
    message_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("communication_message.id", ondelete="CASCADE"), index=True
    )
    technician_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    signer_name: so.Mapped[str] = so.mapped_column(sa.String(120))

    message: so.Mapped[CommunicationMessage] = so.relationship()
