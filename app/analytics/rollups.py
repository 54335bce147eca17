"""Daily roll-ups of the analytics figures: which days they cover, and how a day is recomputed.

A year of ``/analytics`` reads a few thousand roll-up rows (days x channels x
teams) instead of ten million messages. Every additive quantity the page shows
is kept per Amsterdam day: counts, and sums of business seconds for the
averages (there are no medians or percentiles on the page, so nothing needs a
histogram). Completed tasks are kept per day, assigned team and assignee.
Satisfaction surveys and calls stay direct: one row per answered survey or
logged call, read through their time indexes.

How they stay equal to the direct computation (the reference,
:func:`app.analytics.figures.compute_all` with ``direct=True``):

- A day is *recomputed whole* from the source rows with the very conditions
  the direct figures use (:mod:`app.analytics.definitions`), never patched by
  increments. Changes reach past days late and sideways (a conversation opened
  last week is resolved today, a reassignment moves a thread's messages to
  another team, a merge moves messages between threads); recomputing the days
  touched is simple and cannot drift, and one day is a few index range reads.
- Listeners (:mod:`app.analytics.listeners`) mark the days a committed change
  touches as dirty, an upsert on ``analytics_dirty_days`` (a unique key, so
  two workers marking the same day meet in the database). The periodic job
  :func:`refresh` recomputes dirty days, days just past midnight and days
  whose deadlines ran out.
- The page reads a day from the roll-ups only while they hold
  (:mod:`app.analytics.coverage`): computed, not
  marked dirty since, computed no later than ``now`` and before the first
  response deadline still ahead at the time (an unanswered conversation turns
  "missed" when its deadline passes, with no write to mark it). Every other
  day, today always, is computed directly. So a lagging job costs speed,
  never correctness.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.analytics.definitions import (
    completed_task,
    customer_thread,
    escalated,
    has_sla_clock,
    task_on_time,
)
from app.analytics.filters import local_midnight, local_today
from app.analytics.sql import local_date, prepare_connection
from app.platform.database import UTCDateTime, upsert_insert, utcnow
from app.platform.extensions import db
from app.platform.models import (
    AnalyticsDay,
    AnalyticsDirtyDay,
    AnalyticsMessageDaily,
    AnalyticsSenderDaily,
    AnalyticsTaskDaily,
    AnalyticsThreadDaily,
    CommunicationMessage,
    CommunicationThread,
    InternalTask,
)
from app.platform.models.enums import MessageType, ThreadStatus
from app.platform.transactions import commit

log = logging.getLogger(__name__)

Thread, Message = CommunicationThread, CommunicationMessage
CLOSED = (ThreadStatus.RESOLVED, ThreadStatus.CLOSED)
OUTBOUND = (MessageType.OUTGOING, MessageType.AUTO_RESPONSE)
# After an outage the job rolls up the days it missed this far back; older ones
# wait for ``flask analytics rebuild`` (and are read directly until then).
CATCH_UP_DAYS = 35
# Days a periodic run recomputes at most (one short transaction each).
REFRESH_LIMIT = 31


# --- recomputing days from the source rows -------------------------------------------


def recompute(first: date, last: date, now: datetime | None = None) -> int:
    """Roll up the local days ``first`` .. ``last`` afresh (no commit); the rows written.

    The days' ``analytics_days`` rows are upserted first: that row lock makes
    two workers recomputing the same day take turns, and each writes the whole
    day, so the last one leaves a complete copy.
    """
    now = now or utcnow()
    prepare_connection()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    dialect = db.session.get_bind().dialect.name
    stamp = {"as_of": now, "valid_until": None, "updated_at": now}
    insert = upsert_insert(AnalyticsDay, dialect)
    db.session.execute(
        insert.values([{"id": uuid.uuid4(), "day": d, "created_at": now, **stamp} for d in days])
        .on_conflict_do_update(index_elements=["day"], set_=stamp)
    )
    seen = dict(
        db.session.execute(
            sa.select(AnalyticsDirtyDay.day, AnalyticsDirtyDay.marked_at).where(
                AnalyticsDirtyDay.day.between(first, last)
            )
        ).all()
    )
    start, end = local_midnight(first), local_midnight(last + timedelta(days=1))
    threads, valid_until = _thread_days(start, end, now)
    rows = {
        AnalyticsThreadDaily: threads,
        AnalyticsMessageDaily: _message_days(start, end),
        AnalyticsSenderDaily: _sender_days(start, end),
        AnalyticsTaskDaily: _task_days(start, end),
    }
    for model, values in rows.items():
        db.session.execute(sa.delete(model).where(model.day.between(first, last)))
        if values:
            for row in values:
                row.update(id=uuid.uuid4(), created_at=now, updated_at=now)
            db.session.execute(sa.insert(model), values)
    for day, until in valid_until.items():
        db.session.execute(
            sa.update(AnalyticsDay).where(AnalyticsDay.day == day).values(valid_until=until)
        )
    for day, marked_at in seen.items():
        # Marked again after we read the mark: keep it, the next run picks the day up.
        db.session.execute(
            sa.delete(AnalyticsDirtyDay).where(
                AnalyticsDirtyDay.day == day, AnalyticsDirtyDay.marked_at == marked_at
            )
        )
    return sum(len(values) for values in rows.values())


def _as_date(value) -> date:
    # SQLite hands a computed date back as text.
    return date.fromisoformat(value) if isinstance(value, str) else value


def _thread_days(start: datetime, end: datetime, now: datetime):
    """Thread figures per (day, channel, team), and each day's earliest deadline ahead."""
    missed = escalated(now, since=start)
    answered = Thread.first_response_at.is_not(None)
    clock = has_sla_clock()
    running = sa.and_(sa.not_(answered), sa.not_(missed), Thread.status.not_in(CLOSED))
    ahead = sa.case((Thread.response_due_at >= now, Thread.response_due_at))
    created_day = local_date(Thread.created_at)
    opened = (
        sa.select(
            created_day.label("day"),
            Thread.channel_id,
            Thread.assigned_team_id,
            sa.func.count().label("threads"),
            sa.func.count().filter(missed).label("escalated"),
            sa.func.count(Thread.first_response_seconds).label("first_responses"),
            sa.func.coalesce(sa.func.sum(Thread.first_response_seconds), 0).label("fr_seconds"),
            sa.func.count().filter(clock).label("sla_threads"),
            sa.func.count().filter(sa.and_(clock, answered, sa.not_(missed))).label("sla_met"),
            sa.func.count().filter(sa.and_(clock, missed)).label("sla_missed"),
            sa.func.count().filter(sa.and_(clock, running)).label("sla_running"),
            sa.func.min(ahead).label("ahead"),
        )
        .where(customer_thread(), Thread.created_at >= start, Thread.created_at < end)
        .group_by(created_day, Thread.channel_id, Thread.assigned_team_id)
    )
    resolved_day = local_date(Thread.resolved_at)
    resolved = (
        sa.select(
            resolved_day.label("day"),
            Thread.channel_id,
            Thread.assigned_team_id,
            sa.func.count().label("resolved"),
            sa.func.sum(Thread.resolution_seconds).label("seconds"),
        )
        .where(
            customer_thread(),
            Thread.resolution_seconds.is_not(None),
            Thread.resolved_at >= start,
            Thread.resolved_at < end,
        )
        .group_by(resolved_day, Thread.channel_id, Thread.assigned_team_id)
    )
    groups: dict[tuple, dict] = {}
    valid_until: dict[date, datetime] = {}

    def group(day, channel_id, team_id) -> dict:
        key = (_as_date(day), channel_id, team_id)
        return groups.setdefault(
            key,
            {
                "day": key[0], "channel_id": channel_id, "team_id": team_id,
                **dict.fromkeys(COUNT_COLUMNS, 0),
            },
        )  # fmt: skip

    for row in db.session.execute(opened):
        values = group(row.day, row.channel_id, row.assigned_team_id)
        values.update(
            threads=row.threads,
            escalated=row.escalated,
            first_responses=row.first_responses,
            first_response_seconds=int(row.fr_seconds),
            sla_threads=row.sla_threads,
            sla_met=row.sla_met,
            sla_missed=row.sla_missed,
            sla_running=row.sla_running,
        )
        if row.ahead is not None:
            ahead_at = _as_datetime(row.ahead)
            day = values["day"]
            valid_until[day] = min(valid_until.get(day, ahead_at), ahead_at)
    for row in db.session.execute(resolved):
        values = group(row.day, row.channel_id, row.assigned_team_id)
        values.update(resolved=row.resolved, resolution_seconds=int(row.seconds or 0))
    return list(groups.values()), valid_until


