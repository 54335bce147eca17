"""The transport interface every outbound channel implements.

A transport turns an :class:`OutboundMessage` into a provider call and reports
what the provider said. The sandbox transport records the call instead, so the
whole reply flow works with no credentials (CONTRACT §2); real transports
(WhatsApp Cloud API, Microsoft Graph, Twilio-compatible SMS) implement the same
``send`` and are chosen by configuration in :mod:`app.channels.registry`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OutboundMessage:
    """Everything a transport needs, as plain values (no ORM objects)."""

    message_id: uuid.UUID | None
    channel_type: str
    recipient: str  # E.164 phone number or e-mail address
    body: str
    subject: str | None = None
    html: str | None = None
    # The provider id of the message being answered (WhatsApp context, Graph reply).
    reply_to_external_id: str | None = None
    template_name: str | None = None
    template_parameters: list[str] = field(default_factory=list)
    # The approved template's language code (nl, en_US); None: look it up.
    template_language: str | None = None


@dataclass(frozen=True)
class SendResult:
    external_message_id: str
    # "sent" when the provider accepted it; "delivered" when it confirms at once.
    status: str = "sent"


class TransportError(Exception):
    """A send that failed. ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


class Transport(Protocol):
    provider: str

    def send(self, message: OutboundMessage) -> SendResult: ...
