"""``escalation_after_hours`` → ``escalation_to``: moving threads nobody answered in time.

A periodic job (every minute, see :mod:`app.platform.jobs.periodic`) looks at threads
still owed an answer (``response_due_at`` set: a reply clears it) on channels
whose rules escalate. Once a thread has waited the rule's number of business
hours (the channel's calendar) since the customer's unanswered message, it is
given to ``escalation_to``: a named person, or the least-loaded eligible
member of a team (its queue when nobody is). This happens once per thread: the
move is written to the timeline as a system line, which is also the marker.

Several workers may run the job at once: each thread is handled in its own
short transaction under a ``SKIP LOCKED`` row lock, and the marker is checked
again under that lock. The target team's row is locked before the thread's,
in the same order as inbound assignment, so the two cannot deadlock.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.conversations.assignment.rules import ChannelRules, InvalidRules, TypeRule, rules_for
from app.conversations.assignment.services import apply_assignment, describe, pick_agent
from app.conversations.business_time.calendar import business_seconds_between, calendar_for
from app.conversations.core import record_status_line
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationThread,
    Team,
)
from app.platform.models.enums import MessageType, ThreadStatus
from app.platform.system_texts import english, hours_text, text
from app.platform.transactions import commit

log = logging.getLogger(__name__)

MARKER_EVENT = "assignment_escalation"
# Waiting on the customer pauses the clock; resolved and closed owe nothing.
ESCALATABLE = (
    ThreadStatus.OPEN,
    ThreadStatus.IN_PROGRESS,
    ThreadStatus.WAITING_INTERNAL,
    ThreadStatus.ESCALATED,
)
BATCH_SIZE = 200


def escalate_unanswered_threads(now: datetime | None = None) -> int:
    """Periodic job: move threads unanswered past their rule's hours; returns how many."""
    now = now or utcnow()
    rules_by_channel = _escalating_channels()
    if not rules_by_channel:
        return 0
    shortest = min(
        rule.escalation_after_hours
        for _channel, rules in rules_by_channel.values()
        for rule in rules.by_type.values()
        if rule.escalation_after_hours
    )
    # Business hours never outrun wall-clock hours, so this wall-clock bound
    # keeps every thread that could be due and drops the rest in SQL.
    waiting_since = sa.func.coalesce(
        CommunicationThread.sla_started_at, CommunicationThread.created_at
    )
    candidate_ids = list(
        db.session.scalars(
            sa.select(CommunicationThread.id)
            .where(
                CommunicationThread.response_due_at.is_not(None),
                CommunicationThread.channel_id.in_(list(rules_by_channel)),
                CommunicationThread.status.in_(ESCALATABLE),
                waiting_since <= now - timedelta(hours=shortest),
                ~_already_escalated(),
            )
            .order_by(CommunicationThread.response_due_at)
            .limit(BATCH_SIZE)
        )
    )
    db.session.rollback()  # end the read; each thread gets its own transaction
    moved = 0
    for thread_id in candidate_ids:
        try:
            moved += _escalate_one(thread_id, rules_by_channel, now)
        except Exception:
            db.session.rollback()
            log.exception("escalating thread %s failed; the next run tries again", thread_id)
    if moved:
        log.info("escalated %d unanswered threads", moved)
    return moved


def _escalating_channels() -> dict[uuid.UUID, tuple[CommunicationChannel, ChannelRules]]:
    found = {}
    channels = db.session.scalars(
        sa.select(CommunicationChannel).where(CommunicationChannel.is_active.is_(True))
    )
    for channel in channels:
        try:
            rules = rules_for(channel)
        except InvalidRules as exc:
            log.warning("channel %s: assignment rules invalid, no escalation: %s", channel.id, exc)
            continue
        if rules and any(rule.escalation_after_hours for rule in rules.by_type.values()):
            found[channel.id] = (channel, rules)
    return found


def _already_escalated():
    return sa.exists().where(
        CommunicationMessage.thread_id == CommunicationThread.id,
        CommunicationMessage.message_type == MessageType.SYSTEM_NOTIFICATION,
        CommunicationMessage.extra["event"].as_string() == MARKER_EVENT,
    )


def _escalate_one(thread_id: uuid.UUID, rules_by_channel, now: datetime) -> int:
    peek = db.session.get(CommunicationThread, thread_id)
    channel, rules = rules_by_channel[peek.channel_id]
    rule = rules.rule_for(peek.thread_type)
    if rule is None or not rule.escalation_after_hours:
        db.session.rollback()
        return 0
    if rule.escalation_team is not None:
        _lock_team(rule.escalation_team)
    thread = db.session.scalar(
        sa.select(CommunicationThread)
        .where(
            CommunicationThread.id == thread_id,
            CommunicationThread.response_due_at.is_not(None),
            CommunicationThread.status.in_(ESCALATABLE),
            ~_already_escalated(),
        )
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if thread is None:  # answered, escalated or being handled by another worker
        db.session.rollback()
        return 0
    since = waiting_since(thread)
    waited = business_seconds_between(calendar_for(channel), since, now)
    if waited < rule.escalation_after_hours * 3600:
        db.session.rollback()
        return 0
    reason = _move(thread, rule, rules, now)
    log.info("thread %s escalated: %s", thread.id, reason)
    commit()
    return 1


def _lock_team(team: Team) -> None:
    db.session.execute(sa.select(Team.id).where(Team.id == team.id).with_for_update())


def _move(thread: CommunicationThread, rule: TypeRule, rules: ChannelRules, now) -> str:
    hours = hours_text(rule.escalation_after_hours)
    if rule.escalation_user is not None:
        person = rule.escalation_user
        team = person.team or thread.assigned_team
        reason = [text("routing.escalated_to_person", hours=hours, user=person.name)]
    else:
        team = rule.escalation_team
        pick = pick_agent(team, fallback_to_busy=rules.fallback_to_busy, ignore_skills=True)
        person = pick.user
        prefix = text("routing.escalated_to_team", hours=hours, team=team.name)
        reason = describe(rule, pick, prefix=prefix)
    apply_assignment(thread, team, person, reason)
    record_status_line(thread, reason, at=now, extra={"event": MARKER_EVENT})
    return english(reason)


def waiting_since(thread: CommunicationThread) -> datetime:
    """When the customer's still unanswered message arrived.

    The SLA clock's start when the SLA engine set one; else the first incoming
    message after our last outgoing one; else the thread's creation.
    """
    if thread.sla_started_at is not None:
        return thread.sla_started_at
    last_answer = db.session.scalar(
        sa.select(sa.func.max(CommunicationMessage.created_at)).where(
            CommunicationMessage.thread_id == thread.id,
            CommunicationMessage.message_type == MessageType.OUTGOING,
        )
    )
    query = sa.select(sa.func.min(CommunicationMessage.created_at)).where(
        CommunicationMessage.thread_id == thread.id,
        CommunicationMessage.message_type == MessageType.INCOMING,
    )
    if last_answer is not None:
        query = query.where(CommunicationMessage.created_at > last_answer)
    return db.session.scalar(query) or thread.created_at
