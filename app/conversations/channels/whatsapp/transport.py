"""Sending through the WhatsApp Business Cloud API.

``POST {WHATSAPP_API_BASE}/{version}/{phone_number_id}/messages`` with either a
free text (only inside the customer's 24-hour window) or an approved template
(any time). What a failure means decides what happens next:

* 131047 (re-engagement: the 24 hours are over) fails the message for good,
  with a reason that points the agent at a template;
* throttling (130429 and friends), Meta's 5xx and timeouts are retried by the
  send job (``TransportError(retryable=True)``);
* 190 (the token is no good) marks the provider unhealthy, alerts the admins
  and fails the message: no retry can fix a token.

Files are uploaded first (``POST /{phone_number_id}/media``) and then sent by
their media id, one message each: an ``image`` (JPEG, PNG) with a caption or a
``document`` with its filename. The reply's text rides along as the caption of
the first file. The message's ticks follow that first WhatsApp message. A
retry after a partial failure sends the files again (at-least-once, as every
send here).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import sqlalchemy as sa

from app.conversations.channels.whatsapp.alerts import report_invalid_token
from app.conversations.channels.whatsapp.client import RE_ENGAGEMENT, ApiFailure, WhatsAppApi
from app.platform.extensions import db
from app.platform.models import CommunicationTemplate
from app.platform.transports.base import OutboundMessage, SendResult, TransportError
from app.platform.transports.health import record_failure, record_success
from app.platform.transports.ratelimit import take_send_slot

log = logging.getLogger(__name__)

PROVIDER = "whatsapp"
DEFAULT_LANGUAGE = "nl"
RE_ENGAGEMENT_ADVICE = (
    "the customer last wrote more than 24 hours ago, so WhatsApp only accepts an "
    "approved template now — send one of those instead"
)


class WhatsAppTransport:
    """The real WhatsApp transport, built by the registry with the app config."""

    provider = PROVIDER

    def __init__(self, config: Mapping) -> None:
        self.api = WhatsAppApi(config)

    def send(self, message: OutboundMessage) -> SendResult:
        """Send one message; raises :class:`TransportError` saying whether to retry."""
        take_send_slot(PROVIDER)
        try:
            bodies = [request_body(message)] if not message.attachments else self._media(message)
            path = f"{self.api.phone_number_id}/messages"
            external_ids = [self.api.post_json(path, body)["messages"][0]["id"] for body in bodies]
            external_id = external_ids[0]
        except ApiFailure as exc:
            raise self._failed(exc) from exc
        except (KeyError, IndexError, TypeError) as exc:
            record_failure(PROVIDER, "the send answer carried no message id")
            raise TransportError(
                "WhatsApp accepted the call but returned no message id", retryable=True
            ) from exc
        record_success(PROVIDER)
        return SendResult(external_message_id=str(external_id), status="sent")

    def _media(self, message: OutboundMessage) -> list[dict]:
        """Upload each file; the image/document message bodies that send them."""
        bodies = []
        for index, attachment in enumerate(message.attachments):
            media_id = self.api.upload_media(
                attachment.filename, attachment.mime_type, attachment.read()
            )
            caption = message.body if index == 0 and message.body else None
            bodies.append(media_body(message, attachment, media_id, caption))
        return bodies

    def _failed(self, failure: ApiFailure) -> TransportError:
        code = str(failure.code) if failure.code is not None else None
        if failure.token_invalid:
            report_invalid_token(failure.reason)
            return TransportError(
                f"WhatsApp rejected the access token ({failure.reason}); an admin must "
                "configure a new one",
                retryable=False,
                code=code,
            )
        if failure.code == RE_ENGAGEMENT:
            return TransportError(
                f"{RE_ENGAGEMENT}: Re-engagement message — {RE_ENGAGEMENT_ADVICE}",
                retryable=False,
                code=code,
            )
        if failure.retryable:
            record_failure(PROVIDER, failure.reason)
        log.warning("WhatsApp send failed (retryable=%s): %s", failure.retryable, failure.reason)
        return TransportError(
            f"WhatsApp refused the message: {failure.reason}",
            retryable=failure.retryable,
            code=code,
        )


def recipient_digits(recipient: str) -> str:
    """Meta wants the number as digits with the country code and no plus."""
    return re.sub(r"\D", "", recipient or "")


def request_body(message: OutboundMessage) -> dict:
    """The JSON body Meta expects for ``message``: a template or a plain text."""
    body: dict = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": recipient_digits(message.recipient),
    }
    if message.template_name:
        template: dict = {
            "name": message.template_name,
            "language": {
                "code": message.template_language or template_language(message.template_name)
            },
        }
        components: list[dict] = []
        if message.template_parameters:
            components.append(
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": str(value)}
                        for value in message.template_parameters
                    ],
                }
            )
        # Each quick-reply button of the approved template gets the payload Meta
        # hands back in the customer's tap (a ``button`` message).
        components += [
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": payload}],
            }
            for index, payload in enumerate(message.template_quick_replies)
        ]
        if components:
            template["components"] = components
        body.update(type="template", template=template)
    elif message.interactive:
        body.update(type="interactive", interactive=message.interactive)
    else:
        body.update(type="text", text={"preview_url": False, "body": message.body})
    if message.reply_to_external_id:
        body["context"] = {"message_id": message.reply_to_external_id}
    return body


def media_body(message: OutboundMessage, attachment, media_id: str, caption: str | None) -> dict:
    """An ``image`` ({id, caption}) or ``document`` ({id, filename, caption}) message."""
    kind = "image" if attachment.is_image else "document"
    media: dict = {"id": media_id}
    if kind == "document":
        media["filename"] = attachment.filename
    if caption:
        media["caption"] = caption
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": recipient_digits(message.recipient),
        "type": kind,
        kind: media,
    }
    if message.reply_to_external_id:
        body["context"] = {"message_id": message.reply_to_external_id}
    return body


def template_language(whatsapp_template_name: str) -> str:
    """The language the approved template was registered in (ours records it)."""
    # OutboundMessage carries no language; the template row that maps to the
    # approved name knows it.
    language = db.session.scalar(
        sa.select(CommunicationTemplate.language)
        .where(CommunicationTemplate.whatsapp_template_name == whatsapp_template_name)
        .order_by(CommunicationTemplate.is_active.desc())
        .limit(1)
    )
    return language or DEFAULT_LANGUAGE
