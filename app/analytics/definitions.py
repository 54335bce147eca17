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
from app.analytics.tables import Column, Table
from app.platform.models import CommunicationChannel, CommunicationThread, InternalTask, SlaAlert
from app.platform.models.enums import ChannelType, TaskStatus, ThreadStatus
from app.platform.models.urgency import INTERNAL_CHANNEL_TYPES, INTERNAL_THREAD_TYPES

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
DEFINITIONS.update(
    {
        "volume": _l(
            "Messages per channel per day (Amsterdam days): the customers' messages, our "
            "replies and automatic replies, logged calls and internal notes; status lines "
            "left out."
        ),
        "volume_week": _l(
            "Messages per channel per week (from Monday; Amsterdam days): the customers' "
            "messages, our replies and automatic replies, logged calls and internal notes; "
            "status lines left out. The CSV has one row per day."
        ),
        "workload": _l(
            "Agents and team leads, plus anyone else holding open conversations or sending "
            "in the range."
        ),
        "tasks": _l(
            "Tasks completed in the range; on time = completed no later than their due date "
            "and time (Amsterdam). Tasks without a due date are not rated. Target "
            "%(target)s %%."
        ),
        "templates": _l(
            "Outgoing messages and auto-responses sent in the range that used a message "
            "template; the aim is above %(target)s %%."
        ),
        # Each ratings figure groups its own way: by whom, which team, channel or week.
        "csat_agent": _l(
            "Share of ratings of 4 or 5 that customers gave in the range (by the day of "
            "their answer), per agent who had the conversation when it was resolved."
        ),
        "csat_team": _l(
            "Share of ratings of 4 or 5 that customers gave in the range (by the day of "
            "their answer), per team the conversation had when it was resolved."
        ),
        "csat_channel": _l(
            "Share of ratings of 4 or 5 that customers gave in the range (by the day of "
            "their answer), per channel of the rated conversation."
        ),
        "csat_week": _l(
            "Share of ratings of 4 or 5 per week (from Monday) in which the customers "
            "answered the survey."
        ),
        # app/analytics/order_sla.py; %(hours)s is ORDER_WAIT_HOURS.
        "order_sla": _l(
            "Orders that came in in the range (test orders excluded), per partner: in time "
            "= taken out of review or approval (status new or quote sent) within "
            "%(hours)s working hours; late = after that, or still waiting past it. Share in "
            "time = in time ÷ (in time + late); the median and 90th percentile are the "
            "waits of the orders taken up. Working hours of the default business calendar, "
            "as the order desk marks them; the team filter does not apply to orders."
        ),
    }
)
DEFINITIONS["first_response_team"] = DEFINITIONS["first_response_channel"]

# Rows with no channel: what they really are (shown as the channel's name and explained,
# the same name in every table and chart: app.analytics.grouping.BY_CHANNEL).
NO_CHANNEL = _l("In Switchboard (no channel)")
NO_CHANNEL_DEFINITION = _l(
    "In Switchboard (no channel): conversations opened in Switchboard itself (by hand, "
    "through the API or by an automation such as a low customer rating) without a channel."
)
NO_TEAM = _l("No team")
# Orders of our own intakes (form, e-mail, by hand): no partner sent them.
NO_PARTNER = _l("No partner (own intake)")
NO_TEAM_DEFINITION = _l("No team: not assigned to a team.")

# What each series of the volume chart (one channel, by its type) counts.
_CUSTOMER_SERIES = _l(
    "Messages with customers on this channel: theirs, our replies and automatic replies."
)
SERIES_DEFINITIONS = {
    None: _l(
        "Internal notes written in customer conversations, and the messages of "
        "conversations opened in Switchboard without a channel."
    ),
    ChannelType.EMAIL_OUTLOOK: _CUSTOMER_SERIES,
    ChannelType.WHATSAPP_BUSINESS: _CUSTOMER_SERIES,
    ChannelType.SMS: _CUSTOMER_SERIES,
    ChannelType.PHONE_CALL: _l("Phone calls agents logged, inbound and outbound, one per call."),
    ChannelType.INTERNAL_COMMENT: _l(
        "Notes in internal conversations between colleagues, without a customer."
    ),
    ChannelType.INTERNAL_TASK: _l("Notes in the conversations of internal tasks."),
    ChannelType.INTERNAL_TICKET: _l("Notes in internal tickets."),
}


def series_definition(channel_type: str | None) -> str:
    """The one line a volume series (a channel of this type, None: no channel) counts."""
    kind = ChannelType(channel_type) if channel_type is not None else None
    return str(SERIES_DEFINITIONS.get(kind, _CUSTOMER_SERIES))


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

# The columns of the SLA table's missed conversations (app.analytics.sla_misses).
MISS_DEFINITIONS = {
    "subject": _l("The conversation that missed its deadline (opens it), and its channel."),
    "deadline": _l(
        "The answer that came too late: the first response, or a later one (the customer "
        "wrote again, or a colleague escalated); and how it ended."
    ),
    "late": _l(
        "Business time (opening hours) from the deadline to our reply, or to now while the "
        "customer still waits; empty when no written reply followed."
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
    "csat_agent.label": _l("The agent who had the rated conversation when it was resolved."),
    "csat_team.label": _l("The team the rated conversation had when it was resolved."),
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
    # The order SLA (app/analytics/order_sla.py).
    "order_sla.label": _l("The partner that sent the order; own intakes together."),
    "order_sla.n": _l("Live orders that came in in the range and waited for a person."),
    "order_sla.in_time": _l("Taken out of review or approval within the working-hours limit."),
    "order_sla.late": _l(
        "Taken out of review or approval after the limit, or still waiting past it."
    ),
    "order_sla.running": _l("Still to review or approve, the limit still ahead: not rated yet."),
    "order_sla.share": _l("In time ÷ (in time + late)."),
    "order_sla.median": _l(
        "Half of the orders taken up waited this long or shorter, in working hours."
    ),
    "order_sla.p90": _l(
        "Nine in ten of the orders taken up waited this long or shorter, in working hours."
    ),
    "order_sla.waiting_now": _l(
        "Orders to review or approve right now that have waited past the limit, whenever "
        "they came in: the ones the order desk marks."
    ),
    # The calls card (app/analytics/calls.py).
    "calls_by_day.day": _l("The Amsterdam day the call was logged for."),
    "agent": _l("Who made or took the call."),
    "outcome": _l("How the call ended, as logged."),
    "calls": _l("Calls logged, inbound and outbound, every outcome."),
    "reached": _l("Calls in which we spoke to the other side."),
    "talk": _l("Total talk time of the calls."),
}


def column_definition(table: Table, column: Column) -> str:
    """The one-line definition of a figure's column, shown on hover and to screen readers.

    A column that brings its own (a volume series) keeps it; a channel or team column
    explains its "no channel" or "no team" row only when the table has one.
    """
    if column.definition:
        return column.definition
    figure, key = table.key, column.key
    definition = COLUMN_DEFINITIONS.get(f"{figure}.{key}", COLUMN_DEFINITIONS.get(key))
    text = str(definition) if definition is not None else ""
    if key != "label":
        return text
    labels = {str(row.get("label")) for row in table.rows}
    if text == str(_CHANNEL) and str(NO_CHANNEL) in labels:
        return f"{text} {NO_CHANNEL_DEFINITION}"
    if text == str(_TEAM) and str(NO_TEAM) in labels:
        return f"{text} {NO_TEAM_DEFINITION}"
    return text
