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
        "as the escalation figure; customer conversations started in the range only "
        "(the others are listed under the table, by reason)."
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

# Rows with no channel: what they really are (shown as the channel's name and explained).
NO_CHANNEL = _l("In Switchboard (no channel)")
NO_CHANNEL_DEFINITION = _l(
    "In Switchboard (no channel): internal notes written in a conversation, and "
    "conversations opened in Switchboard itself (by hand, through the API or by an "
    "automation such as a low customer rating) without a channel."
)
NO_TEAM_DEFINITION = _l("No team: not assigned to a team.")

# The SLA table's conversations outside the compliance figure, per reason, in the
# order the page lists them: (label, definition). With met and missed they add up
# to every customer conversation started in the range (app.analytics.service_level).
SLA_OUTSIDE = {
    "running": (
        _l("Waiting for a first answer, deadline still ahead"),
        _l(
            "The customer asked and has no answer yet, but the deadline has not passed: "
            "rated once answered or overdue."
        ),
    ),
    "closed_unanswered": (
        _l("Closed without an answer"),
        _l(
            "Closed or resolved before anyone answered, and never overdue: spam, a "
            "duplicate, a conversation merged into another."
        ),
    ),
    "not_asked": (
        _l("The customer never waited for us"),
        _l(
            "No customer message started an SLA clock: conversations we opened (an "
            "outgoing e-mail or WhatsApp, a logged call, one opened by hand or by an "
            "automation) that the customer has not written in."
        ),
    ),
}

# One line per table column (key), by figure where a column means something of
# its own there; shown on hover and to screen readers (templates/analytics/_table.html).
_CHANNEL = _l("The channel the conversation came in on.")
_TEAM = _l("The team the conversation is assigned to.")
COLUMN_DEFINITIONS = {
    "label": _CHANNEL,
    "first_response_team.label": _TEAM,
    "escalation.label": _TEAM,
    "workload.label": _l("An agent or team lead with an active account."),
    "tasks.label": _l("The task's team, else its assignee's team."),
    "csat_agent.label": _l("The agent who answered the rated conversation."),
    "csat_team.label": _l("The team of the rated conversation."),
    "csat_week.label": _l("The week (from Monday) the rating came in."),
    "n": _l("How many conversations the average is taken over."),
    "first_response_channel.n": _l("Customer conversations started in the range and answered."),
    "first_response_team.n": _l("Customer conversations started in the range and answered."),
    "resolution.n": _l("Customer conversations resolved in the range."),
    "escalation.n": _l("Customer conversations started in the range."),
    "tasks.n": _l("Tasks completed in the range."),
    "templates.n": _l("Outgoing messages and automatic replies sent in the range."),
    "csat_agent.n": _l("Survey answers received in the range."),
    "csat_team.n": _l("Survey answers received in the range."),
    "csat_channel.n": _l("Survey answers received in the range."),
    "csat_week.n": _l("Survey answers received in the range."),
    "average": _l("Average in business time: opening hours only, pauses left out."),
    "csat_agent.average": _l("Average score on the 1–5 scale."),
    "csat_team.average": _l("Average score on the 1–5 scale."),
    "csat_channel.average": _l("Average score on the 1–5 scale."),
    "csat_week.average": _l("Average score on the 1–5 scale."),
    "score": _l("Share of ratings that are 4 or 5."),
    "met": _l("Answered with every response deadline kept, and not escalated."),
    "missed": _l("Escalated, or a response deadline passed unanswered."),
    "running": SLA_OUTSIDE["running"][1],
    "compliance": _l("Met ÷ (met + missed)."),
    "escalated": _l("Escalated by a person, or a response deadline passed."),
    "rate": _l("Escalated ÷ conversations."),
    "team": _l("The agent's team."),
    "open": _l("Conversations assigned to the agent now, not resolved or closed."),
    "sent": _l("Messages the agent sent to customers in the range."),
    "with_due": _l("Completed tasks that had a due date."),
    "on_time": _l("Completed no later than the due date (and time), Amsterdam time."),
    "share": _l("On time ÷ completed with a due date."),
    "templates.share": _l("From a template ÷ outgoing messages."),
    "templated": _l("Outgoing messages sent from a message template."),
    "suggestions.label": _l("The agent who replied."),
    "suggestions.n": _l(
        "Agents' replies to a customer message that had suggested replies, decided in the range."
    ),
    "used": _l("Sent as the suggestion put it in the reply box."),
    "edited": _l("Started from a suggestion and changed before sending."),
    "suggestions.share": _l(
        "Put into the reply box from a suggestion (as suggested or edited) ÷ replies."
    ),
    "day": _l("The Amsterdam day (or week from Monday) the messages were sent on."),
    "total": _l("All messages in and out that day, over every channel."),
    "series": _l("Messages in and out on this channel, internal notes included."),
    # Routing suggestions (app/analytics/routing.py).
    "routing.label": _l("The team the suggestion named (skills aside)."),
    "routing.n": _l("Team suggestions made for conversations started in the range."),
    "accepted": _l("Went to the suggested team (auto-routing, one click or assigning) and stayed."),
    "changed": _l("A person moved the conversation to another team than suggested."),
    "ignored": _l("Resolved or closed while the suggestion was still open."),
    "agreed": _l("The rules had already put the conversation in the suggested team."),
    "routing.share": _l("Accepted ÷ (accepted + changed + ignored)."),
    # The calls card (app/analytics/calls.py).
    "calls_by_day.day": _l("The Amsterdam day the call was logged for."),
    "agent": _l("Who made or took the call."),
    "outcome": _l("How the call ended, as logged."),
    "calls": _l("Calls logged, inbound and outbound, every outcome."),
    "reached": _l("Calls in which we spoke to the other side."),
    "talk": _l("Total talk time of the calls."),
}


def column_definition(figure: str, key: str, label: str = "") -> str:
    """The one-line definition of a figure's column (``label``: the column's heading)."""
    if figure == "volume" and key.startswith("ch"):
        no_channel = label == str(NO_CHANNEL)
        return str(NO_CHANNEL_DEFINITION if no_channel else COLUMN_DEFINITIONS["series"])
    definition = COLUMN_DEFINITIONS.get(f"{figure}.{key}", COLUMN_DEFINITIONS.get(key))
    text = str(definition) if definition is not None else ""
    if key == "label" and text == str(_CHANNEL):
        return f"{text} {NO_CHANNEL_DEFINITION}"
    if key == "label" and text == str(_TEAM):
        return f"{text} {NO_TEAM_DEFINITION}"
    return text
