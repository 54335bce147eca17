"""Ranking a customer message's suggestions when an agent is about to see them.

Nothing is ranked as messages arrive: most are read by nobody with a composer
open (a partner's API, a conversation closed by a rule, a burst after an outage),
and ranking every one cost the workers a third of their time per message. When a
thread's composer shows its latest customer message without a set,
:func:`unranked_message` says so and the composer fetches the chips
(``app.conversations.workspace.web.suggestions``), which calls :func:`rank_latest`: the
candidates are ranked (:mod:`app.conversations.reply_suggestions.ranking`) and up to three stored
per
set: ``open`` (anything may be sent) and, where the customer can be answered on
WhatsApp, ``approved`` (approved templates only, for when the 24-hour window has
closed by the time an agent answers). Each set's row is claimed first with a
unique key (message, set): two agents opening the thread at once store one set;
the second finds the claim and reads the first one's.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.conversations.languages import customer_language
from app.conversations.message_templates.rendering import variables_for_thread
from app.conversations.reply_suggestions.ranking import Situation, rank_sets
from app.conversations.reply_suggestions.text import own_words
from app.platform.database import upsert_insert
from app.platform.extensions import db
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationThread,
    ReplySuggestion,
    SuggestionSet,
)
from app.platform.models.enums import ChannelType, MessageType, TemplateChannelType
from app.platform.transactions import commit

log = logging.getLogger(__name__)

OPEN, APPROVED = "open", "approved"
# The customer's latest few messages since our last answer make the question.
QUESTION_MESSAGES = 3
# The channels a template can be written for: the ones a suggested reply can go out on.
REPLY_CHANNELS = frozenset(kind.value for kind in TemplateChannelType)


def unranked_message(thread: CommunicationThread) -> uuid.UUID | None:
    """The thread's latest customer message if it has no set yet and is unanswered.

    One indexed statement, read as the composer opens: None when the set is
    there, when we wrote to the customer since (nothing is suggested for a
    message answered already), or when the customer never wrote.
    """
    row = db.session.execute(_unranked_statement(), {"thread_id": thread.id}).first()
    return row.id if row is not None and not row.ranked and not row.answered else None


@functools.cache
def _unranked_statement() -> sa.Select:
    M = CommunicationMessage
    latest = (
        sa.select(M.id, M.created_at)
        .where(M.thread_id == sa.bindparam("thread_id"), M.message_type == MessageType.INCOMING)
        .order_by(M.created_at.desc(), M.id.desc())  # as the timeline orders
        .limit(1)
        .subquery()
    )
    answer = so.aliased(M)
    ranked = sa.exists().where(SuggestionSet.message_id == latest.c.id)
    answered = sa.exists().where(
        answer.thread_id == sa.bindparam("thread_id"),
        answer.message_type == MessageType.OUTGOING,
        answer.created_at > latest.c.created_at,
    )
    return sa.select(latest.c.id, ranked.label("ranked"), answered.label("answered"))


def rank_latest(thread: CommunicationThread) -> int:
    """Rank and store the sets of the thread's latest customer message if it has none."""
    message_id = unranked_message(thread)
    return compute_suggestions(str(message_id)) if message_id is not None else 0


def compute_suggestions(message_id: str) -> int:
    """Rank and store the suggestions for customer message ``message_id``; sets stored."""
    started = time.perf_counter()
    found = db.session.execute(_message_and_thread(), {"id": uuid.UUID(message_id)}).first()
    if found is None:
        return 0
    message, thread = found
    if message.message_type != MessageType.INCOMING:
        return 0
    said = _said_around(message)
    if said.newer:
        return 0  # the conversation's suggestions are the newer message's
    situation = situation_for(message, thread, said)
    # A set already stored (a duplicate delivery, another worker) is not claimed again.
    claims = _claim(message, thread, _set_names(thread), situation)
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
    commit()
    return len(stored)


@functools.cache
def _message_and_thread() -> sa.Select:
    """The message with its thread, the thread's contact and order: one statement."""
    return (
        sa.select(CommunicationMessage, CommunicationThread)
        .join(CommunicationThread, CommunicationThread.id == CommunicationMessage.thread_id)
        .options(
            so.joinedload(CommunicationThread.contact), so.joinedload(CommunicationThread.order)
        )
        .where(CommunicationMessage.id == sa.bindparam("id"))
    )


@dataclass(frozen=True)
class _Said:
    """A message's place in its conversation, read in one statement (:func:`_said_around`)."""

    newer: bool  # the customer wrote again since
    recent: list  # (id, type, words) of the last few before it, newest first
    first: tuple | None  # (id, words) of the customer's first message


def _said_around(message: CommunicationMessage) -> _Said:
    rows = db.session.execute(
        _said_statement(), {"thread_id": message.thread_id, "at": message.created_at}
    ).all()
    newer = any(part == "newer" for part, *_ in rows)
    recent = [(ident, kind, words) for part, ident, kind, words in rows if part == "recent"]
    first = next(((ident, words) for part, ident, _, words in rows if part == "first"), None)
    return _Said(newer, recent, first)


