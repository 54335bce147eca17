"""Pieces every analytics figure shares: what rows are grouped by, and the range and team scope.

The team filter narrows threads and messages by the thread's assigned team,
people by their team, and tasks by their team (else their assignee's team);
the helpers here cover threads and messages, the people and task figures
apply their own team condition.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.analytics.definitions import NO_CHANNEL, NO_TEAM
from app.analytics.filters import AnalyticsFilter
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationThread,
    Team,
)

Thread, Message, Channel = CommunicationThread, CommunicationMessage, CommunicationChannel


@dataclass(frozen=True)
class Dimension:
    """What rows are grouped by (a channel or team id on the thread) and how it is named."""

    label: str
    key: sa.ColumnElement
    model: type
    name_column: sa.ColumnElement
    empty: str
    # The same grouping in the daily roll-ups (app/analytics/rollups.py).
    daily_key: str


BY_CHANNEL = Dimension(
    _l("Channel"), Thread.channel_id, Channel, Channel.channel_name, NO_CHANNEL, "channel_id"
)
BY_TEAM = Dimension(
    _l("Team"), Thread.assigned_team_id, Team, Team.name, NO_TEAM, "team_id"
)


def named(grouped: sa.Select, model: type, name_column) -> sa.Select:
    """Name the groups of ``grouped`` (keyed by an id labelled ``key``), still one statement.

    Grouping by the bare id first and joining the name afterwards means the
    join runs once per group instead of once per thread or message.
    """
    inner = grouped.subquery()
    values = [column for column in inner.c if column.key != "key"]
    return (
        sa.select(name_column, *values)
        .select_from(inner)
        .outerjoin(model, model.id == inner.c.key)
        .order_by(name_column)
    )


def between(column, f: AnalyticsFilter) -> sa.ColumnElement[bool]:
    """``column`` falls inside the filter's range (start inclusive, end exclusive)."""
    return sa.and_(column >= f.start, column < f.end)


def thread_team(f: AnalyticsFilter) -> list[sa.ColumnElement[bool]]:
    """The conditions that keep only the chosen team's threads (none without a team)."""
    return [] if f.team_id is None else [Thread.assigned_team_id == f.team_id]


def scoped_messages(query: sa.Select, f: AnalyticsFilter) -> sa.Select:
    """Messages of the chosen team's threads (all messages without a team)."""
    if f.team_id is None:
        return query
    return query.join(Thread, Thread.id == Message.thread_id).where(
        Thread.assigned_team_id == f.team_id
    )


def count_if(condition) -> sa.ColumnElement[int]:
    """How many rows of the group meet ``condition``."""
    # COUNT(*) FILTER (WHERE …): cheaper per row than SUM(CASE …) on PostgreSQL.
    return sa.func.count().filter(condition)


def group_name(value: str | None, empty: str) -> str:
    """A group's name, or ``empty`` for the rows without a channel or team."""
    return value if value is not None else empty
