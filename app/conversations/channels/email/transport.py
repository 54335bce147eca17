"""SendGrid behind the transport interface: one Mail Send call per message.

A message carries its Mail Send body ready-made (``payload``, built by
:func:`app.conversations.channels.email.sendgrid.build_mail` from a dynamic template); a
plain one (the channels page's test) becomes a text mail here. The shared
600-a-minute budget is taken first; over it, the send fails as
``rate_limited`` with the seconds to wait, and the caller waits, not retries.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.conversations.channels.email.sendgrid import PROVIDER, build_mail, post_mail
from app.platform.transports.base import OutboundMessage, SendResult
from app.platform.transports.ratelimit import take_send_slot


def plain_mail(message: OutboundMessage, config: Mapping) -> dict:
    """The Mail Send body of a message without a template: a plain text mail."""
    return build_mail(
        config,
        to_email=message.recipient,
        to_name=None,
        template_id=None,
        dynamic_data=None,
        categories=["test"] if message.message_id is None else [],
        subject=message.subject,
        text=message.body,
    )


class SendGridTransport:
    provider = PROVIDER

    def __init__(self, config: Mapping) -> None:
        self.config = config

    def send(self, message: OutboundMessage) -> SendResult:
        payload = message.payload or plain_mail(message, self.config)
        take_send_slot(PROVIDER)
        return SendResult(external_message_id=post_mail(self.config, payload))
