"""Activity figures: message volume, workload, tasks and template use.

Which rows each counts, for a range of local days and an optional team:

- volume: messages created in the range, by local day (system lines excluded);
- workload: open threads assigned to each person now, and the messages they
  sent in the range;
- tasks: tasks completed in the range; on time = completed no later than the
  due date (and due time, when one is set), in Amsterdam time;
- templates: outbound messages (outgoing and auto-responses) sent in the range,
  and how many of them came from a message template.

The volume and template figures share one statement (:func:`message_activity`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app.analytics.coverage import (
    Coverage,
    combined,
    coverage,
    in_days,
    on_days,
    single_day,
)
from app.analytics.definitions import (
    DEFINITIONS,
    completed_task,
    series_definition,
    task_on_time,
)
from app.analytics.filters import AnalyticsFilter
from app.analytics.grouping import (
    BY_CHANNEL,
    BY_TEAM,
    count_if,
    group_name,
    named,
    scoped_messages,
)
from app.analytics.sql import local_date
from app.analytics.tables import COUNT, DAY, PERCENT, Column, Table, ratio
from app.platform.extensions import db
from app.platform.models import (
    AnalyticsMessageDaily,
    AnalyticsSenderDaily,
    AnalyticsTaskDaily,
    CommunicationChannel,
    CommunicationMessage,
    CommunicationThread,
    InternalTask,
    Team,
    User,
)
from app.platform.models.enums import MessageType, Role, ThreadStatus

Thread, Message, Channel = CommunicationThread, CommunicationMessage, CommunicationChannel
MessageDaily, SenderDaily, TaskDaily = (
    AnalyticsMessageDaily,
    AnalyticsSenderDaily,
    AnalyticsTaskDaily,
)
CLOSED = (ThreadStatus.RESOLVED, ThreadStatus.CLOSED)
OUTBOUND = (MessageType.OUTGOING, MessageType.AUTO_RESPONSE)
TEMPLATE_TARGET = 60.0  # the desk's aim: more than 60 % of messages from templates
TASK_TARGET = 95.0


# --- message volume per channel per day ----------------------------------------


def message_activity(f: AnalyticsFilter, now: datetime, memo: dict) -> list[tuple]:
    """Messages per (local day, channel name, channel type): all, outbound, from a template.

    The volume and template figures both read this one statement, so the page
    scans the message table for them once; ``memo`` holds it for the page.
    """
    if "activity" in memo:
        return memo["activity"]
    cov = coverage(f, now, memo)
    parts = []
    if cov.direct:
        # One day (today, most often) is a constant: a busy day's 20,000 messages
        # need no time-zone conversion each, nor grouping by it.
        only = single_day(cov.direct)
        day = sa.literal(only, sa.Date) if only else local_date(Message.created_at)
        outbound = Message.message_type.in_(OUTBOUND)
        direct = sa.select(
            day.label("day"),
            Message.channel_id.label("key"),
            sa.func.count().label("n"),
            count_if(outbound).label("outbound"),
            count_if(sa.and_(outbound, Message.template_id.is_not(None))).label("templated"),
        ).where(
            in_days(Message.created_at, cov.direct),
            Message.message_type != MessageType.SYSTEM_NOTIFICATION,
        )
        grouping = (Message.channel_id,) if only else (day, Message.channel_id)
        parts.append(scoped_messages(direct, f).group_by(*grouping))
    if cov.rolled:
        rolled = sa.select(
            MessageDaily.day.label("day"),
            MessageDaily.channel_id.label("key"),
            sa.func.sum(MessageDaily.messages).label("n"),
            sa.func.sum(MessageDaily.outbound).label("outbound"),
            sa.func.sum(MessageDaily.templated).label("templated"),
        ).where(on_days(MessageDaily.day, cov.rolled))
        if f.team_id is not None:
            rolled = rolled.where(MessageDaily.team_id == f.team_id)
        parts.append(rolled.group_by(MessageDaily.day, MessageDaily.channel_id))
    grouped = combined(parts, ("day", "key"), ("n", "outbound", "templated"), "n").subquery()
    query = (
        sa.select(
            grouped.c.day,
            Channel.channel_name,
            Channel.channel_type,
            grouped.c.n,
            grouped.c.outbound,
            grouped.c.templated,
        )
        .select_from(grouped)
        .outerjoin(Channel, Channel.id == grouped.c.key)
    )
    memo["activity"] = [
        (
            when,
            group_name(name, BY_CHANNEL.empty),
            kind,
            int(n),
            int(out or 0),
            int(templated or 0),
        )
        for when, name, kind, n, out, templated in db.session.execute(query)
    ]
    return memo["activity"]


def message_volume(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    counts: dict = {}
    kinds: dict = {}
    for when, name, kind, n, _outbound, _templated in message_activity(f, now, memo):
        kinds[name] = kind
        bucket = counts.setdefault(name, {})
        period = _period_start(when, f)
        bucket[period] = bucket.get(period, 0) + n
    channels = sorted(counts)
    keys = {name: f"ch{index}" for index, name in enumerate(channels)}
    rows = []
    for when in _periods(f):
        row = {"day": when}
        row.update({keys[name]: counts[name].get(when, 0) for name in channels})
        row["total"] = sum(row[keys[name]] for name in channels)
        rows.append(row)
    total = {"day": _("All days"), **{keys[n]: sum(counts[n].values()) for n in channels}}
    total["total"] = sum(total[keys[n]] for n in channels)
    columns = (
        Column("day", _("Week of") if f.per_week else _("Day"), DAY),
        # Each series says what it counts: a customer channel, calls, notes (by type).
        *(Column(keys[name], name, COUNT, series_definition(kinds[name])) for name in channels),
        Column("total", _("Total"), COUNT),
    )
    if f.per_week:
        title = _("Message volume per channel per week")
        note = str(DEFINITIONS["volume_week"])
    else:
        title = _("Message volume per channel per day")
        note = str(DEFINITIONS["volume"])
    table = Table("volume", title, columns, rows, total, note)
    table.extra["series"] = [(keys[name], name) for name in channels]
    table.extra["per_week"] = f.per_week
    return table


def _period_start(day: date, f: AnalyticsFilter) -> date:
    """The row a day counts in: the day itself, or its week's Monday (not before the range)."""
    if not f.per_week:
        return day
    return max(day - timedelta(days=day.weekday()), f.first_day)


