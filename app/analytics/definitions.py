"""What the service-level figures count: the one definition the page, CSV and digest share.

Every service-level figure (first response, SLA compliance, resolution,
escalation) reads the conditions below, so a conversation that is escalated
can never also be compliant, and internal notes and tasks never enter a
customer figure. Each figure's one-sentence definition sits here too, next to
the SQL it describes, and is shown on the page under the figure.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.analytics.sql import local_clock, local_date
from app.models import CommunicationChannel, CommunicationThread, InternalTask, SlaAlert
from app.models.enums import TaskStatus, ThreadStatus
from app.models.urgency import INTERNAL_CHANNEL_TYPES, INTERNAL_THREAD_TYPES

Thread, Channel = CommunicationThread, CommunicationChannel
# The ladder step at which a conversation is escalated (3 = its SLA deadline passed).
ESCALATION_STEP = 3


def customer_thread() -> sa.ColumnElement[bool]:
    """A conversation with a customer: not an internal note, task or ticket."""
    # IN over the (tiny) channel table: hashed once, no join per thread.
    internal_channels = sa.select(Channel.id).where(
        Channel.channel_type.in_(INTERNAL_CHANNEL_TYPES)
    )
    return sa.and_(
        sa.or_(Thread.channel_id.is_(None), Thread.channel_id.not_in(internal_channels)),
        Thread.thread_type.not_in(INTERNAL_THREAD_TYPES),
    )


def overdue(now: datetime) -> sa.ColumnElement[bool]:
    """The customer is waiting past the response deadline right now (the digest's overdue)."""
    # Spelled out NULL-safe, so NOT(escalated) is true (not NULL) without a deadline.
    return sa.and_(Thread.response_due_at.is_not(None), Thread.response_due_at < now)


def escalated(now: datetime, since: datetime | None = None) -> sa.ColumnElement[bool]:
    """The conversation breached its SLA or was escalated, in any cycle.

    Escalated by a person (status escalated), by the ladder when a deadline
    passed (an alert at step 3 or 4, kept after the answer clears the deadline),
    or overdue now (the ladder's 15-second scan may not have fired yet), or
    answered after a deadline that is still on record (imported history).

    ``since``: the conversations asked about were all created from then on. The
    ladder writes an alert only after its conversation started, so their alerts
    are the ones written since then, read through the alerts' time index: the
    alert table grows with all history, the conversations of a day do not.
    """
    alerts = sa.select(SlaAlert.thread_id).where(SlaAlert.step >= ESCALATION_STEP)
    if since is not None:
        alerts = alerts.where(SlaAlert.created_at >= since)
    # IN over those alerts: PostgreSQL hashes them once instead of probing per thread.
    ladder = Thread.id.in_(alerts)
    return sa.or_(
        Thread.status == ThreadStatus.ESCALATED,
        ladder,
        overdue(now),
        sa.and_(
            Thread.response_due_at.is_not(None),
            Thread.first_response_at.is_not(None),
            Thread.first_response_at > Thread.response_due_at,
        ),
    )


def has_sla_clock() -> sa.ColumnElement[bool]:
    """A customer has waited for an answer at least once, so a deadline applied."""
    return Thread.sla_started_at.is_not(None)


def completed_task() -> sa.ColumnElement[bool]:
    """A task the tasks figure counts: completed, with its completion time on record."""
    return sa.and_(
        InternalTask.status == TaskStatus.COMPLETED, InternalTask.completed_at.is_not(None)
    )


def task_on_time() -> sa.ColumnElement[bool]:
    """Completed no later than the due date (and due time, when set), in Amsterdam time."""
    completed_day = local_date(InternalTask.completed_at)
    return sa.and_(
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


# One sentence per figure, shown under it on the page (keys are the figure keys).
DEFINITIONS = {
    "first_response_channel": _l(
        "Average business time (opening hours, pauses while waiting on the customer left "
        "out) from a customer's first message to our first answer, over customer "
        "conversations started in the range and answered; internal notes and tasks excluded."
    ),
    "sla": _l(
        "Compliance is met ÷ (met + missed): met = answered with every response deadline "
        "kept; missed = escalated or a deadline passed unanswered, the same conversations "
        "as the escalation figure; customer conversations started in the range only."
    ),
    "resolution": _l(
        "Average business time from the start of a customer conversation to its resolution, "
        "over customer conversations resolved in the range; internal notes and tasks excluded."
    ),
    "escalation": _l(
        "Share of customer conversations started in the range that were escalated: by a "
        "person, or because a response deadline passed (these count as missed in SLA "
        "compliance)."
    ),
}
DEFINITIONS["first_response_team"] = DEFINITIONS["first_response_channel"]