COUNT_COLUMNS = (
    "threads", "escalated", "first_responses", "first_response_seconds", "sla_threads",
    "sla_met", "sla_missed", "sla_running", "resolved", "resolution_seconds",
)  # fmt: skip


def _as_datetime(value) -> datetime:
    if isinstance(value, str):  # SQLite: a MIN over a CASE loses the column type
        return UTCDateTime().process_result_value(value, db.session.get_bind().dialect)
    return value


def _message_days(start: datetime, end: datetime) -> list[dict]:
    """Messages per (day, channel, thread's team), as the volume and template figures count."""
    day = local_date(Message.created_at)
    outbound = Message.message_type.in_(OUTBOUND)
    # The thread's team looked up per message by primary key: a day is a few
    # ten thousand messages, and a join lets the planner hash all 2 M threads.
    team = (
        sa.select(Thread.assigned_team_id)
        .where(Thread.id == Message.thread_id)
        .scalar_subquery()
        .label("team_id")
    )
    query = (
        sa.select(
            day.label("day"),
            Message.channel_id,
            team,
            sa.func.count().label("messages"),
            sa.func.count().filter(outbound).label("outbound"),
            sa.func.count()
            .filter(sa.and_(outbound, Message.template_id.is_not(None)))
            .label("templated"),
        )
        .where(
            Message.created_at >= start,
            Message.created_at < end,
            Message.message_type != MessageType.SYSTEM_NOTIFICATION,
        )
        .group_by(day, Message.channel_id, team)
    )
    return [
        {
            "day": _as_date(r.day), "channel_id": r.channel_id, "team_id": r.team_id,
            "messages": r.messages, "outbound": r.outbound, "templated": r.templated,
        }  # fmt: skip
        for r in db.session.execute(query)
    ]


