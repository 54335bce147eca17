"""The customer's answer: from the WhatsApp list or the rating page, onto the survey row.

One row per survey: the first answer sets ``answered_at``; within
:data:`CHANGE_WITHIN` of it the customer may change their rating or add a
comment (the row is updated, the timeline gets a line per change); later, or
more than :data:`ANSWER_WITHIN` after the question, the answer is refused.
Every accepted answer is written into the conversation by its owner as a system
line ("Customer rated 4/5: …"), without reopening a resolved conversation.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from app.conversations.channels.whatsapp.replies import InteractiveReply, register_reply_handler
from app.conversations.contacts.phones import normalise_phone
from app.conversations.core import announce_change, record_status_line
from app.conversations.csat.asking import ASKED
from app.conversations.csat.questions import REPLY_PREFIX
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationThread, Contact, CsatResponse
from app.platform.system_texts import text

log = logging.getLogger(__name__)

ANSWER_WITHIN = timedelta(days=30)
CHANGE_WITHIN = timedelta(days=7)
MAX_COMMENT = 2000
RATINGS = range(1, 6)
WHATSAPP, WEB = "whatsapp", "web"


class AnswerRefused(Exception):
    """The survey takes no (more) answers; ``reason`` is ``expired`` or ``final``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def init_app(app: Flask) -> None:
    register_reply_handler(app, REPLY_PREFIX, take_whatsapp_rating)


def survey(response_id: uuid.UUID) -> CsatResponse | None:
    """An asked survey by id (skipped ones take no answers)."""
    return db.session.scalar(
        sa.select(CsatResponse).where(CsatResponse.id == response_id, CsatResponse.state == ASKED)
    )


def can_change(response: CsatResponse, now: datetime | None = None) -> bool:
    """Whether the customer may still answer, or change their answer."""
    now = now or utcnow()
    if response.answered_at is not None:
        return now - response.answered_at <= CHANGE_WITHIN
    return response.asked_at is not None and now - response.asked_at <= ANSWER_WITHIN


def record_answer(
    response: CsatResponse,
    rating: int,
    comment: str | None,
    via: str,
    now: datetime | None = None,
) -> bool:
    """Store the answer and write it into the timeline; False when nothing changed.

    ``comment`` None keeps the comment given before. Raises :class:`AnswerRefused`.
    The caller commits.
    """
    now = now or utcnow()
    if not can_change(response, now):
        raise AnswerRefused("final" if response.answered_at else "expired")
    comment = response.comment if comment is None else (comment.strip() or None)
    if response.answered_at is not None and (rating, comment) == (
        response.rating,
        response.comment,
    ):
        return False  # the same answer again (a provider's duplicate, a reload)
    response.rating, response.comment, response.answer_channel = rating, comment, via
    response.answered_at = response.answered_at or now
    thread = db.session.get(CommunicationThread, response.thread_id)
    line = (
        text("csat.rated_comment", rating=rating, comment=comment)
        if comment
        else text("csat.rated", rating=rating)
    )
    record_status_line(
        thread,
        line,
        sender_contact_id=response.contact_id,
        at=now,
        extra={"csat": str(response.id)},
        searchable=True,
    )
    announce_change(thread, "csat")
    return True


def take_whatsapp_rating(reply: InteractiveReply) -> bool:
    """A choice in our rating list (``csat:<survey id>:<rating>``); True when taken.

    Only the customer the question went to can answer it; anything else (a
    forged or mangled id, another number) is left to be stored as a message.
    """
    _, survey_id, rating = (reply.reply_id.split(":") + ["", ""])[:3]
    try:
        response = survey(uuid.UUID(survey_id))
        value = int(rating)
    except ValueError:
        return False
    if response is None or value not in RATINGS or not _sent_to(response, reply.wa_id):
        return False
    try:
        record_answer(response, value, None, WHATSAPP)
    except AnswerRefused as refused:
        log.info("csat %s: WhatsApp answer refused (%s)", response.id, refused.reason)
    return True


def _sent_to(response: CsatResponse, wa_id: str) -> bool:
    phone = db.session.scalar(sa.select(Contact.phone).where(Contact.id == response.contact_id))
    return bool(phone) and phone == normalise_phone(wa_id)
