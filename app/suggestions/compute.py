"""Computing a customer message's suggestions when it arrives, not when the thread opens.

:func:`compute_suggestions` is the job a listener queues after the commit that
stored a customer's message (ids only). It ranks the candidates
(:mod:`app.suggestions.ranking`) and stores up to three per set: ``open``
(anything may be sent) and, where the customer can be answered on WhatsApp,
``approved`` (approved templates only, for when the 24-hour window has closed
by the time an agent answers). Each set's row is claimed first with a unique
key (message, set): a job delivered twice, or two workers, store one set; the
second finds the claim and stores nothing. Then open pages of the thread hear
of it (``suggestions:ready``) and fetch the row of chips.
"""

from __future__ import annotations

import logging
import time
import uuid

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.database import upsert_insert
from app.extensions import db
from app.inbox.access import thread_rooms
from app.jobs.queues import enqueue
from app.languages import customer_language
from app.languages.detection import detect_language
from app.message_templates.rendering import variables_for_thread
from app.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationThread,
    ReplySuggestion,
    SuggestionSet,
)
from app.models.enums import ChannelType, MessageType, TemplateChannelType
from app.realtime import publish
from app.suggestions.ranking import Situation, rank_sets
from app.suggestions.text import own_words
from app.transactions import after_commit, commit

log = logging.getLogger(__name__)

COMPUTE_JOB = "app.suggestions.compute.compute_suggestions"
OPEN, APPROVED = "open", "approved"
# The customer's latest few messages since our last answer make the question.
QUESTION_MESSAGES = 3
READY_EVENT = "suggestions:ready"
# The channels a template can be written for: the ones a suggested reply can go out on.
REPLY_CHANNELS = frozenset(kind.value for kind in TemplateChannelType)


def enqueue_compute(message_id: uuid.UUID | str) -> None:
    enqueue(COMPUTE_JOB, str(message_id))


def compute_suggestions(message_id: str) -> int:
    """Rank and store the suggestions for customer message ``message_id``; sets stored."""
    started = time.perf_counter()
    message = db.session.get(CommunicationMessage, uuid.UUID(message_id))
    if message is None or message.message_type != MessageType.INCOMING:
        return 0
    thread = db.session.scalar(
        sa.select(CommunicationThread)
        .options(
            so.joinedload(CommunicationThread.contact), so.joinedload(CommunicationThread.order)
        )
        .where(CommunicationThread.id == message.thread_id)
    )
    if thread is None or _newer_customer_message(message):
        return 0  # the newer message's own job suggests for the conversation
    situation = situation_for(message, thread)
    claims = {}
    for set_name in _set_names(thread):
        claimed = _claim(message, thread, set_name, situation)
        if claimed is not None:  # else stored already (a duplicate delivery, another worker)
            claims[set_name] = claimed
    ranked = rank_sets(situation, [name == APPROVED for name in claims]) if claims else {}
    stored = []
    for set_name, claimed in claims.items():
        chosen = ranked[set_name == APPROVED]
        for position, candidate in enumerate(chosen, start=1):
            db.session.add(
                ReplySuggestion(
                    set_id=claimed,
                    rank=position,
                    kind=candidate.kind,
                    template_id=candidate.template_id,
                    candidate_key=candidate.key,
                    title=candidate.title[:120],
                    body=candidate.body,
                    language=candidate.language,
                    score=round(candidate.score, 6),
                )
            )
        stored.append(claimed)
    if stored:
        elapsed = round((time.perf_counter() - started) * 1000, 2)
        db.session.execute(
            sa.update(SuggestionSet).where(SuggestionSet.id.in_(stored)).values(compute_ms=elapsed)
        )
        rooms = thread_rooms(thread)
        payload = {"thread_id": str(thread.id), "message_id": str(message.id)}
        after_commit(lambda: publish(READY_EVENT, payload, rooms=rooms))
    commit()
    return len(stored)


