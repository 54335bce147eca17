"""The language a customer's message is written in, as the owner stores it.

:mod:`app.languages` tells the language after the message is committed; this
writes it on the message and keeps the contact's ``detected_language`` that of
their newest message whose language could be told. Newest by the message's
own time, not by which job ran last, so two messages of one customer read in
either order (or read again) leave the same answer.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.conversations.erasure import ERASED_MARK
from app.extensions import db
from app.models import CommunicationMessage, Contact
from app.models.enums import MessageType


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
    return True
