"""The figures of ``/analytics``: each is ONE aggregate query, grouped in SQL.

Nothing here loops over threads or messages in Python: every function sends a
single ``GROUP BY`` statement and reshapes its handful of grouped rows (one per
channel, team, agent or day) into a :class:`~app.analytics.tables.Table`. The
volume and template figures share one statement (:func:`message_activity`), so
a page reads the message table twice (that one, and workload), not three times.
Totals are sums of those grouped rows, so averages stay exact (sum / count).

Which rows a figure counts, for a range of local days and an optional team:

- first response: threads *created* in the range that have been answered; the
  time is ``first_response_seconds`` (business seconds, filled by the SLA
  engine) where set, else the wall-clock time from creation to first answer;
- SLA compliance: threads created in the range with a ``response_due_at``;
  met = first answer at or before it, missed = answered later or still
  unanswered past it; threads still inside their deadline are not counted yet;
- resolution: threads *resolved* in the range (``resolution_seconds`` where set,
  else wall-clock creation to ``resolved_at``);
- volume: messages created in the range, by local day (system lines excluded);
- escalation: threads created in the range that are escalated now or had a
  ladder step 3 (100 %) or higher fire;
- workload: open threads assigned to each person now, and the messages they
  sent in the range;
- tasks: tasks completed in the range; on time = completed no later than the
  due date (and due time, when one is set), in Amsterdam time;
- templates: outbound messages (outgoing and auto-responses) sent in the range,
  and how many of them came from a message template.

The team filter narrows threads and messages by the thread's assigned team,
people by their team, and tasks by their team (else their assignee's team).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.analytics.filters import AnalyticsFilter
from app.analytics.sql import local_clock, local_date, prepare_connection, seconds_between
from app.analytics.tables import COUNT, DAY, DURATION, PERCENT, Column, Table, average, ratio
from app.extensions import db
from app.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationThread,
    InternalTask,
    SlaAlert,
    Team,
    User,
)
from app.models.enums import MessageType, Role, TaskStatus, ThreadStatus

Thread, Message, Channel = CommunicationThread, CommunicationMessage, CommunicationChannel
CLOSED = (ThreadStatus.RESOLVED, ThreadStatus.CLOSED)
OUTBOUND = (MessageType.OUTGOING, MessageType.AUTO_RESPONSE)
# The ladder step at which a thread counts as escalated (3 = SLA deadline passed).
ESCALATION_STEP = 3
SLA_TARGET = 95.0
TEMPLATE_TARGET = 60.0  # seed 003: more than 60 % of messages from templates
TASK_TARGET = 95.0


@dataclass(frozen=True)
class Dimension:
    """What rows are grouped by (a channel or team id on the thread) and how it is named."""

    label: str
    key: sa.ColumnElement
    model: type
    name_column: sa.ColumnElement
    empty: str


BY_CHANNEL = Dimension("Channel", Thread.channel_id, Channel, Channel.channel_name, "No channel")
BY_TEAM = Dimension("Team", Thread.assigned_team_id, Team, Team.name, "No team")


def _named(grouped: sa.Select, model: type, name_column) -> sa.Select:
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


def _between(column, f: AnalyticsFilter) -> sa.ColumnElement[bool]:
    return sa.and_(column >= f.start, column < f.end)


def _thread_team(f: AnalyticsFilter) -> list[sa.ColumnElement[bool]]:
    return [] if f.team_id is None else [Thread.assigned_team_id == f.team_id]


def _scoped_messages(query: sa.Select, f: AnalyticsFilter) -> sa.Select:
    """Messages of the chosen team's threads (all messages without a team)."""
    if f.team_id is None:
        return query
    return query.join(Thread, Thread.id == Message.thread_id).where(
        Thread.assigned_team_id == f.team_id
    )


def _count_if(condition) -> sa.ColumnElement[int]:
    # COUNT(*) FILTER (WHERE …): cheaper per row than SUM(CASE …) on PostgreSQL.
    return sa.func.count().filter(condition)


def _name(value: str | None, empty: str) -> str:
    return value if value is not None else empty