def _periods(f: AnalyticsFilter) -> list[date]:
    """The table's rows: every day of the range, or the first day and each Monday after it."""
    days = [f.first_day + timedelta(days=offset) for offset in range(f.days)]
    if not f.per_week:
        return days
    return [day for day in days if day == f.first_day or day.weekday() == 0]


# --- workload --------------------------------------------------------------------


def workload(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    open_threads = (
        sa.select(Thread.assigned_to_user_id.label("user_id"), sa.func.count().label("n"))
        .where(Thread.assigned_to_user_id.is_not(None), Thread.status.not_in(CLOSED))
        .group_by(Thread.assigned_to_user_id)
        .subquery()
    )
    sent = _sent(f, coverage(f, now, memo))
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
        "label": _("All"),
        "team": "",
        "open": sum(r["open"] for r in rows),
        "sent": sum(r["sent"] for r in rows),
    }
    columns = (
        Column("label", _("Agent")),
        Column("team", _("Team")),
        Column("open", _("Open assigned conversations (now)"), COUNT),
        Column("sent", _("Messages sent in range"), COUNT),
    )
    note = str(DEFINITIONS["workload"])
    return Table("workload", _("Workload per agent"), columns, rows, total if rows else None, note)


def _sent(f: AnalyticsFilter, cov: Coverage):
    """Outgoing messages per sender in the range: direct days plus rolled-up days."""
    parts = []
    if cov.direct:
        parts.append(
            sa.select(Message.sender_user_id.label("user_id"), sa.func.count().label("n"))
            .where(
                Message.sender_user_id.is_not(None),
                Message.message_type == MessageType.OUTGOING,
                in_days(Message.created_at, cov.direct),
            )
            .group_by(Message.sender_user_id)
        )
    if cov.rolled:
        parts.append(
            sa.select(
                SenderDaily.user_id.label("user_id"), sa.func.sum(SenderDaily.sent).label("n")
            )
            .where(on_days(SenderDaily.day, cov.rolled))
            .group_by(SenderDaily.user_id)
        )
    return combined(parts, ("user_id",), ("n",), "n").subquery()


# --- tasks and templates -----------------------------------------------------------


