"""What an erasure leaves behind so it stays done: a tombstone per identifier."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity
from app.platform.extensions import db


class ErasureTombstone(Entity, db.Model):
    """An erased person's identifier, as a keyed hash (:mod:`app.conversations.gdpr.tombstones`).

    ``kind`` is ``email``, ``phone`` or ``remote`` (a CRM record:
    integration, object type and remote id). No row says who the person was.
    """

    __tablename__ = "erasure_tombstones"
    __table_args__ = (sa.UniqueConstraint("kind", "digest", name="uq_erasure_tombstones_kind"),)

    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    digest: so.Mapped[str] = so.mapped_column(sa.String(64))
