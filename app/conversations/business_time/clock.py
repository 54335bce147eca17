"""A thread's SLA clock: cycles, pauses, first response and resolution.

A *cycle* is one customer waiting for one answer. It starts when a customer
message arrives and no cycle is running, and ends when staff reply. While it
runs, ``response_due_at`` is the deadline (business time, after pauses) and
``sla_next_check_at`` the moment of the next escalation-ladder step, which is
what the ladder's scan reads by index.

Column use:

- ``sla_cycle`` counts cycles; a ladder step fires once per (thread, cycle).
- ``sla_started_at`` / ``sla_target_seconds``: start and length (business
  seconds) of the current or last cycle; kept after it ends, for reports.
- ``sla_paused_at`` is set while the thread waits on the customer;
  ``sla_paused_seconds`` banks the business seconds paused in this cycle.
  While paused ``response_due_at`` is empty: nothing is owed, and the inbox
  ranks the thread with the other deadline-free ones.
- ``sla_stage`` is the highest ladder step fired in this cycle.

A cycle is running while it has a deadline or is paused. A person setting the
status to escalated starts a fresh cycle under the escalated policy (30
minutes); the ladder's own escalation at 100 % does not, so its 24-hours-overdue
step still follows in the same cycle.

Nothing here commits or queries much: the callers (inbound processing, replies,
status edits) commit with the rest of their change.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from app.conversations.business_time.calendar import (
    Schedule,
    add_business_seconds,
    business_seconds_between,
    calendar_for,
    schedule_of,
)
from app.conversations.business_time.policies import target_seconds
from app.platform.kept import Kept
from app.platform.models import CommunicationThread
from app.platform.models.enums import ThreadStatus
from app.platform.models.sla import SlaPolicy

# Ladder steps and the share of the target at which each falls due; step 4 is
# a wall-clock day after the deadline (executives count real hours overdue).
STEP_REMINDER, STEP_TEAM_LEAD, STEP_ESCALATION, STEP_EXECUTIVE = 1, 2, 3, 4
LAST_STEP = STEP_EXECUTIVE
STEP_FRACTIONS = {STEP_REMINDER: 0.75, STEP_TEAM_LEAD: 0.90, STEP_ESCALATION: 1.0}
EXECUTIVE_AFTER = timedelta(hours=24)

CLOSED = (ThreadStatus.RESOLVED, ThreadStatus.CLOSED)


# Every new SLA cycle reads the channel's calendar; calendars change seldom. Kept
# by the calendar the channel names (None: the default calendar).
_schedules: Kept[Schedule] = Kept()


def schedule_for(thread: CommunicationThread) -> Schedule:
    """The business hours the thread's clock runs in (its channel's calendar)."""
    channel = thread.channel
    key = channel.business_calendar_id if channel is not None else None
    return _schedules.get(key, lambda: schedule_of(calendar_for(channel)))


def is_running(thread: CommunicationThread) -> bool:
    return thread.sla_started_at is not None and (
        thread.response_due_at is not None or thread.sla_paused_at is not None
    )


def step_moment(schedule: Schedule, thread: CommunicationThread, step: int) -> datetime | None:
    """When ladder ``step`` falls due in the running cycle (pauses included)."""
    if thread.sla_started_at is None or thread.sla_target_seconds is None:
        return None
    if step == STEP_EXECUTIVE:
        due = step_moment(schedule, thread, STEP_ESCALATION)
        return due + EXECUTIVE_AFTER if due else None
    fraction = STEP_FRACTIONS.get(step)
    if fraction is None:
        return None
    seconds = math.ceil(thread.sla_target_seconds * fraction) + (thread.sla_paused_seconds or 0)
    return add_business_seconds(schedule, thread.sla_started_at, seconds)


def schedule_next_check(schedule: Schedule, thread: CommunicationThread) -> None:
    """Point ``sla_next_check_at`` at the step after ``sla_stage`` (None after the last)."""
    following = (thread.sla_stage or 0) + 1
    thread.sla_next_check_at = (
        step_moment(schedule, thread, following) if following <= LAST_STEP else None
    )


def start_cycle(
    thread: CommunicationThread,
    at: datetime,
    *,
    escalated: bool | None = None,
    schedule: Schedule | None = None,
    policies: list[SlaPolicy] | None = None,
) -> None:
    """Start a new SLA cycle at ``at`` (a customer message, or an escalation).

    ``escalated`` defaults to whether the thread is in status escalated, which
    selects the escalated policy.
    """
    schedule = schedule or schedule_for(thread)
    if escalated is None:
        escalated = thread.status == ThreadStatus.ESCALATED
    thread.sla_cycle = (thread.sla_cycle or 0) + 1
    thread.sla_started_at = at
    thread.sla_target_seconds = target_seconds(thread, escalated=escalated, policies=policies)
    thread.sla_paused_at = None
    thread.sla_paused_seconds = 0
    thread.sla_stage = 0
    thread.response_due_at = step_moment(schedule, thread, STEP_ESCALATION)
    schedule_next_check(schedule, thread)


def customer_wrote(thread: CommunicationThread, at: datetime) -> None:
    """An inbound customer message: resume a paused cycle, or start one if none runs."""
    if is_running(thread):
        resume(thread, at)  # nothing to do unless the clock was paused
    else:
        start_cycle(thread, at)


def skip_passed_steps(thread: CommunicationThread, now: datetime, schedule: Schedule) -> None:
    """Mark the ladder steps whose moment is already past as done, without alerts.

    For data loaded with history (demo data, imports): the scan should alert on
    what falls due from now on, not fire a burst of stale alerts on its first run.
    """
    stage = thread.sla_stage or 0
    while stage < LAST_STEP:
        moment = step_moment(schedule, thread, stage + 1)
        if moment is None or moment > now:
            break
        stage += 1
    thread.sla_stage = stage
    schedule_next_check(schedule, thread)


def record_first_response(thread: CommunicationThread, at: datetime) -> None:
    """Staff answered the customer: the cycle ends; the first answer is recorded once."""
    if thread.first_response_at is None:
        thread.first_response_at = at
        if is_running(thread):
            thread.first_response_seconds = max(_counted_seconds(thread, at), 0)
    _end_cycle(thread)


def pause(thread: CommunicationThread, at: datetime) -> None:
    """The thread now waits on the customer: stop the clock."""
    if not is_running(thread) or thread.sla_paused_at is not None:
        return
    thread.sla_paused_at = at
    thread.response_due_at = None
    thread.sla_next_check_at = None


def resume(thread: CommunicationThread, at: datetime) -> None:
    """The wait is over: bank the paused business time and move the deadline by it."""
    if thread.sla_paused_at is None:
        return
    schedule = schedule_for(thread)
    paused = max(business_seconds_between(schedule, thread.sla_paused_at, at), 0)
    thread.sla_paused_seconds = (thread.sla_paused_seconds or 0) + paused
    thread.sla_paused_at = None
    thread.response_due_at = step_moment(schedule, thread, STEP_ESCALATION)
    schedule_next_check(schedule, thread)


def resolve(thread: CommunicationThread, at: datetime) -> None:
    """The thread is resolved or closed: record how long it took and stop the clock.

    ``resolution_seconds`` is business time from the thread's creation.
    """
    thread.resolved_at = thread.resolved_at or at
    thread.resolution_seconds = max(
        business_seconds_between(schedule_for(thread), thread.created_at, thread.resolved_at), 0
    )
    _end_cycle(thread)


def reopen(thread: CommunicationThread) -> None:
    """A resolved thread is open again; its resolution no longer stands."""
    thread.resolved_at = None
    thread.resolution_seconds = None


def status_changed(thread: CommunicationThread, previous: ThreadStatus, at: datetime) -> None:
    """Keep the clock in step with a status a person (or the API) just set."""
    current = thread.status
    if current == previous:
        return
    if current in CLOSED:
        resolve(thread, at)
        return
    if previous in CLOSED:
        reopen(thread)
    if previous == ThreadStatus.WAITING_CUSTOMER:
        resume(thread, at)
    if current == ThreadStatus.WAITING_CUSTOMER:
        pause(thread, at)
    elif current == ThreadStatus.ESCALATED:
        # A person escalated: the managers now owe an answer within the escalated target.
        start_cycle(thread, at, escalated=True)


def _counted_seconds(thread: CommunicationThread, at: datetime) -> int:
    """Business seconds the current cycle has run, pauses excluded."""
    schedule = schedule_for(thread)
    seconds = business_seconds_between(schedule, thread.sla_started_at, at)
    seconds -= thread.sla_paused_seconds or 0
    if thread.sla_paused_at is not None:
        seconds -= business_seconds_between(schedule, thread.sla_paused_at, at)
    return seconds


def _end_cycle(thread: CommunicationThread) -> None:
    thread.response_due_at = None
    thread.sla_next_check_at = None
    thread.sla_paused_at = None
