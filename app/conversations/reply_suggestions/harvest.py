"""Learning the team's own answers from conversations that ended well.

When a conversation is resolved or closed, :func:`harvest_conversation` (a
job, queued after the commit) takes each of our replies in it, with what the
customer had asked before it, and stores it made general
(:mod:`app.conversations.reply_suggestions.placeholders`): names, order numbers and dates become
placeholders, the sign-off goes, and a reply that names a date it cannot map
is left out. A reply sent from a template is stored as that template, so the
question teaches which template answers it. A conversation rated 1 or 2 in
the satisfaction survey ended badly: its replies are removed again (the job
runs once more when the rating comes in). One row per reply message, so
running twice, or on two workers, stores nothing twice.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.conversations.contacts.phones import normalise_phone
from app.conversations.languages import customer_language
from app.conversations.message_templates.variables import COMPANY_NAME
from app.conversations.message_templates.visit_moment import (
    amsterdam_today,
    parse_time_window,
    window_text_of,
)
from app.conversations.reply_suggestions.placeholders import ReplyContext, generalise, title_of
from app.conversations.reply_suggestions.text import own_words, sqlite_document, tsvector
from app.platform.database import upsert_insert
from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.models import (
    Article,
    CommunicationMessage,
    CommunicationThread,
    CsatResponse,
    HarvestedReply,
    OrderStatusTransition,
    ReplySuggestion,
    SuggestionOutcome,
    User,
)
from app.platform.models.enums import DeliveryStatus, MessageType, Role, ThreadStatus
from app.platform.transactions import commit

log = logging.getLogger(__name__)

HARVEST_JOB = "app.conversations.reply_suggestions.harvest.harvest_conversation"
ENDED = (ThreadStatus.RESOLVED, ThreadStatus.CLOSED)
# A rating this low or lower: the conversation did not end well.
POOR_RATING = 2
DESK_ROLES = (Role.AGENT, Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN)
# Shorter than this is an acknowledgement ("Ok!"), not an answer worth offering.
MIN_LENGTH = 12
UNDELIVERED = (DeliveryStatus.FAILED, DeliveryStatus.BOUNCED)
TYPED = (
    "composer_typed"  # app.conversations.workspace.services keeps the reply as typed under this key
)


def enqueue_harvest(thread_id: uuid.UUID | str) -> None:
    enqueue(HARVEST_JOB, str(thread_id))


def rated_poorly(thread_id: uuid.UUID) -> bool:
    return (
        db.session.scalar(
            sa.select(CsatResponse.id)
            .where(CsatResponse.thread_id == thread_id, CsatResponse.rating <= POOR_RATING)
            .limit(1)
        )
        is not None
    )


def candidate_key(template_id: uuid.UUID | None, body: str | None) -> str:
    """One key per template, and one per distinct harvested text (case and spacing aside)."""
    if template_id is not None:
        return f"t:{template_id}"
    normal = " ".join((body or "").lower().split())
    return "r:" + hashlib.md5(normal.encode(), usedforsecurity=False).hexdigest()


@dataclass
class _Reply:
    message: CommunicationMessage
    question: str
    language: str | None


def harvest_conversation(thread_id: str) -> int:
    """Store the reusable replies of a conversation that ended well; the number stored.

    A conversation rated poorly has what was harvested from it removed instead.
    """
    thread = db.session.get(CommunicationThread, uuid.UUID(thread_id))
    if thread is None:
        return 0
    if rated_poorly(thread.id):
        removed = db.session.execute(
            sa.delete(HarvestedReply).where(HarvestedReply.thread_id == thread.id)
        ).rowcount
        commit()
        log.info("thread %s rated poorly: %s harvested replies removed", thread_id, removed)
        return 0
    if thread.status not in ENDED:
        return 0
    stored = 0
    prices = price_list()
    for reply in _replies(thread):
        stored += _store(thread, reply, prices)
    commit()
    log.info("thread %s: %s replies harvested", thread_id, stored)
    return stored


def _replies(thread: CommunicationThread) -> list[_Reply]:
    """Our agents' replies, each with the customer's words since the reply before it."""
    messages = db.session.scalars(
        sa.select(CommunicationMessage)
        .options(so.selectinload(CommunicationMessage.channel))
        .where(CommunicationMessage.thread_id == thread.id)
        .order_by(CommunicationMessage.created_at, CommunicationMessage.id)
    ).all()
    authors = _desk_authors({m.sender_user_id for m in messages if m.sender_user_id})
    replies, asked, language = [], [], None
    for message in messages:
        if message.message_type == MessageType.INCOMING:
            asked.append(own_words(message.message_content))
            language = message.language or language
        elif _is_reply(message, authors):
            if asked:
                replies.append(_Reply(message, " ".join(asked)[-1500:], language))
            asked, language = [], None
    return replies


def _desk_authors(user_ids: set[uuid.UUID]) -> dict[uuid.UUID, User]:
    if not user_ids:
        return {}
    users = db.session.scalars(
        sa.select(User).where(User.id.in_(user_ids), User.role.in_(DESK_ROLES))
    ).all()
    return {user.id: user for user in users}


def _is_reply(message: CommunicationMessage, authors: dict) -> bool:
    return (
        message.message_type == MessageType.OUTGOING
        and message.sender_user_id in authors
        and message.delivery_status not in UNDELIVERED
        and not (message.extra or {}).get("automation")
    )


def price_list() -> frozenset[Decimal]:
    """The active articles' prices, without and with their VAT."""
    rows = db.session.execute(
        sa.select(Article.unit_price, Article.vat_rate).where(Article.is_active.is_(True))
    ).all()
    prices = set()
    for price, vat_rate in rows:
        prices.add(price)
        prices.add((price * (100 + (vat_rate or 0)) / 100).quantize(Decimal("0.01")))
    return frozenset(prices)