# --- response and resolution times -------------------------------------------

FIRST_RESPONSE_SECONDS = sa.func.coalesce(
    Thread.first_response_seconds, seconds_between(Thread.first_response_at, Thread.created_at)
)
RESOLUTION_SECONDS = sa.func.coalesce(
    Thread.resolution_seconds, seconds_between(Thread.resolved_at, Thread.created_at)
)
DURATION_NOTE = (
    "Business time (opening hours only) where the SLA engine measured it; wall-clock "
    "time for older threads. The last two columns say how many of each."
)


def _duration_table(
    key: str, title: str, dim: Dimension, seconds, where: list, count_label: str, business
) -> Table:
    grouped = (
        sa.select(
            dim.key.label("key"),
            sa.func.count().label("n"),
            sa.func.sum(seconds).label("seconds"),
            sa.func.count(business).label("business"),
        )
        .where(*where)
        .group_by(dim.key)
    )
    query = _named(grouped, dim.model, dim.name_column)
    rows = []
    for name, n, seconds_sum, measured in db.session.execute(query):
        rows.append(_duration_row(_name(name, dim.empty), n, seconds_sum, measured))
    total = _duration_row(
        "All",
        sum(r["n"] for r in rows),
        sum(r["seconds"] for r in rows),
        sum(r["business"] for r in rows),
    )
    columns = (
        Column("label", dim.label),
        Column("n", count_label, COUNT),
        Column("average", "Average", DURATION),
        Column("business", "In business time", COUNT),
        Column("wall_clock", "In wall-clock time", COUNT),
    )
    return Table(key, title, columns, rows, total if rows else None, DURATION_NOTE)


def _duration_row(label: str, n: int, seconds_sum, measured: int) -> dict:
    seconds_sum = float(seconds_sum or 0)
    return {
        "label": label,
        "n": int(n),
        "seconds": seconds_sum,
        "average": average(seconds_sum, n),
        "business": int(measured or 0),
        "wall_clock": int(n) - int(measured or 0),
    }


def _first_response(key: str, title: str, dim: Dimension, f: AnalyticsFilter) -> Table:
    where = [
        Thread.first_response_at.is_not(None),
        _between(Thread.created_at, f),
        *_thread_team(f),
    ]
    return _duration_table(
        key, title, dim, FIRST_RESPONSE_SECONDS, where, "Answered", Thread.first_response_seconds
    )


