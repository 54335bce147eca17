"""Business time and service levels: opening hours, SLA targets, ladder alerts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity
from app.platform.extensions import db


class BusinessCalendar(Entity, db.Model):
    """When the desk is open, in which time zone, and which days it is closed.

    ``weekly_hours`` maps ``mon``…``sun`` to lists of ``["08:00", "17:00"]``
    periods; public holidays come from the ``holidays`` package for
    ``holiday_country``, plus ``closed_dates`` (ISO dates) of our own.
    """

    __tablename__ = "business_calendars"

    name: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64), default="Europe/Amsterdam")
    weekly_hours: so.Mapped[dict[str, Any]] = so.mapped_column(default=dict)
    holiday_country: so.Mapped[Optional[str]] = so.mapped_column(sa.String(2), default="NL")
    closed_dates: so.Mapped[list[Any]] = so.mapped_column(default=list)
    is_default: so.Mapped[bool] = so.mapped_column(default=False)


class SlaPolicy(Entity, db.Model):
    """How long a first answer may take, in business minutes.

    The most specific active policy wins: channel type and priority, then
    channel type alone, then priority alone. ``escalated`` policies apply to
    threads in status escalated (30 minutes by default).
    """

    __tablename__ = "sla_policies"
    __table_args__ = (sa.UniqueConstraint("channel_type", "priority", "escalated"),)

    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    channel_type: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    priority: so.Mapped[Optional[str]] = so.mapped_column(sa.String(16))
    escalated: so.Mapped[bool] = so.mapped_column(default=False)
    response_minutes: so.Mapped[int] = so.mapped_column()
    resolution_minutes: so.Mapped[Optional[int]] = so.mapped_column()
    is_active: so.Mapped[bool] = so.mapped_column(default=True)


class SlaAlert(Entity, db.Model):
    """One ladder step fired for one thread in one SLA cycle.

    The unique key is what makes a step fire exactly once however many
    workers scan at the same moment: the insert that wins sends the alert.
    """

    __tablename__ = "sla_alerts"
    __table_args__ = (
        sa.UniqueConstraint("thread_id", "sla_cycle", "step"),
        sa.Index("ix_sla_alerts_created", "created_at"),
    )

    thread_id: so.Mapped[uuid.UUID] = so.mapped_column(
        sa.ForeignKey("communication_thread.id", ondelete="CASCADE")
    )
    sla_cycle: so.Mapped[int] = so.mapped_column()
    # 1 = 75 % reminder, 2 = 90 % team lead, 3 = 100 % escalation, 4 = 24 h overdue.
    step: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    due_at: so.Mapped[Optional[datetime]] = so.mapped_column()
    recipients: so.Mapped[list[Any]] = so.mapped_column(default=list)
    # Set when the alert went out in a digest rather than on its own.
    digest_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
