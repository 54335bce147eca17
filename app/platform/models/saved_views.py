"""Inbox filters and search an agent keeps under a name (the inbox sidebar)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity
from app.platform.extensions import db

if TYPE_CHECKING:
    from app.platform.models.identity import Team, User

NAME_MAX_LENGTH = 60


class SavedView(Entity, db.Model):
    """A named inbox query: private to its owner, or shared.

    ``query`` holds inbox URL arguments only (``filter``, ``status``, ``q`` …,
    validated by ``app.conversations.inbox.saved_views``), never SQL. Shared with ``team_id``
    set: that team's members see it; shared without a team: everyone on the
    desk (only managers and admins share so widely).
    """

    __tablename__ = "saved_views"
    __table_args__ = (sa.UniqueConstraint("owner_id", "name"),)

    owner_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    team_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("teams.id", ondelete="CASCADE"), index=True
    )
    shared: so.Mapped[bool] = so.mapped_column(default=False)
    name: so.Mapped[str] = so.mapped_column(sa.String(NAME_MAX_LENGTH))
    query: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    position: so.Mapped[int] = so.mapped_column(default=0)

    owner: so.Mapped["User"] = so.relationship()
    team: so.Mapped[Optional["Team"]] = so.relationship()
