"""The background job that tells which language a customer's message is in."""

from __future__ import annotations

import logging
import uuid

from app.conversations import note_message_language
from app.extensions import db
from app.languages.detection import detect_language
from app.models import CommunicationMessage
from app.transactions import commit

log = logging.getLogger(__name__)


def detect_message_language(message_id: str) -> str | None:
    """Detect and store the language of customer message ``message_id``.

    Idempotent: the same text gives the same language, and the contact's
    ``detected_language`` follows their newest message with a language whichever
    job runs last (:func:`app.conversations.note_message_language`). Returns the
    language stored, None when unclear or when the message is no customer's.
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