def tasks_on_time(f: AnalyticsFilter, now: datetime, memo: dict) -> Table:
    grouped = combined(
        _task_parts(f, coverage(f, now, memo)), ("key",), ("n", "with_due", "on_time"), "n"
    )
    query = named(grouped, Team, Team.name)
    rows = [
        _task_row(group_name(name, BY_TEAM.empty), n, with_due, done)
        for name, n, with_due, done in db.session.execute(query)
    ]
    total = _task_row(
        _("All"),
        sum(r["n"] for r in rows),
        sum(r["with_due"] for r in rows),
        sum(r["on_time"] for r in rows),
    )
    columns = (
        Column("label", _("Team")),
        Column("n", _("Completed"), COUNT),
        Column("with_due", _("With a due date"), COUNT),
        Column("on_time", _("On time"), COUNT),
        Column("share", _("On time"), PERCENT),
    )
    note = str(DEFINITIONS["tasks"]) % {"target": f"{TASK_TARGET:.0f}"}
    table = Table(
        "tasks", _("Tasks completed on time"), columns, rows, total if rows else None, note
    )
    table.extra["target"] = TASK_TARGET
    return table


def _task_parts(f: AnalyticsFilter, cov: Coverage) -> list[sa.Select]:
    """Completed tasks per team (``key``): direct days plus rolled-up days.

    A task counts for its own team, else its assignee's team as it is now; the
    roll-ups keep the assignee, so that team is looked up here for both.
    """
    parts = []
    if cov.direct:
        assignee = so.aliased(User)
        team_id = sa.func.coalesce(InternalTask.assigned_team_id, assignee.team_id)
        direct = (
            sa.select(
                team_id.label("key"),
                sa.func.count().label("n"),
                sa.func.count(InternalTask.due_date).label("with_due"),
                count_if(task_on_time()).label("on_time"),
            )
            .select_from(InternalTask)
            .outerjoin(assignee, assignee.id == InternalTask.assigned_to_user_id)
            .where(completed_task(), in_days(InternalTask.completed_at, cov.direct))
            .group_by(team_id)
        )
        parts.append(direct if f.team_id is None else direct.where(team_id == f.team_id))
    if cov.rolled:
        # Summed per (team, assignee) first: the teams are looked up for a few
        # hundred pairs, not for every day's row.
        pairs = (
            sa.select(
                TaskDaily.team_id,
                TaskDaily.user_id,
                sa.func.sum(TaskDaily.completed).label("n"),
                sa.func.sum(TaskDaily.with_due).label("with_due"),
                sa.func.sum(TaskDaily.on_time).label("on_time"),
            )
            .where(on_days(TaskDaily.day, cov.rolled))
            .group_by(TaskDaily.team_id, TaskDaily.user_id)
            .subquery()
        )
        assignee, team = so.aliased(User), so.aliased(Team)
        # The team as the task has it now: a deleted team is NULL on the task (SET NULL).
        team_id = sa.func.coalesce(team.id, assignee.team_id)
        rolled = (
            sa.select(
                team_id.label("key"),
                sa.func.sum(pairs.c.n).label("n"),
                sa.func.sum(pairs.c.with_due).label("with_due"),
                sa.func.sum(pairs.c.on_time).label("on_time"),
            )
            .select_from(pairs)
            .outerjoin(team, team.id == pairs.c.team_id)
            .outerjoin(assignee, assignee.id == pairs.c.user_id)
            .group_by(team_id)
        )
        parts.append(rolled if f.team_id is None else rolled.where(team_id == f.team_id))
    return parts


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
    for _when, name, _kind, _n, outbound, templated in message_activity(f, now, memo):
        sums = per_channel.setdefault(name, [0, 0])
        sums[0] += outbound
        sums[1] += templated
    rows = [
        _template_row(name, outbound, templated)
        for name, (outbound, templated) in sorted(per_channel.items())
        if outbound
    ]
    total = _template_row(_("All"), sum(r["n"] for r in rows), sum(r["templated"] for r in rows))
    columns = (
        Column("label", _("Channel")),
        Column("n", _("Outbound messages"), COUNT),
        Column("templated", _("From a template"), COUNT),
        Column("share", _("Share"), PERCENT),
    )
    note = str(DEFINITIONS["templates"]) % {"target": f"{TEMPLATE_TARGET:.0f}"}
    table = Table(
        "templates", _("Messages sent from templates"), columns, rows, total if rows else None, note
    )
    table.extra["target"] = TEMPLATE_TARGET
    return table


def _template_row(label: str, n, templated) -> dict:
    n, templated = int(n or 0), int(templated or 0)
    return {"label": label, "n": n, "templated": templated, "share": ratio(templated, n)}