def situation_for(message: CommunicationMessage, thread: CommunicationThread) -> Situation:
    """What the customer asked (their words since our last answer) and in what context."""
    recent = db.session.scalars(
        sa.select(CommunicationMessage)
        .where(
            CommunicationMessage.thread_id == thread.id,
            CommunicationMessage.created_at <= message.created_at,
            CommunicationMessage.message_type.in_((MessageType.INCOMING, MessageType.OUTGOING)),
        )
        .order_by(CommunicationMessage.created_at.desc())
        .limit(QUESTION_MESSAGES)
    ).all()
    asked: list[CommunicationMessage] = []
    for earlier in recent:
        if earlier.message_type != MessageType.INCOMING:
            break  # what came before our last answer was answered already
        asked.append(earlier)
    # The language job may not have run yet (both jobs follow the same event): read
    # the message here too, so the first English message already gets English replies.
    language = (
        message.language
        or detect_language(message.message_content)
        or customer_language(thread.contact)
    )
    order = thread.order
    return Situation(
        question=" ".join(own_words(earlier.message_content) for earlier in reversed(asked)),
        language=language,
        channel_type=_reply_channel_type(message, thread),
        order_status=order.status.value if order is not None and order.status else None,
        values=variables_for_thread(thread, None, language=language),
        thread_type=thread.thread_type.value if thread.thread_type else None,
        topic=_opening(thread, asked),
    )


def _opening(thread: CommunicationThread, asked: list[CommunicationMessage]) -> str:
    """The customer's first words in the conversation, unless they are the question."""
    first = db.session.scalar(
        sa.select(CommunicationMessage)
        .where(
            CommunicationMessage.thread_id == thread.id,
            CommunicationMessage.message_type == MessageType.INCOMING,
        )
        .order_by(CommunicationMessage.created_at, CommunicationMessage.id)
        .limit(1)
    )
    if first is None or first in asked:
        return ""
    return own_words(first.message_content)


def _reply_channel_type(message: CommunicationMessage, thread: CommunicationThread) -> str | None:
    """The channel the answer goes out on, as templates name channels: the message's own,
    or the conversation's when the customer reached us another way (a logged phone call
    in a WhatsApp conversation is answered on WhatsApp; no template is for a call)."""
    for channel_id in (message.channel_id, thread.channel_id):
        channel = db.session.get(CommunicationChannel, channel_id) if channel_id else None
        if channel is not None and channel.channel_type.value in REPLY_CHANNELS:
            return channel.channel_type.value
    return None


def _newer_customer_message(message: CommunicationMessage) -> bool:
    newer = db.session.scalar(
        sa.select(CommunicationMessage.id)
        .where(
            CommunicationMessage.thread_id == message.thread_id,
            CommunicationMessage.message_type == MessageType.INCOMING,
            CommunicationMessage.created_at > message.created_at,
        )
        .limit(1)
    )
    return newer is not None


def _set_names(thread: CommunicationThread) -> list[str]:
    """``open`` always; ``approved`` too when the customer can be answered on WhatsApp."""
    names = [OPEN]
    phone = thread.contact is not None and bool(thread.contact.phone)
    if phone and _whatsapp_channel_exists():
        names.append(APPROVED)
    return names


def _whatsapp_channel_exists() -> bool:
    return (
        db.session.scalar(
            sa.select(CommunicationChannel.id)
            .where(
                CommunicationChannel.channel_type == ChannelType.WHATSAPP_BUSINESS,
                CommunicationChannel.is_active.is_(True),
            )
            .limit(1)
        )
        is not None
    )


def _claim(
    message: CommunicationMessage,
    thread: CommunicationThread,
    set_name: str,
    situation: Situation,
) -> uuid.UUID | None:
    """The new set's id, or None when this message's set is stored (or being stored) already.

    A second job waits here for the first one's transaction: committed, it finds
    the row and stores nothing; rolled back, it takes over.
    """
    dialect = db.session.get_bind().dialect.name
    insert = upsert_insert(SuggestionSet, dialect).values(
        id=uuid.uuid4(),
        message_id=message.id,
        thread_id=thread.id,
        set_name=set_name,
        message_at=message.created_at,
        language=situation.language,
        channel_type=situation.channel_type,
        order_status=situation.order_status,
    )
    return db.session.scalar(
        insert.on_conflict_do_nothing(index_elements=["message_id", "set_name"]).returning(
            SuggestionSet.id
        )
    )
