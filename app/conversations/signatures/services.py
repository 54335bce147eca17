"""Reading and saving signatures.

An agent's signature is theirs (``users.email_signature``); an Outlook
mailbox's is a setting of its channel (``configuration["signature"]``), set by
an admin. Both are plain text: :mod:`app.conversations.workspace.email_reply` escapes them into
the HTML of a reply, so a signature can never carry markup into a mail.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_babel import gettext as _

from app.platform.audit.records import record_edit
from app.platform.extensions import db
from app.platform.models import CommunicationChannel, User
from app.platform.models.enums import ChannelType, Role

MAX_SIGNATURE_LENGTH = 1000
MAX_SIGNATURE_LINES = 12
SIGNATURE_KEY = "signature"


class InvalidSignature(ValueError):
    """A signature that cannot be saved; the message says why."""


def clean_signature(text: str | None) -> str | None:
    """The signature as it will be stored; None when empty. InvalidSignature if too long."""
    lines = [line.rstrip() for line in (text or "").replace("\r\n", "\n").split("\n")]
    cleaned = "\n".join(lines).strip()
    if len(cleaned) > MAX_SIGNATURE_LENGTH:
        raise InvalidSignature(
            _(
                "A signature can be at most %(max)s characters (this one has %(count)s).",
                max=MAX_SIGNATURE_LENGTH,
                count=len(cleaned),
            )
        )
    if cleaned.count("\n") + 1 > MAX_SIGNATURE_LINES:
        raise InvalidSignature(
            _("A signature can be at most %(count)s lines.", count=MAX_SIGNATURE_LINES)
        )
    return cleaned or None


def agent_signature(user: User | None) -> str | None:
    return user.email_signature if user is not None else None


def mailbox_signature(channel: CommunicationChannel | None) -> str | None:
    if channel is None or channel.channel_type != ChannelType.EMAIL_OUTLOOK:
        return None
    return (channel.configuration or {}).get(SIGNATURE_KEY) or None


def save_agent_signature(user: User, text: str | None) -> None:
    before = {"email_signature": user.email_signature}
    user.email_signature = clean_signature(text)
    record_edit(
        User.__tablename__,
        user.id,
        "SIGNATURE_SAVED",
        before,
        {"email_signature": user.email_signature},
    )


def save_mailbox_signature(channel: CommunicationChannel, text: str | None) -> None:
    settings = dict(channel.configuration or {})
    before = {SIGNATURE_KEY: settings.get(SIGNATURE_KEY)}
    signature = clean_signature(text)
    if signature:
        settings[SIGNATURE_KEY] = signature
    else:
        settings.pop(SIGNATURE_KEY, None)
    # A new dict: JSON columns only notice assignment, not changes in place.
    channel.configuration = settings
    record_edit(
        CommunicationChannel.__tablename__,
        channel.id,
        "MAILBOX_SIGNATURE_SAVED",
        before,
        {SIGNATURE_KEY: signature},
    )


def mailboxes() -> list[CommunicationChannel]:
    """The Outlook channels, whose signatures the channels page edits."""
    return list(
        db.session.scalars(
            sa.select(CommunicationChannel)
            .where(CommunicationChannel.channel_type == ChannelType.EMAIL_OUTLOOK)
            .order_by(CommunicationChannel.channel_name)
        )
    )


def mailbox(channel_id: uuid.UUID) -> CommunicationChannel | None:
    channel = db.session.get(CommunicationChannel, channel_id)
    if channel is None or channel.channel_type != ChannelType.EMAIL_OUTLOOK:
        return None
    return channel


def user_whose_signature(editor: User, user_id: uuid.UUID | None) -> User | None:
    """The user ``editor`` may edit the signature of: themselves, or anyone for an admin."""
    if user_id is None or user_id == editor.id:
        return editor
    if editor.role != Role.ADMIN:
        return None
    return db.session.get(User, user_id)