@functools.cache
def _said_statement():
    M = CommunicationMessage
    columns = (M.id, M.message_type, M.message_content)
    in_thread = M.thread_id == sa.bindparam("thread_id")
    at = sa.bindparam("at", type_=M.created_at.type)
    newer = (
        sa.select(sa.literal("newer").label("part"), *columns)
        .where(in_thread, M.message_type == MessageType.INCOMING, M.created_at > at)
        .limit(1)
    )
    recent = (
        sa.select(sa.literal("recent").label("part"), *columns)
        .where(
            in_thread,
            M.created_at <= at,
            M.message_type.in_((MessageType.INCOMING, MessageType.OUTGOING)),
        )
        .order_by(M.created_at.desc())
        .limit(QUESTION_MESSAGES)
    )
    first = (
        sa.select(sa.literal("first").label("part"), *columns)
        .where(in_thread, M.message_type == MessageType.INCOMING)
        .order_by(M.created_at, M.id)
        .limit(1)
    )
    # Each part a subquery: SQLite allows no LIMIT inside a compound select's parts.
    parts = [part.subquery() for part in (newer, recent, first)]
    return sa.union_all(*(sa.select(part) for part in parts))


def situation_for(
    message: CommunicationMessage, thread: CommunicationThread, said: _Said | None = None
) -> Situation:
    """What the customer asked (their words since our last answer) and in what context."""
    said = said or _said_around(message)
    asked = []
    for ident, kind, words in said.recent:
        if kind != MessageType.INCOMING:
            break  # what came before our last answer was answered already
        asked.append((ident, words))
    # Told when the message was stored (None: too short to tell, so the customer's).
    language = message.language or customer_language(thread.contact)
    order = thread.order
    # The customer's first words in the conversation, unless they are the question.
    opening = said.first if said.first and said.first[0] not in {i for i, _ in asked} else None
    return Situation(
        question=" ".join(own_words(words) for _, words in reversed(asked)),
        language=language,
        channel_type=_reply_channel_type(message, thread),
        order_status=order.status.value if order is not None and order.status else None,
        values=variables_for_thread(thread, None, language=language),
        thread_type=thread.thread_type.value if thread.thread_type else None,
        topic=own_words(opening[1]) if opening else "",
    )


def _reply_channel_type(message: CommunicationMessage, thread: CommunicationThread) -> str | None:
    """The channel the answer goes out on, as templates name channels: the message's own,
    or the conversation's when the customer reached us another way (a logged phone call
    in a WhatsApp conversation is answered on WhatsApp; no template is for a call)."""
    for channel_id in (message.channel_id, thread.channel_id):
        channel = db.session.get(CommunicationChannel, channel_id) if channel_id else None
        if channel is not None and channel.channel_type.value in REPLY_CHANNELS:
            return channel.channel_type.value
    return None


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
    set_names: list[str],
    situation: Situation,
) -> dict[str, uuid.UUID]:
    """The new sets' ids by name; a set this message has stored (or is storing) already
    is left out.

    A second job waits here for the first one's transaction: committed, it finds
    the rows and stores nothing; rolled back, it takes over. All sets in one
    statement, built once per process (a statement built anew per message is
    compiled anew by SQLAlchemy, which cost more than the insert).
    """
    statement = _claim_statement(db.session.get_bind().dialect.name, len(set_names))
    values = {}
    for n, set_name in enumerate(set_names):
        values |= {
            f"id_{n}": uuid.uuid4(),
            f"message_id_{n}": message.id,
            f"thread_id_{n}": thread.id,
            f"set_name_{n}": set_name,
            f"message_at_{n}": message.created_at,
            f"language_{n}": situation.language,
            f"channel_type_{n}": situation.channel_type,
            f"order_status_{n}": situation.order_status,
        }
    rows = db.session.execute(statement, values).all()
    # In the order asked for ("open" first), whichever order the rows came back in.
    claimed = {row.set_name: row.id for row in rows}
    return {name: claimed[name] for name in set_names if name in claimed}


_CLAIM_COLUMNS = (
    "id",
    "message_id",
    "thread_id",
    "set_name",
    "message_at",
    "language",
    "channel_type",
    "order_status",
)


@functools.cache
def _claim_statement(dialect: str, sets: int):
    table = SuggestionSet.__table__
    rows = [
        {name: sa.bindparam(f"{name}_{n}", type_=table.c[name].type) for name in _CLAIM_COLUMNS}
        for n in range(sets)
    ]
    # The table, not the model: an ORM insert given parameters is a bulk insert.
    return (
        upsert_insert(table, dialect)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["message_id", "set_name"])
        .returning(table.c.id, table.c.set_name)
    )
