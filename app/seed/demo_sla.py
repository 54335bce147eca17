"""The demo's SLA clocks: a normal morning, whenever ``make run`` starts.

Waiting times are drawn in *business* time and counted back from "now" on the
channel's calendar, so a demo started on a Sunday evening looks like a demo
started on a Tuesday morning. A normal morning's queue is short: a handful of
WhatsApp customers and a couple of dozen e-mails wait for an answer (the
desk answered the rest; :data:`WAITING`), most of them well inside their
deadline, a few near it (e-mails, whose deadline is still more than a quarter
of an hour away), exactly one overdue. Nothing waits past the assignment rule's
escalation hours either, so neither the SLA ladder nor the escalation job has a
backlog to fire at on its first scan.

Conversations we already answered get the cycle the live clock would have
left behind (started at the customer's last message, ended by our answer), and
an answer that came after its deadline the escalation the ladder wrote at that
deadline, so the SLA figures count them like live traffic (a normal month
misses a few).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.conversations.business_time import clock as sla_clock
from app.conversations.business_time.calendar import (
    Schedule,
    add_business_seconds,
    subtract_business_seconds,
)
from app.conversations.business_time.policies import target_seconds
from app.platform.extensions import db
from app.platform.models import CommunicationChannel, CommunicationThread, SlaAlert
from app.platform.models.enums import ChannelType, ThreadStatus, ThreadType
from app.platform.models.urgency import INTERNAL_CHANNEL_TYPES
from app.seed.demo_catalogue import AUTO_ASSIGNMENT_RULES

# How many customer conversations of each channel still wait for our answer; the
# desk has answered the others (an escalated one too: a team lead took it over).
WAITING = {ChannelType.EMAIL_OUTLOOK: 18, ChannelType.WHATSAPP_BUSINESS: 5, ChannelType.SMS: 1}
# How many conversations waiting on us sit near their deadline (past the 75 %
# reminder, short of the 90 % step), and how many are past it.
NEAR_DEADLINE = 4
OVERDUE = 1
# Shares of the allowed wait: a calm queue, "near", and the one overdue.
CALM = (0.03, 0.6)
NEAR = (0.77, 0.86)
OVERDUE_SHARE = 1.25
# "Near" only where that still leaves this long: the near ones must not all be
# overdue a quarter of an hour into the demo (a WhatsApp hour would be).
NEAR_LEAVES = timedelta(minutes=25)


@dataclass
class DemoSla:
    """The calendar and policies every demo thread is timed by, and the special cases left."""

    schedule: Schedule
    policies: list
    near_left: int = NEAR_DEADLINE
    overdue_left: int = OVERDUE
    # The overdue one sits in this team's queue, so the demo agent sees it ("Te laat").
    overdue_team_id: uuid.UUID | None = None
    waiting_left: dict = field(default_factory=lambda: dict(WAITING))
    # The ladder's escalations of answers that came late, added once the threads are.
    alerts: list[SlaAlert] = field(default_factory=list)

    def customer_waits(self, channel_type: ChannelType, status: ThreadStatus) -> bool:
        """Whether a customer conversation in a status that may wait on us still does."""
        if status == ThreadStatus.ESCALATED or not self.waiting_left.get(channel_type):
            return False
        self.waiting_left[channel_type] -= 1
        return True


def business_ago(schedule: Schedule, now: datetime, seconds: float) -> datetime:
    """The latest instant with ``seconds`` of opening time between it and ``now``."""
    return subtract_business_seconds(schedule, now, round(seconds)).replace(microsecond=0)


def escalation_rule_seconds(thread: CommunicationThread) -> int | None:
    """After how many business seconds the assignment rules move the thread on, if they do."""
    rule = AUTO_ASSIGNMENT_RULES.get(ThreadType(thread.thread_type).value)
    hours = rule.get("escalation_after_hours") if isinstance(rule, dict) else None
    return int(hours * 3600) if hours else None


def waiting_since(rng, sla: DemoSla, now: datetime, thread: CommunicationThread) -> datetime:
    """When the customer's unanswered message arrived (or a person escalated the thread)."""
    escalated = thread.status == ThreadStatus.ESCALATED
    target = target_seconds(thread, escalated=escalated, policies=sla.policies)
    rule = None if escalated else escalation_rule_seconds(thread)
    customer = ChannelType(thread.channel.channel_type) not in INTERNAL_CHANNEL_TYPES
    share = rng.uniform(*CALM)
    allowed = min(target, rule) if rule else target
    # Near and overdue only with the SLA deadline well before any escalation rule,
    # so "near" reads near on the page and the overdue one is not moved on start.
    if customer and not escalated and (rule is None or rule > target * OVERDUE_SHARE * 1.2):
        in_queue = sla.overdue_team_id in (None, thread.assigned_team_id)
        if sla.overdue_left and in_queue:
            sla.overdue_left -= 1
            share = OVERDUE_SHARE
        elif sla.near_left and allowed * (1 - NEAR[1]) >= NEAR_LEAVES.total_seconds():
            sla.near_left -= 1
            share = rng.uniform(*NEAR)
    return business_ago(sla.schedule, now, round(allowed * share))


def start_running_cycle(
    sla: DemoSla,
    now: datetime,
    thread: CommunicationThread,
    channel: CommunicationChannel,
    at: datetime,
) -> None:
    """The business-time cycle the clock started at ``at``, past ladder steps marked done."""
    thread.channel = channel
    with db.session.no_autoflush:
        sla_clock.start_cycle(thread, at, schedule=sla.schedule, policies=sla.policies)
    sla_clock.skip_passed_steps(thread, now, sla.schedule)


def note_late_first_answer(sla: DemoSla, thread: CommunicationThread, asked_at: datetime) -> None:
    """If the first answer came after its deadline: the ladder's escalation at that deadline."""
    if thread.first_response_at is None or not thread.sla_target_seconds:
        return
    deadline = add_business_seconds(sla.schedule, asked_at, thread.sla_target_seconds)
    if thread.first_response_at <= deadline:
        return
    sla.alerts.append(
        SlaAlert(
            thread_id=thread.id,
            sla_cycle=1,
            step=sla_clock.STEP_ESCALATION,
            due_at=deadline,
            recipients=[],
            created_at=deadline,
            updated_at=deadline,
        )
    )


def record_answered_cycle(
    sla: DemoSla, thread: CommunicationThread, channel: CommunicationChannel, at: datetime
) -> None:
    """The last cycle of an answered conversation: started at ``at``, no deadline left."""
    thread.channel = channel
    with db.session.no_autoflush:
        thread.sla_cycle = 1
        thread.sla_started_at = at
        thread.sla_target_seconds = target_seconds(thread, policies=sla.policies)
    thread.sla_stage = 0
    thread.response_due_at = None
    thread.sla_next_check_at = None