def _sender_days(start: datetime, end: datetime) -> list[dict]:
    """Outgoing messages per (day, sender), the workload figure's "sent"."""
    day = local_date(Message.created_at)
    query = (
        sa.select(day.label("day"), Message.sender_user_id, sa.func.count().label("sent"))
        .where(
            Message.sender_user_id.is_not(None),
            Message.message_type == MessageType.OUTGOING,
            Message.created_at >= start,
            Message.created_at < end,
        )
        .group_by(day, Message.sender_user_id)
    )
    return [
        {"day": _as_date(r.day), "user_id": r.sender_user_id, "sent": r.sent}
        for r in db.session.execute(query)
    ]


def _task_days(start: datetime, end: datetime) -> list[dict]:
    """Completed tasks per (day, assigned team, assignee), as the tasks figure counts them."""
    day = local_date(InternalTask.completed_at)
    query = (
        sa.select(
            day.label("day"),
            InternalTask.assigned_team_id,
            InternalTask.assigned_to_user_id,
            sa.func.count().label("completed"),
            sa.func.count(InternalTask.due_date).label("with_due"),
            sa.func.count().filter(task_on_time()).label("on_time"),
        )
        .where(
            completed_task(), InternalTask.completed_at >= start, InternalTask.completed_at < end
        )
        .group_by(day, InternalTask.assigned_team_id, InternalTask.assigned_to_user_id)
    )
    return [
        {
            "day": _as_date(r.day), "team_id": r.assigned_team_id,
            "user_id": r.assigned_to_user_id, "completed": r.completed,
            "with_due": r.with_due, "on_time": r.on_time,
        }  # fmt: skip
        for r in db.session.execute(query)
    ]


