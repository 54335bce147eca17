"""The sandbox transport: records outbound sends instead of making them.

Used whenever a provider's credentials are unset. Each send becomes a
``SandboxSend`` row with the request body the real provider would have received
and a simulated delivery status; a conversation's message then moves through
delivered (and read, for chat channels) as a real one would, so the UI shows
real ticks.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace

from app.platform.extensions import db
from app.platform.models import SandboxSend
from app.platform.transports.base import OutboundMessage, SendResult
from app.platform.transports.health import record_success

# Chat channels report "read"; e-mail and SMS stop at "delivered".
SIMULATED_STATUSES = {
    "whatsapp_business": ("delivered", "read"),
    "sms": ("delivered",),
    "email_outlook": ("delivered",),
    "sendgrid": ("delivered",),
}


class SandboxTransport:
    """Records sends. ``shape`` builds the provider's body for a plain message."""

    def __init__(
        self,
        provider: str,
        *,
        shape: Callable[[OutboundMessage, Mapping], dict] | None = None,
        config: Mapping | None = None,
    ) -> None:
        self.provider = provider
        self.shape = shape
        self.config = config or {}

    def send(self, message: OutboundMessage) -> SendResult:
        external_id = f"sandbox.{self.provider}.{uuid.uuid4().hex}"
        if message.payload is None and self.shape is not None:
            message = replace(message, payload=self.shape(message, self.config))
        if message.payload is not None:
            body = message.payload
        else:
            body = {
                "to": message.recipient,
                "subject": message.subject,
                "text": message.body,
                "html": message.html,
                "reply_to": message.reply_to_external_id,
                "template": message.template_name,
                "template_parameters": message.template_parameters,
                "template_quick_replies": message.template_quick_replies,
                "cc": list(message.cc),
                "bcc": list(message.bcc),
                # Names only: the sandbox outbox is a page, not a file store.
                "attachments": [a.filename for a in message.attachments],
                "interactive": message.interactive,
                "external_message_id": external_id,
            }
            body = {k: v for k, v in body.items() if v not in (None, [])}
        db.session.add(
            SandboxSend(
                provider=self.provider,
                recipient=message.recipient,
                request_body=body,
                simulated_status="sent",
                message_id=message.message_id,
            )
        )
        # The channels page's "Last success" tells the sandbox works end to end too.
        record_success(self.provider)
        return SendResult(external_message_id=external_id, status="sent")

    @staticmethod
    def simulated_progress(channel_type: str) -> tuple[str, ...]:
        return SIMULATED_STATUSES.get(channel_type, ("delivered",))
