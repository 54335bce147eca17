"""Which conversations missed their SLA in the range, which deadline, and by how much.

The list under the SLA compliance table: exactly the conversations that table
counts as missed (customer conversations started in the range, with an SLA
clock, :func:`~app.analytics.definitions.escalated`), read directly (at most
the :data:`READ_AT_MOST` newest), the most overdue first. For each, the
deadline it missed and how it ended, first match wins:

- *still waiting*: a response deadline passed and the customer has no answer
  yet (late by now − deadline);
- *answered late*: the ladder escalated a cycle at its deadline and our next
  reply came after it (late by reply − deadline), or an answer after a deadline
  still on record (imported history);
- *no reply after the deadline*: the ladder escalated a cycle, and no written
  reply followed (a call, or resolved without one); *the deadline passed* when
  the alert does not say when it was;
- *escalated by a colleague*: a person escalated it; no deadline was passed.

The deadline is the first response in the conversation's first cycle, a
later response in any cycle after (the customer wrote again, or a colleague
escalated). Lateness is business time on the channel's calendar, like the
deadline itself.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from app.analytics.definitions import (
    MISS_DEFINITIONS,
    customer_thread,
    escalated,
    has_sla_clock,
)
from app.analytics.filters import AnalyticsFilter
from app.analytics.grouping import BY_CHANNEL, between, group_name, thread_team
from app.analytics.sql import ZONE
from app.analytics.tables import DURATION, TEXT, Column, Table
from app.conversations.business_time.calendar import (
    business_seconds_between,
    calendar_for,
    schedule_of,
)
from app.conversations.business_time.clock import STEP_ESCALATION
from app.platform.extensions import db
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationThread,
    SlaAlert,
)
from app.platform.models.enums import MessageType, ThreadStatus

Thread, Channel, Message = CommunicationThread, CommunicationChannel, CommunicationMessage
# The page lists the worst few; the CSV has every one read.
SHOWN = 10
READ_AT_MOST = 500
WAITING, LATE, NO_REPLY, PASSED = "waiting", "late", "no_reply", "passed"
BY_COLLEAGUE = "by_colleague"


@dataclass(frozen=True)
class Miss:
    """One conversation that missed its SLA."""

    thread_id: uuid.UUID
    subject: str
    channel: str
    started_at: datetime
    # Which deadline: the first response (cycle 1), a later response, or none.
    cycle: int | None
    how: str  # WAITING, LATE, NO_REPLY, PASSED or BY_COLLEAGUE
    late_seconds: int | None  # business seconds past the deadline, when known

    @property
    def deadline_label(self) -> str:
        if self.cycle is None:
            return "—"
        return _("First response") if self.cycle <= 1 else _("Later response")

    @property
    def how_label(self) -> str:
        return {
            WAITING: _("still waiting for an answer"),
            LATE: _("answered late"),
            NO_REPLY: _("no written reply after the deadline"),
            PASSED: _("the deadline passed"),
            BY_COLLEAGUE: _("escalated by a colleague"),
        }[self.how]


@dataclass(frozen=True)
class Misses:
    """The missed conversations of the range, the latest first by how late; ``total``
    counts them all (the list holds at most :data:`READ_AT_MOST`)."""

    items: list[Miss]
    total: int

    @property
    def shown(self) -> list[Miss]:
        return self.items[:SHOWN]

    @property
    def columns(self) -> tuple[Column, ...]:
        """The page's columns, each with its one-line definition."""
        return (
            Column("subject", _("Conversation"), TEXT, str(MISS_DEFINITIONS["subject"])),
            Column("deadline", _("Deadline missed"), TEXT, str(MISS_DEFINITIONS["deadline"])),
            Column("late", _("Late by"), DURATION, str(MISS_DEFINITIONS["late"])),
        )