def first_response_by_channel(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    return _first_response(
        "first_response_channel", "Average first response by channel", BY_CHANNEL, f
    )


def first_response_by_team(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    return _first_response("first_response_team", "Average first response by team", BY_TEAM, f)


def resolution_by_channel(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    where = [
        Thread.resolved_at.is_not(None),
        _between(Thread.resolved_at, f),
        *_thread_team(f),
    ]
    return _duration_table(
        "resolution",
        "Average resolution time by channel",
        BY_CHANNEL,
        RESOLUTION_SECONDS,
        where,
        "Resolved",
        Thread.resolution_seconds,
    )


# --- SLA compliance ------------------------------------------------------------


def sla_compliance(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    answered_in_time = sa.and_(
        Thread.first_response_at.is_not(None), Thread.first_response_at <= Thread.response_due_at
    )
    missed = sa.or_(
        Thread.first_response_at > Thread.response_due_at,
        sa.and_(Thread.first_response_at.is_(None), Thread.response_due_at < now),
    )
    grouped = (
        sa.select(
            Thread.channel_id.label("key"),
            _count_if(answered_in_time).label("met"),
            _count_if(missed).label("missed"),
            sa.func.count().label("n"),
        )
        .where(
            Thread.response_due_at.is_not(None), _between(Thread.created_at, f), *_thread_team(f)
        )
        .group_by(Thread.channel_id)
    )
    query = _named(grouped, Channel, Channel.channel_name)
    rows = [
        _compliance_row(_name(name, BY_CHANNEL.empty), met, miss, n)
        for name, met, miss, n in db.session.execute(query)
    ]
    total = _compliance_row(
        "All",
        sum(r["met"] for r in rows),
        sum(r["missed"] for r in rows),
        sum(r["met"] + r["missed"] + r["running"] for r in rows),
    )
    columns = (
        Column("label", "Channel"),
        Column("met", "Met", COUNT),
        Column("missed", "Missed", COUNT),
        Column("running", "Still within deadline", COUNT),
        Column("compliance", "Compliance", PERCENT),
    )
    note = (
        f"Share of threads answered before their response deadline; target {SLA_TARGET:.0f} %. "
        "Unanswered threads count as missed once their deadline has passed."
    )
    table = Table("sla", "SLA compliance", columns, rows, total if rows else None, note)
    table.extra["target"] = SLA_TARGET
    return table


def _compliance_row(label: str, met, missed, n) -> dict:
    met, missed, n = int(met or 0), int(missed or 0), int(n or 0)
    return {
        "label": label,
        "met": met,
        "missed": missed,
        "running": n - met - missed,
        "compliance": ratio(met, met + missed),
    }


# --- message volume per channel per day ----------------------------------------


def message_activity(f: AnalyticsFilter, memo: dict) -> list[tuple]:
    """Messages per (local day, channel): all, outbound, outbound from a template.

    The volume and template figures both read this one statement, so the page
    scans the message table for them once; ``memo`` holds it for the page.
    """
    if "activity" in memo:
        return memo["activity"]
    day = local_date(Message.created_at)
    outbound = Message.message_type.in_(OUTBOUND)
    grouped = sa.select(
        day.label("day"),
        Message.channel_id.label("key"),
        sa.func.count().label("n"),
        _count_if(outbound).label("outbound"),
        _count_if(sa.and_(outbound, Message.template_id.is_not(None))).label("templated"),
    ).where(
        _between(Message.created_at, f),
        Message.message_type != MessageType.SYSTEM_NOTIFICATION,
    )
    grouped = _scoped_messages(grouped, f).group_by(day, Message.channel_id).subquery()
    query = (
        sa.select(
            grouped.c.day,
            Channel.channel_name,
            grouped.c.n,
            grouped.c.outbound,
            grouped.c.templated,
        )
        .select_from(grouped)
        .outerjoin(Channel, Channel.id == grouped.c.key)
    )
    memo["activity"] = [
        (when, _name(name, BY_CHANNEL.empty), int(n), int(out or 0), int(templated or 0))
        for when, name, n, out, templated in db.session.execute(query)
    ]
    return memo["activity"]


def message_volume(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    counts: dict = {}
    for when, name, n, _outbound, _templated in message_activity(f, memo):
        bucket = counts.setdefault(name, {})
        bucket[when] = bucket.get(when, 0) + n
    channels = sorted(counts)
    keys = {name: f"ch{index}" for index, name in enumerate(channels)}
    rows = []
    for offset in range(f.days):
        when = f.first_day + timedelta(days=offset)
        row = {"day": when}
        row.update({keys[name]: counts[name].get(when, 0) for name in channels})
        row["total"] = sum(row[keys[name]] for name in channels)
        rows.append(row)
    total = {"day": "All days", **{keys[n]: sum(counts[n].values()) for n in channels}}
    total["total"] = sum(total[keys[n]] for n in channels)
    columns = (
        Column("day", "Day", DAY),
        *(Column(keys[name], name, COUNT) for name in channels),
        Column("total", "Total", COUNT),
    )
    note = "Messages in and out per channel per day (Amsterdam days), internal notes included."
    table = Table("volume", "Message volume per channel per day", columns, rows, total, note)
    table.extra["series"] = [(keys[name], name) for name in channels]
    return table


# --- escalation rate and workload ------------------------------------------------


def escalation_rate(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    # IN over the (small) alert table: PostgreSQL hashes it once instead of probing per thread.
    ladder_escalated = Thread.id.in_(
        sa.select(SlaAlert.thread_id).where(SlaAlert.step >= ESCALATION_STEP)
    )
    escalated = sa.or_(Thread.status == ThreadStatus.ESCALATED, ladder_escalated)
    grouped = (
        sa.select(
            Thread.assigned_team_id.label("key"),
            sa.func.count().label("n"),
            _count_if(escalated).label("escalated"),
        )
        .where(_between(Thread.created_at, f), *_thread_team(f))
        .group_by(Thread.assigned_team_id)
    )
    query = _named(grouped, Team, Team.name)
    rows = [
        _escalation_row(_name(name, BY_TEAM.empty), n, esc)
        for name, n, esc in db.session.execute(query)
    ]
    total = _escalation_row("All", sum(r["n"] for r in rows), sum(r["escalated"] for r in rows))
    columns = (
        Column("label", "Team"),
        Column("n", "Threads", COUNT),
        Column("escalated", "Escalated", COUNT),
        Column("rate", "Escalation rate", PERCENT),
    )
    note = (
        "Threads created in the range that are escalated now or whose SLA deadline passed "
        "(escalation ladder step 3 or 4)."
    )
    return Table(
        "escalation", "Escalation rate by team", columns, rows, total if rows else None, note
    )


def _escalation_row(label: str, n, escalated) -> dict:
    n, escalated = int(n or 0), int(escalated or 0)
    return {"label": label, "n": n, "escalated": escalated, "rate": ratio(escalated, n)}


def workload(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    open_threads = (
        sa.select(Thread.assigned_to_user_id.label("user_id"), sa.func.count().label("n"))
        .where(Thread.assigned_to_user_id.is_not(None), Thread.status.not_in(CLOSED))
        .group_by(Thread.assigned_to_user_id)
        .subquery()
    )
    sent = (
        sa.select(Message.sender_user_id.label("user_id"), sa.func.count().label("n"))
        .where(
            Message.sender_user_id.is_not(None),
            Message.message_type == MessageType.OUTGOING,
            _between(Message.created_at, f),
        )
        .group_by(Message.sender_user_id)
        .subquery()
    )
    open_count = sa.func.coalesce(open_threads.c.n, 0)
    sent_count = sa.func.coalesce(sent.c.n, 0)
    desk = sa.and_(User.role.in_((Role.AGENT, Role.TEAM_LEAD)), User.is_active_account.is_(True))
    query = (
        sa.select(User.name, Team.name, open_count.label("open"), sent_count.label("sent"))
        .select_from(User)
        .outerjoin(Team, Team.id == User.team_id)
        .outerjoin(open_threads, open_threads.c.user_id == User.id)
        .outerjoin(sent, sent.c.user_id == User.id)
        .where(sa.or_(desk, open_threads.c.n.is_not(None), sent.c.n.is_not(None)))
        .order_by(open_count.desc(), sent_count.desc(), User.name)
    )
    if f.team_id is not None:
        query = query.where(User.team_id == f.team_id)
    rows = [
        {"label": name, "team": team or BY_TEAM.empty, "open": int(o), "sent": int(s)}
        for name, team, o, s in db.session.execute(query)
    ]
    total = {
        "label": "All",
        "team": "",
        "open": sum(r["open"] for r in rows),
        "sent": sum(r["sent"] for r in rows),
    }
    columns = (
        Column("label", "Agent"),
        Column("team", "Team"),
        Column("open", "Open assigned threads (now)", COUNT),
        Column("sent", "Messages sent in range", COUNT),
    )
    note = "Agents and team leads, plus anyone else holding open threads or sending in the range."
    return Table("workload", "Workload per agent", columns, rows, total if rows else None, note)


# --- tasks and templates -----------------------------------------------------------


def tasks_on_time(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    assignee = so.aliased(User)
    team_id = sa.func.coalesce(InternalTask.assigned_team_id, assignee.team_id)
    completed_day = local_date(InternalTask.completed_at)
    on_time = sa.and_(
        InternalTask.due_date.is_not(None),
        sa.or_(
            completed_day < InternalTask.due_date,
            sa.and_(
                completed_day == InternalTask.due_date,
                sa.or_(
                    InternalTask.due_time.is_(None),
                    local_clock(InternalTask.completed_at) <= InternalTask.due_time,
                ),
            ),
        ),
    )
    query = (
        sa.select(
            Team.name,
            sa.func.count().label("n"),
            sa.func.count(InternalTask.due_date).label("with_due"),
            _count_if(on_time).label("on_time"),
        )
        .select_from(InternalTask)
        .outerjoin(assignee, assignee.id == InternalTask.assigned_to_user_id)
        .outerjoin(Team, Team.id == team_id)
        .where(
            InternalTask.status == TaskStatus.COMPLETED,
            InternalTask.completed_at.is_not(None),
            _between(InternalTask.completed_at, f),
        )
        .group_by(Team.id, Team.name)
        .order_by(Team.name)
    )
    if f.team_id is not None:
        query = query.where(team_id == f.team_id)
    rows = [
        _task_row(_name(name, BY_TEAM.empty), n, with_due, done)
        for name, n, with_due, done in db.session.execute(query)
    ]
    total = _task_row(
        "All",
        sum(r["n"] for r in rows),
        sum(r["with_due"] for r in rows),
        sum(r["on_time"] for r in rows),
    )
    columns = (
        Column("label", "Team"),
        Column("n", "Completed", COUNT),
        Column("with_due", "With a due date", COUNT),
        Column("on_time", "On time", COUNT),
        Column("share", "On time", PERCENT),
    )
    note = (
        "Tasks completed in the range; on time = completed no later than their due date and "
        f"time (Amsterdam). Tasks without a due date are not rated. Target {TASK_TARGET:.0f} %."
    )
    table = Table("tasks", "Tasks completed on time", columns, rows, total if rows else None, note)
    table.extra["target"] = TASK_TARGET
    return table


def _task_row(label: str, n, with_due, on_time) -> dict:
    n, with_due, on_time = int(n or 0), int(with_due or 0), int(on_time or 0)
    return {
        "label": label,
        "n": n,
        "with_due": with_due,
        "on_time": on_time,
        "share": ratio(on_time, with_due),
    }


def template_share(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    # Summed from the per-day activity rows (at most days x channels of them).
    per_channel: dict[str, list[int]] = {}
    for _when, name, _n, outbound, templated in message_activity(f, memo):
        sums = per_channel.setdefault(name, [0, 0])
        sums[0] += outbound
        sums[1] += templated
    rows = [
        _template_row(name, outbound, templated)
        for name, (outbound, templated) in sorted(per_channel.items())
        if outbound
    ]
    total = _template_row("All", sum(r["n"] for r in rows), sum(r["templated"] for r in rows))
    columns = (
        Column("label", "Channel"),
        Column("n", "Outbound messages", COUNT),
        Column("templated", "From a template", COUNT),
        Column("share", "Share", PERCENT),
    )
    note = (
        "Outgoing messages and auto-responses sent in the range that used a message "
        f"template; seed 003 aims above {TEMPLATE_TARGET:.0f} %."
    )
    table = Table(
        "templates", "Messages sent from templates", columns, rows, total if rows else None, note
    )
    table.extra["target"] = TEMPLATE_TARGET
    return table


def _template_row(label: str, n, templated) -> dict:
    n, templated = int(n or 0), int(templated or 0)
    return {"label": label, "n": n, "templated": templated, "share": ratio(templated, n)}


# --- the registry --------------------------------------------------------------------

# In page order; the keys are the ``figure`` values of the CSV export.
FIGURES: dict[str, Callable[[AnalyticsFilter, datetime, dict], Table]] = {
    "first_response_channel": first_response_by_channel,
    "first_response_team": first_response_by_team,
    "sla": sla_compliance,
    "resolution": resolution_by_channel,
    "volume": message_volume,
    "escalation": escalation_rate,
    "workload": workload,
    "tasks": tasks_on_time,
    "templates": template_share,
}


def compute(key: str, f: AnalyticsFilter, now: datetime) -> Table:
    """One figure by its key (raises KeyError for an unknown key)."""
    figure = FIGURES[key]
    prepare_connection()
    return figure(f, now, {})


def compute_all(f: AnalyticsFilter, now: datetime) -> list[Table]:
    prepare_connection()
    memo: dict = {}
    return [figure(f, now, memo) for figure in FIGURES.values()]
