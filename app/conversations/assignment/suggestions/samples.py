"""The conversations the classifier learns from, and the question a new one asks.

A sample is one of our own closed customer conversations: its customer's first
message (subject and text), the channel it came in on, whether the customer had
an order placed before it started, the team it ended with, and its tags that
are somebody's skill. "Had an order before it started" is read the same way for
a new conversation, so training and routing see the same thing: an order linked
to the conversation afterwards would be a look into the future.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.conversations.assignment.suggestions.text import Question
from app.platform.extensions import db
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationThread,
    Order,
    User,
)
from app.platform.models.enums import MessageType, ThreadStatus
from app.platform.models.urgency import INTERNAL_CHANNEL_TYPES, INTERNAL_THREAD_TYPES

Thread, Message, Channel = CommunicationThread, CommunicationMessage, CommunicationChannel
CLOSED = (ThreadStatus.RESOLVED, ThreadStatus.CLOSED)
# The newest this many closed conversations are read: enough for every team's
# language, and a training run stays well inside a minute.
MAX_SAMPLES = 30_000
# The conversations started in the last two weeks are never trained on: the
# model is measured on them.
HOLDOUT_DAYS = 14
# Fewer closed conversations than this to learn from (or one team only) make no
# model: its suggestions would be guesses.
MIN_TRAINING_SAMPLES = 40


@dataclass(frozen=True)
class Sample:
    """One closed conversation: what was asked, and where it ended up."""

    started_at: datetime
    question: Question
    team_id: str
    skills: tuple[str, ...] = ()


def _had_order(thread=Thread) -> sa.ColumnElement[bool]:
    """The conversation's customer had an order placed before the conversation started."""
    return sa.exists().where(
        sa.or_(
            Order.account_contact_id == thread.contact_id,
            Order.end_customer_contact_id == thread.contact_id,
        ),
        Order.created_at < thread.created_at,
    )


def _first_customer_messages(which: sa.ColumnElement[bool]) -> sa.Subquery:
    """Customer messages of the threads ``which`` picks, numbered oldest first (n = 1)."""
    return (
        sa.select(
            Message.thread_id,
            Message.subject,
            Message.message_content,
            sa.func.row_number()
            .over(partition_by=Message.thread_id, order_by=(Message.created_at, Message.id))
            .label("n"),
        )
        .where(Message.message_type == MessageType.INCOMING, which)
        .subquery()
    )


def _customer_conversation() -> sa.ColumnElement[bool]:
    internal_channels = sa.select(Channel.id).where(
        Channel.channel_type.in_(INTERNAL_CHANNEL_TYPES)
    )
    return sa.and_(
        sa.or_(Thread.channel_id.is_(None), Thread.channel_id.not_in(internal_channels)),
        Thread.thread_type.not_in(INTERNAL_THREAD_TYPES),
    )


def _text(subject: str | None, content: str | None) -> str:
    return "\n".join(part for part in (subject, content) if part and part.strip())


def known_skills() -> set[str]:
    """Every skill somebody active has, lower case: the tags worth learning."""
    skills: set[str] = set()
    for person_skills in db.session.scalars(
        sa.select(User.skills).where(User.is_active_account.is_(True))
    ):
        skills.update(str(skill).strip().lower() for skill in person_skills or [] if skill)
    return skills


def closed_conversations(limit: int = MAX_SAMPLES) -> list[Sample]:
    """The newest ``limit`` closed customer conversations with a team, oldest first."""
    candidates = (
        sa.select(Thread.id)
        .where(
            Thread.status.in_(CLOSED),
            Thread.assigned_team_id.is_not(None),
            _customer_conversation(),
        )
        .order_by(Thread.created_at.desc())
        .limit(limit)
    )
    first = _first_customer_messages(Message.thread_id.in_(candidates))
    rows = db.session.execute(
        sa.select(
            Thread.created_at,
            Thread.assigned_team_id,
            Thread.tags,
            Channel.channel_type,
            _had_order().label("had_order"),
            first.c.subject,
            first.c.message_content,
        )
        .join(first, sa.and_(first.c.thread_id == Thread.id, first.c.n == 1))
        .outerjoin(Channel, Channel.id == Thread.channel_id)
        .order_by(Thread.created_at, Thread.id)
    )
    skills = known_skills()
    samples = []
    for started_at, team_id, tags, channel_type, had_order, subject, content in rows:
        text = _text(subject, content)
        if not text:
            continue  # erased (GDPR) or an attachment alone: nothing to learn from
        tagged = sorted({str(tag).strip().lower() for tag in tags or []} & skills)
        samples.append(
            Sample(
                started_at=started_at,
                question=Question(text, _channel_name(channel_type), bool(had_order)),
                team_id=str(team_id),
                skills=tuple(tagged),
            )
        )
    return samples


def question_for(thread_id: uuid.UUID) -> Question | None:
    """What a new conversation asks, as in :func:`closed_conversations`; None without
    a customer message to read."""
    first = _first_customer_messages(Message.thread_id == thread_id)
    row = db.session.execute(
        sa.select(
            Channel.channel_type,
            _had_order().label("had_order"),
            first.c.subject,
            first.c.message_content,
        )
        .select_from(Thread)
        .join(first, sa.and_(first.c.thread_id == Thread.id, first.c.n == 1))
        .outerjoin(Channel, Channel.id == Thread.channel_id)
        .where(Thread.id == thread_id)
    ).first()
    if row is None:
        return None
    channel_type, had_order, subject, content = row
    text = _text(subject, content)
    return Question(text, _channel_name(channel_type), bool(had_order)) if text else None


def _channel_name(channel_type) -> str:
    return getattr(channel_type, "value", channel_type) or "none"