def sla_misses(f: AnalyticsFilter, now: datetime) -> Misses:
    """The conversations the SLA figure counts as missed in ``f``'s range, and why."""
    where = [
        customer_thread(),
        between(Thread.created_at, f),
        *thread_team(f),
        has_sla_clock(),
        escalated(now, since=f.start),
    ]
    rows = db.session.execute(
        sa.select(
            Thread.id,
            Thread.thread_subject,
            Thread.channel_id,
            Channel.channel_name,
            Thread.created_at,
            Thread.status,
            Thread.response_due_at,
            Thread.first_response_at,
            Thread.sla_cycle,
        )
        .outerjoin(Channel, Channel.id == Thread.channel_id)
        .where(*where)
        .order_by(Thread.created_at.desc())
        .limit(READ_AT_MOST)
    ).all()
    total = len(rows)
    if total == READ_AT_MOST:
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Thread).where(*where))
    breaches = _breaches([row.id for row in rows])
    schedules: dict = {}
    items = [_miss(row, breaches.get(row.id), now, schedules) for row in rows]
    # The latest first; unknown lateness last; ties stay newest first.
    items.sort(key=lambda miss: (miss.late_seconds is None, -(miss.late_seconds or 0)))
    return Misses(items, total)


def _breaches(thread_ids: list[uuid.UUID]) -> dict:
    """Per thread, its latest cycle the ladder escalated: (cycle, deadline, next reply)."""
    if not thread_ids:
        return {}
    reply = (
        sa.select(sa.func.min(Message.created_at))
        .where(
            Message.thread_id == SlaAlert.thread_id,
            Message.message_type == MessageType.OUTGOING,
            Message.created_at > SlaAlert.due_at,
        )
        .scalar_subquery()
    )
    latest: dict = {}
    for thread_id, cycle, due_at, replied_at in db.session.execute(
        sa.select(SlaAlert.thread_id, SlaAlert.sla_cycle, SlaAlert.due_at, reply)
        .where(SlaAlert.thread_id.in_(thread_ids), SlaAlert.step == STEP_ESCALATION)
        .order_by(SlaAlert.sla_cycle)
    ):
        latest[thread_id] = (cycle, due_at, replied_at)
    return latest


def _miss(row, breach, now: datetime, schedules: dict) -> Miss:
    def late(start: datetime, end: datetime) -> int:
        if row.channel_id not in schedules:
            channel = db.session.get(Channel, row.channel_id) if row.channel_id else None
            schedules[row.channel_id] = schedule_of(calendar_for(channel))
        return max(business_seconds_between(schedules[row.channel_id], start, end), 0)

    base = {
        "thread_id": row.id,
        "subject": row.thread_subject,
        "channel": group_name(row.channel_name, str(BY_CHANNEL.empty)),
        "started_at": row.created_at,
    }
    due, answered = row.response_due_at, row.first_response_at
    if due is not None and due < now:
        return Miss(**base, cycle=row.sla_cycle, how=WAITING, late_seconds=late(due, now))
    if breach is not None:
        cycle, due_at, replied_at = breach
        if due_at is None:  # an alert from before deadlines were kept on it
            return Miss(**base, cycle=cycle, how=PASSED, late_seconds=None)
        if replied_at is None:
            return Miss(**base, cycle=cycle, how=NO_REPLY, late_seconds=None)
        return Miss(**base, cycle=cycle, how=LATE, late_seconds=late(due_at, replied_at))
    if due is not None and answered is not None and answered > due:
        return Miss(**base, cycle=1, how=LATE, late_seconds=late(due, answered))
    how = BY_COLLEAGUE if row.status == ThreadStatus.ESCALATED else NO_REPLY
    return Miss(**base, cycle=None, how=how, late_seconds=None)


def misses_table(f: AnalyticsFilter, now: datetime) -> Table:
    """Every missed conversation read, as the CSV export ``figure=sla_missed`` writes it."""
    misses = sla_misses(f, now)
    columns = (
        Column("subject", _("Conversation")),
        Column("channel", _("Channel")),
        Column("deadline", _("Deadline missed")),
        Column("how", _("How it ended")),
        Column("late", _("Late by (business time)"), DURATION),
        Column("started", _("Started"), TEXT),
    )
    rows = [
        {
            "subject": miss.subject,
            "channel": miss.channel,
            "deadline": miss.deadline_label,
            "how": miss.how_label,
            "late": miss.late_seconds,
            "started": miss.started_at.astimezone(ZONE).strftime("%Y-%m-%d %H:%M"),
        }
        for miss in misses.items
    ]
    return Table("sla_missed", _("Conversations that missed the SLA"), columns, rows)
