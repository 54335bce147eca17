"""Reading an uploaded ``.eml`` file (RFC 5322) into the parts the parser needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.errors import MessageError
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

from flask_babel import gettext as _

MAX_EML_BYTES = 5 * 1024 * 1024


class EmlError(ValueError):
    """The file is not an e-mail we can read; the message says why, for the uploader."""


@dataclass
class ReceivedMail:
    subject: str
    text: str | None
    html: str | None
    sender: str | None
    internet_message_id: str | None
    recipients: list[str] = field(default_factory=list)


def read_eml(data: bytes) -> ReceivedMail:
    """Parse ``data`` with the standard library's default policy.

    Raises :class:`EmlError` when it is too large, has no e-mail headers, or has
    no text or HTML body to read an order from.
    """
    if len(data) > MAX_EML_BYTES:
        raise EmlError(_("The file is larger than 5 MB."))
    if not data.strip():
        raise EmlError(_("The file is empty."))
    try:
        message = message_from_bytes(data, policy=policy.default)
        if not isinstance(message, EmailMessage):
            raise EmlError(_("The file is not an e-mail message."))
        headers = {key.lower() for key in message.keys()}
        if not headers & {"from", "subject", "message-id", "date"}:
            raise EmlError(
                _("The file has no e-mail headers (From, Subject, Date, Message-ID).")
            )
        text = _body(message, "plain")
        html = _body(message, "html")
        subject = str(message.get("subject") or "")
        sender = parseaddr(str(message.get("from") or ""))[1] or None
        message_id = str(message.get("message-id") or "").strip() or None
        recipients = [
            address.lower()
            for _, address in getaddresses(
                [
                    str(value)
                    for name in ("to", "cc", "delivered-to")
                    for value in message.get_all(name) or []
                ]
            )
            if address
        ]
    except (MessageError, LookupError, UnicodeError, ValueError) as exc:
        if isinstance(exc, EmlError):
            raise
        raise EmlError(_("The file could not be read as an e-mail: %(error)s", error=exc)) from exc
    if not (text or html):
        raise EmlError(_("The e-mail has no text or HTML body to read an order from."))
    return ReceivedMail(subject.strip(), text, html, sender, message_id, recipients)


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    content = part.get_content()
    return content if isinstance(content, str) and content.strip() else None