def _store(thread: CommunicationThread, reply: _Reply, prices: frozenset[Decimal]) -> int:
    message = reply.message
    template_id = message.template_id or _template_used_as_suggested(message.id)
    body = None
    if template_id is None:
        typed = ((message.extra or {}).get(TYPED) or {}).get("content")
        context = _context(thread, message, prices)
        body = generalise(typed or message.message_content or "", context)
        if body is None or len(body) < MIN_LENGTH:
            return 0
    language = reply.language or customer_language(thread.contact)
    values = {
        "id": uuid.uuid4(),
        "message_id": message.id,
        "thread_id": thread.id,
        "template_id": template_id,
        "body": body,
        "candidate_key": candidate_key(template_id, body),
        "title": title_of(body)[:120] if body else "",
        "question": reply.question,
        "language": language,
        "channel_type": message.channel.channel_type.value if message.channel else None,
        "order_status": _order_status_at(thread, message),
        "replied_at": message.created_at,
    }
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        values["document"] = tsvector(language, reply.question, body or "")
    else:
        values["document"] = sqlite_document(reply.question, body)
    insert = upsert_insert(HarvestedReply, dialect).values(**values)
    inserted = db.session.execute(
        insert.on_conflict_do_nothing(index_elements=["message_id"]).returning(HarvestedReply.id)
    ).first()
    return 1 if inserted else 0


def _template_used_as_suggested(reply_message_id: uuid.UUID) -> uuid.UUID | None:
    """The template of a suggestion the reply sent unchanged (the select was never used)."""
    return db.session.scalar(
        sa.select(ReplySuggestion.template_id)
        .join(SuggestionOutcome, SuggestionOutcome.suggestion_id == ReplySuggestion.id)
        .where(
            SuggestionOutcome.reply_message_id == reply_message_id,
            SuggestionOutcome.outcome == "used",
        )
    )


def _order_status_at(thread: CommunicationThread, message: CommunicationMessage) -> str | None:
    """The order's status when the reply was sent (its last move before then)."""
    if thread.order_id is None:
        return None
    moved_to = db.session.scalar(
        sa.select(OrderStatusTransition.to_status)
        .where(
            OrderStatusTransition.order_id == thread.order_id,
            OrderStatusTransition.created_at <= message.created_at,
        )
        .order_by(OrderStatusTransition.created_at.desc())
        .limit(1)
    )
    if moved_to is not None:
        return moved_to
    return thread.order.status.value if thread.order and thread.order.status else None


def _context(
    thread: CommunicationThread, message: CommunicationMessage, prices: frozenset[Decimal]
) -> ReplyContext:
    contact, order = thread.contact, thread.order
    names = (contact.display_name or "").split() if contact else []
    first = (contact.first_name if contact else None) or (names[0] if len(names) > 1 else None)
    last = (contact.last_name if contact else None) or (
        " ".join(names[1:]) if len(names) > 1 else None
    )
    window = parse_time_window(window_text_of(order)) if order else None
    technician = (
        db.session.get(User, order.assigned_technician_id)
        if order and order.assigned_technician_id
        else None
    )
    author = db.session.get(User, message.sender_user_id) if message.sender_user_id else None
    return ReplyContext(
        sent_on=amsterdam_today(message.created_at),
        customer_name=contact.display_name if contact else None,
        customer_first_name=first,
        customer_last_name=last,
        customer_email=contact.email if contact else None,
        customer_phone_digits=_phone_digits(contact.phone if contact else None),
        order_number=order.order_number if order else None,
        order_total=order.total_amount if order and order.total_amount else None,
        visit_date=order.scheduled_date if order else None,
        visit_start=window.start if window else None,
        visit_end=window.end if window else None,
        technician_name=technician.name if technician else None,
        technician_phone_digits=_phone_digits(technician.phone if technician else None),
        agent_name=author.name if author else None,
        company_name=COMPANY_NAME,
        price_list=prices,
    )


def _phone_digits(phone: str | None) -> str | None:
    normal = normalise_phone(phone) if phone else None
    return normal.lstrip("+") if normal else None
