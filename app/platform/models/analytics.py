"""Daily roll-ups of the analytics figures, so a year reads days, not messages.

Each ``*_daily`` row sums one Amsterdam day of one group (channel x team, or
sender); ``analytics_days`` says which days have roll-ups and until when they
hold, and ``analytics_dirty_days`` which days changed since. Only
:mod:`app.analytics.rollups` writes these tables; the figures stay defined by
the direct queries of :mod:`app.analytics`, which the roll-ups are summed from.

The group columns carry no foreign keys: a roll-up is a copy of counts, and
deleting a channel or team must not fail on it (the next recompute of the
day regroups those rows as the source now has them).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity
from app.platform.extensions import db


class AnalyticsDay(Entity, db.Model):
    """A day whose roll-ups are computed: as of when, and until when they hold.

    ``valid_until`` is the earliest response deadline still ahead at ``as_of``
    among that day's conversations: once it passes, a conversation may count
    as missed that counted as waiting, so the day is read directly (and
    recomputed by the periodic job) from then on.
    """

    __tablename__ = "analytics_days"
    __table_args__ = (sa.UniqueConstraint("day"),)

    day: so.Mapped[date] = so.mapped_column(sa.Date)
    as_of: so.Mapped[datetime] = so.mapped_column()
    valid_until: so.Mapped[Optional[datetime]] = so.mapped_column()


class AnalyticsDirtyDay(Entity, db.Model):
    """A day changed after its roll-ups were computed (a late answer, a reassignment …)."""

    __tablename__ = "analytics_dirty_days"
    __table_args__ = (sa.UniqueConstraint("day"),)

    day: so.Mapped[date] = so.mapped_column(sa.Date)
    # Bumped on every mark: a recompute clears the mark only if nothing marked it since.
    marked_at: so.Mapped[datetime] = so.mapped_column()


class AnalyticsThreadDaily(Entity, db.Model):
    """Customer conversations of a day per channel and team (the thread's assigned team).

    The counts up to ``sla_running`` are of conversations *created* that day;
    ``resolved``/``resolution_seconds`` of those *resolved* that day.
    """

    __tablename__ = "analytics_thread_daily"
    __table_args__ = (
        sa.UniqueConstraint(
            "day", "channel_id", "team_id", postgresql_nulls_not_distinct=True
        ),
    )

    day: so.Mapped[date] = so.mapped_column(sa.Date)
    channel_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column()
    team_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column()
    threads: so.Mapped[int] = so.mapped_column(default=0)
    escalated: so.Mapped[int] = so.mapped_column(default=0)
    first_responses: so.Mapped[int] = so.mapped_column(default=0)
    first_response_seconds: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    sla_threads: so.Mapped[int] = so.mapped_column(default=0)
    sla_met: so.Mapped[int] = so.mapped_column(default=0)
    sla_missed: so.Mapped[int] = so.mapped_column(default=0)
    sla_running: so.Mapped[int] = so.mapped_column(default=0)
    resolved: so.Mapped[int] = so.mapped_column(default=0)
    resolution_seconds: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)


class AnalyticsMessageDaily(Entity, db.Model):
    """Messages of a day (system lines left out) per channel and thread's team."""

    __tablename__ = "analytics_message_daily"
    __table_args__ = (
        sa.UniqueConstraint(
            "day", "channel_id", "team_id", postgresql_nulls_not_distinct=True
        ),
    )

    day: so.Mapped[date] = so.mapped_column(sa.Date)
    channel_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column()
    team_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column()
    messages: so.Mapped[int] = so.mapped_column(default=0)
    outbound: so.Mapped[int] = so.mapped_column(default=0)
    templated: so.Mapped[int] = so.mapped_column(default=0)


class AnalyticsSenderDaily(Entity, db.Model):
    """Outgoing messages a person sent on a day (the workload figure's "sent")."""

    __tablename__ = "analytics_sender_daily"
    __table_args__ = (sa.UniqueConstraint("day", "user_id"),)

    day: so.Mapped[date] = so.mapped_column(sa.Date)
    user_id: so.Mapped[uuid.UUID] = so.mapped_column()
    sent: so.Mapped[int] = so.mapped_column(default=0)


class AnalyticsTaskDaily(Entity, db.Model):
    """Tasks completed on a day per assigned team and assignee (the tasks figure).

    Kept per assignee, not per the assignee's team: the figure falls back to the
    assignee's *current* team for tasks without one, and a person moving teams
    writes no task, so that team is looked up when the page reads the rows.
    """

    __tablename__ = "analytics_task_daily"
    __table_args__ = (
        sa.UniqueConstraint("day", "team_id", "user_id", postgresql_nulls_not_distinct=True),
    )

    day: so.Mapped[date] = so.mapped_column(sa.Date)
    team_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column()
    user_id: so.Mapped[Optional[uuid.UUID]] = so.mapped_column()
    completed: so.Mapped[int] = so.mapped_column(default=0)
    with_due: so.Mapped[int] = so.mapped_column(default=0)
    on_time: so.Mapped[int] = so.mapped_column(default=0)
