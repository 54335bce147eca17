"""The language a customer's message is written in, as the owner stores it.

``record_inbound`` tells it while storing the message (lingua, about 0.1 ms:
cheaper than the job and the transaction a separate step cost every message)
and keeps the contact's ``detected_language`` that of their newest message whose
language could be told (:func:`follow_newest_language`). Newest by the message's
own time, not by which one was stored last, so two messages of one customer
stored or read again in either order leave the same answer.
:func:`detect_message_language` reads a stored message again (a job).
"""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa

from app.conversations.core.erasure import ERASED_MARK
from app.conversations.languages.detection import detect_language
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, Contact
from app.platform.models.enums import MessageType
from app.platform.transactions import commit

log = logging.getLogger(__name__)

DETECT_JOB = "app.conversations.core.languages.detect_message_language"


def detect_message_language(message_id: str) -> str | None:
    """Detect and store the language of customer message ``message_id`` (a job).

    Idempotent: the same text gives the same language, and the contact's
    ``detected_language`` follows their newest message with a language whichever
    job runs last. Returns the language stored, None when unclear or when the
    message is no customer's.
    """
    message = db.session.get(CommunicationMessage, uuid.UUID(message_id))
    if message is None:
        log.info("message %s is gone; no language to tell", message_id)
        return None
    # The body alone: an e-mail's subject is usually our own ("RE: Planning …").
    language = detect_language(message.message_content)
    if not note_message_language(message.id, language):
        db.session.rollback()
        return None
    commit()
    log.info("message %s is in %s", message_id, language or "no clear language")
    return language


def note_message_language(message_id: uuid.UUID, language: str | None) -> bool:
    """Store ``language`` (ISO 639-1, or None: unclear) on a customer's message.

    Returns False, writing nothing, when the message is gone, is not a
    customer's, or was erased (its text is ours then, not theirs). No commit.
    """
    message = db.session.get(CommunicationMessage, message_id)
    if (
        message is None
        or message.message_type != MessageType.INCOMING
        or (message.extra or {}).get(ERASED_MARK)
    ):
        return False
    contact_id = message.sender_contact_id
    if contact_id is not None:
        # Taken before reading the contact's messages below: a job reading another
        # message of theirs at the same moment waits, then sees this one's language.
        db.session.execute(sa.select(Contact.id).where(Contact.id == contact_id).with_for_update())
    # A statement, not an attribute: telling the language is no edit, so neither
    # row's ``updated_at`` moves.
    db.session.execute(
        sa.update(CommunicationMessage)
        .where(CommunicationMessage.id == message.id)
        .values(language=language, updated_at=CommunicationMessage.updated_at)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(message, ["language"])
    if contact_id is not None:
        follow_newest_language(contact_id)
    return True


def follow_newest_language(contact_id: uuid.UUID) -> None:
    """Set the contact's ``detected_language`` to that of their newest customer message
    with one (no commit; a statement, so ``updated_at`` does not move)."""
    newest = (
        sa.select(CommunicationMessage.language)
        .where(
            CommunicationMessage.sender_contact_id == contact_id,
            CommunicationMessage.message_type == MessageType.INCOMING,
            CommunicationMessage.language.is_not(None),
        )
        .order_by(CommunicationMessage.created_at.desc(), CommunicationMessage.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    db.session.execute(
        sa.update(Contact)
        .where(Contact.id == contact_id, Contact.erased_at.is_(None))
        .values(
            detected_language=sa.func.coalesce(newest, Contact.detected_language),
            updated_at=Contact.updated_at,
        )
        .execution_options(synchronize_session=False)
    )
    contact = db.session.identity_map.get(db.session.identity_key(Contact, contact_id))
    if contact is not None:
        db.session.expire(contact, ["detected_language"])
