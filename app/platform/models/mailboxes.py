"""Outlook mailboxes: every address Switchboard reads and answers mail for.

Each mailbox (info@, service@, a shared mailbox) has its own e-mail channel, so
its conversations, messages, signature and Graph secret (``clientState``, in the
channel's encrypted credentials) stay apart from another mailbox's, and its own
Graph subscriptions and delta links (here). New conversations from a mailbox
land in its team. The default mailbox is ``GRAPH_MAILBOX``.
"""

from __future__ import annotations

import uuid
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity
from app.platform.extensions import db
from app.platform.models.communication import CommunicationChannel


class OutlookMailbox(Entity, db.Model):
    __tablename__ = "outlook_mailbox"
    __table_args__ = (
        # At most one default mailbox: the one GRAPH_MAILBOX names.
        sa.Index(
            "uq_outlook_mailbox_default",
            "is_default",
            unique=True,
            postgresql_where=sa.text("is_default"),
            sqlite_where=sa.text("is_default"),
        ),
    )

    # Lower case; Graph addresses a mailbox as users/{address}.
    address: so.Mapped[str] = so.mapped_column(sa.String(320), unique=True)
    display_name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(120))
    channel_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("communication_channel.id", ondelete="CASCADE"), unique=True
    )
    team_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column(
        sa.ForeignKey("teams.id", ondelete="SET NULL")
    )
    is_default: so.Mapped[bool] = so.mapped_column(default=False)
    is_active: so.Mapped[bool] = so.mapped_column(default=True)
    # {"inbox": {id, resource, notification_url, expires_at}, "sent": {…}}
    subscriptions: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    # {"inbox": {mailbox, next_link | delta_link}, "sent": {…}}
    delta_state: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)

    channel: so.Mapped[CommunicationChannel] = so.relationship()
    team = so.relationship("Team")

    @property
    def address_is_placeholder(self) -> bool:
        """True for the default mailbox kept while ``GRAPH_MAILBOX`` is unset (sandbox)."""
        return self.address.endswith(".invalid")