# --- marking days dirty, the periodic job and the rebuild ----------------------------


def mark_dirty(moments: Iterable[datetime | date | None], now: datetime | None = None) -> int:
    """Mark the local days of ``moments`` before today as changed (no commit); how many."""
    now = now or utcnow()
    days = past_days(moments, now)
    if days:
        db.session.execute(dirty_days_upsert(days, now, db.session.get_bind().dialect.name))
    return len(days)


def past_days(moments: Iterable[datetime | date | None], now: datetime) -> list[date]:
    """The local days of ``moments`` before today (today is always read directly)."""
    today = local_today(now)
    days = {
        m if not isinstance(m, datetime) else local_today(m) for m in moments if m is not None
    }
    return sorted(d for d in days if d < today)


def dirty_days_upsert(days: list[date], now: datetime, dialect: str) -> sa.Insert:
    """The statement marking ``days`` dirty (an upsert: two marks of a day meet in the database)."""
    insert = upsert_insert(AnalyticsDirtyDay, dialect)
    return insert.values(
        [
            {"id": uuid.uuid4(), "day": d, "marked_at": now, "created_at": now,
             "updated_at": now}
            for d in days
        ]
    ).on_conflict_do_update(
        index_elements=["day"],
        set_={"marked_at": insert.excluded.marked_at, "updated_at": insert.excluded.updated_at},
    )  # fmt: skip


def message_days(thread_id: uuid.UUID) -> set[datetime]:
    """When the thread's messages were written (one per local day is enough)."""
    return set(
        db.session.scalars(sa.select(Message.created_at).where(Message.thread_id == thread_id))
    )


def days_to_refresh(now: datetime, limit: int = REFRESH_LIMIT) -> list[date]:
    """Past days whose roll-ups are missing, marked dirty or past their deadline."""
    today = local_today(now)
    yesterday = today - timedelta(days=1)
    dirty = set(
        db.session.scalars(sa.select(AnalyticsDirtyDay.day).where(AnalyticsDirtyDay.day < today))
    )
    expired = set(
        db.session.scalars(sa.select(AnalyticsDay.day).where(AnalyticsDay.valid_until < now))
    )
    recent = sa.select(AnalyticsDay.day).where(
        AnalyticsDay.day.between(today - timedelta(days=CATCH_UP_DAYS), yesterday)
    )
    have = set(db.session.scalars(recent))
    missing = {
        yesterday - timedelta(days=n) for n in range(CATCH_UP_DAYS)
    } - have
    # Changed days before missing ones (those are read directly meanwhile, and
    # a fresh install has a month of them); newest first, what managers look at.
    changed = sorted(dirty | expired, reverse=True)
    return (changed + sorted(missing - set(changed), reverse=True))[:limit]


def refresh(now: datetime | None = None) -> int:
    """The periodic job: recompute the days that need it, one transaction a day."""
    days = days_to_refresh(now or utcnow())
    db.session.rollback()
    for day in days:
        recompute(day, day, now)
        commit()
    if days:
        log.info("analytics roll-ups recomputed for %s day(s)", len(days))
    return len(days)


def rebuild(
    since: date | None = None,
    now: datetime | None = None,
    batch_days: int = 7,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Roll up every past day from ``since`` (the first message's day by default); rows written.

    In batches of ``batch_days`` days, each its own transaction, so a rebuild
    of years can run beside the live system and be resumed.
    """
    now = now or utcnow()
    if since is None:
        first = db.session.scalar(sa.select(sa.func.min(Thread.created_at)))
        since = local_today(first) if first else local_today(now)
    last = local_today(now) - timedelta(days=1)
    written, day = 0, since
    while day <= last:
        batch_end = min(last, day + timedelta(days=batch_days - 1))
        started = time.perf_counter()
        rows = recompute(day, batch_end, now)
        commit()
        written += rows
        if progress:
            progress(
                f"{day.isoformat()} .. {batch_end.isoformat()}: {rows} rows "
                f"({time.perf_counter() - started:.1f} s)"
            )
        day = batch_end + timedelta(days=1)
    return written
