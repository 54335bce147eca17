"""What the technician's phone leaves on the server: replayed actions and push subscriptions.

A phone that lost its signal keeps its form posts and sends them again later,
each with an id it made up (``client_action_id``); :class:`MobileAction`
remembers which of them were done, so a post sent twice is done once.
:class:`PushSubscription` is where the browser's push service accepts Web Push
messages for one technician's phone; :class:`PushDelivery` makes each push go once.
"""

from __future__ import annotations

import uuid
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity
from app.platform.extensions import db


class MobileAction(Entity, db.Model):
    """One form post from the phone, done once; its answer is kept for a replay."""

    __tablename__ = "mobile_actions"
    __table_args__ = (sa.UniqueConstraint("user_id", "client_action_id"),)

    user_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE")
    )
    client_action_id: so.Mapped[uuid.UUID] = so.mapped_column()
    # None while the first request is still being answered.
    status_code: so.Mapped[Optional[int]] = so.mapped_column()
    body: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    location: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))


class PushSubscription(Entity, db.Model):
    """A browser's Web Push subscription (its endpoint and the keys to encrypt for it)."""

    __tablename__ = "push_subscriptions"

    user_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    endpoint: so.Mapped[str] = so.mapped_column(sa.Text, unique=True)
    p256dh: so.Mapped[str] = so.mapped_column(sa.String(200))
    auth: so.Mapped[str] = so.mapped_column(sa.String(100))


class PushDelivery(Entity, db.Model):
    """One push about one event to one subscription, claimed before it is sent.

    The unique key makes a job that runs twice (two workers, a retry) push
    once; a worker that dies between the claim and the send loses that push
    rather than doubling it, which suits a notice the technician also sees on ``/m/``.
    """

    __tablename__ = "push_deliveries"
    __table_args__ = (sa.UniqueConstraint("subscription_id", "event_key"),)

    subscription_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("push_subscriptions.id", ondelete="CASCADE")
    )
    event_key: so.Mapped[str] = so.mapped_column(sa.String(120))
    # The push service's answer (201 taken, 404/410 gone, …); None before sending.
    status_code: so.Mapped[Optional[int]] = so.mapped_column()
