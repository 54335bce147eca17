"""The one interface every outbound provider implements.

A transport turns an :class:`OutboundMessage` into a provider call and reports
what the provider said. WhatsApp (Cloud API), Outlook (Microsoft Graph), SMS
(Twilio-compatible), SendGrid and Teams each have a real transport in their
channel's package and share the sandbox (:mod:`app.platform.transports.sandbox`), which
records the call instead; :mod:`app.platform.transports.registry` picks one by
configuration (unset credentials mean the sandbox).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OutboundAttachment:
    """A stored file going out with a message; the transport reads it from ``path``."""

    filename: str
    mime_type: str
    path: str

    def read(self) -> bytes:
        with open(self.path, "rb") as handle:
            return handle.read()

    @property
    def is_image(self) -> bool:
        return self.mime_type in ("image/jpeg", "image/png")


@dataclass(frozen=True)
class OutboundMessage:
    """Everything a transport needs, as plain values (no ORM objects)."""

    message_id: uuid.UUID | None
    channel_type: str
    # E.164 phone number, e-mail address, or (Teams) the team's name.
    recipient: str
    body: str
    subject: str | None = None
    html: str | None = None
    # The provider id of the message being answered (WhatsApp context, Graph reply).
    reply_to_external_id: str | None = None
    template_name: str | None = None
    template_parameters: list[str] = field(default_factory=list)
    # The approved template's language code (nl, en_US); None: look it up.
    template_language: str | None = None
    # The payloads of the approved template's quick-reply buttons, in button order:
    # what Meta hands back when the customer taps one (WhatsApp only).
    template_quick_replies: list[str] = field(default_factory=list)
    # A body already in the provider's shape (a Teams card, a SendGrid Mail Send
    # request); None: the transport builds one from the text above.
    payload: dict | None = None
    # E-mail: every addressee; ``recipient`` is the first of ``to`` (empty: only it).
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    attachments: tuple[OutboundAttachment, ...] = ()
    # WhatsApp: an interactive message's ``interactive`` object (a list of
    # choices); the text above is what the timeline shows of it.
    interactive: dict | None = None
    # The channel the message belongs to; a provider with several accounts on
    # one channel type (Outlook mailboxes) sends from that channel's account.
    channel_id: uuid.UUID | None = None


@dataclass(frozen=True)
class SendResult:
    external_message_id: str
    # "sent" when the provider accepted it; "delivered" when it confirms at once.
    status: str = "sent"


class TransportError(Exception):
    """A send that failed. ``retryable`` says whether trying again may help.

    ``code`` is the provider's error code, or ``rate_limited`` when our own
    per-provider budget (:mod:`app.platform.transports.ratelimit`) is spent; then, and on
    a provider's 429, ``retry_after`` says how many seconds to wait.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code
        self.retry_after = retry_after


RATE_LIMITED = "rate_limited"


class Transport(Protocol):
    provider: str

    def send(self, message: OutboundMessage) -> SendResult: ...
