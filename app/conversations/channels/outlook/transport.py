"""Sending e-mail from a mailbox through Microsoft Graph.

A reply goes out from the mailbox its conversation came in on (the message's
channel is that mailbox's, :mod:`app.conversations.channels.outlook.state`): Graph's
``/users/{mailbox}/…`` with the app's application permission sends as that
mailbox, shared mailboxes included. Anything else goes out from the default
mailbox (``GRAPH_MAILBOX``).

An answer to a customer's mail goes out with ``/messages/{id}/reply``, so it lands
in the customer's conversation with the right subject and In-Reply-To; a mail
that answers nothing (a WhatsApp customer written to by e-mail) goes out with
``/sendMail``. Both save a copy in Sent Items.

Neither call returns an id (Graph answers 202 with no body). Rather than a
draft-then-send round trip (two calls, and an orphaned draft when the second
fails), the message gets an RFC 5322 Message-ID chosen here, derived from our
message id. Graph lets a new message carry its own ``internetMessageId``; the
customer's mail client quotes it in In-Reply-To, which is how their answer finds
its thread (:func:`app.conversations.core.record_inbound` matches it against
``external_message_id``). Being derived from our id, a retried send carries the
same Message-ID, which mail clients use to fold duplicates.

Recipients (To, CC, BCC) and files go in the message resource of either call;
files as ``fileAttachment`` with base64 ``contentBytes``, inline in the request
(Graph's limit is 4 MB per request, which is why a reply's files may be 3 MB
together: see :mod:`app.conversations.attachments.uploads`).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

from app.conversations.channels.outlook.client import GraphClient, GraphError
from app.conversations.channels.outlook.state import mailbox_address
from app.platform.transports.base import OutboundMessage, SendResult, TransportError


class GraphTransport:
    """The real transport of the ``email_outlook`` channel."""

    provider = "graph"

    def __init__(self, config: Mapping) -> None:
        self.config = config
        self.client = GraphClient(config)

    def send(self, message: OutboundMessage) -> SendResult:
        client = self.client
        if message.channel_id is not None:
            client = GraphClient(self.config, mailbox_address(message.channel_id))
        internet_message_id = self.internet_message_id(message, client)
        body = (
            {"contentType": "HTML", "content": message.html}
            if message.html
            else {"contentType": "Text", "content": message.body}
        )
        try:
            if message.reply_to_external_id:
                try:
                    self._reply(client, message, body, internet_message_id)
                except GraphError as exc:
                    if exc.status != 404:
                        raise
                    # The mail being answered was deleted from the mailbox; the
                    # customer still gets the answer, as a new mail.
                    self._send_new(client, message, body, internet_message_id)
            else:
                self._send_new(client, message, body, internet_message_id)
        except GraphError as exc:
            raise _transport_error(exc) from exc
        return SendResult(external_message_id=internet_message_id, status="sent")

    def _reply(
        self, client: GraphClient, message: OutboundMessage, body: dict, internet_message_id: str
    ) -> None:
        # No "comment": Graph refuses a reply with both a comment and a body. It
        # sets the "RE:" subject and threading headers from the original; the
        # recipients are ours when the agent chose them.
        path = client.mailbox_path("messages", message.reply_to_external_id, "reply")
        resource = {"body": body, "internetMessageId": internet_message_id}
        resource.update(_addressing(message, default_to=False))
        client.post(path, {"message": resource})

    def _send_new(
        self, client: GraphClient, message: OutboundMessage, body: dict, internet_message_id: str
    ) -> None:
        resource = {
            "subject": message.subject or "",
            "body": body,
            **_addressing(message, default_to=True),
            "internetMessageId": internet_message_id,
        }
        client.post(
            client.mailbox_path("sendMail"),
            {"message": resource, "saveToSentItems": True},
        )

    def internet_message_id(
        self, message: OutboundMessage, client: GraphClient | None = None
    ) -> str:
        """``<switchboard.{our message id}@{mailbox domain}>``.

        :mod:`app.conversations.channels.outlook.sent` recognises this shape in Sent Items.
        """
        domain = (client or self.client).mailbox.rpartition("@")[2] or "switchboard.invalid"
        return f"<switchboard.{message.message_id.hex}@{domain}>"


def _addressing(message: OutboundMessage, *, default_to: bool) -> dict:
    """toRecipients/ccRecipients/bccRecipients and attachments of a message resource."""
    resource: dict = {}
    to = message.to or ((message.recipient,) if default_to else ())
    for key, addresses in (("toRecipients", to), ("ccRecipients", message.cc)):
        if addresses:
            resource[key] = _recipients(addresses)
    if message.bcc:
        resource["bccRecipients"] = _recipients(message.bcc)
    if message.attachments:
        resource["attachments"] = [
            {
                "@odata.type": "#microsoft.graph.fileAttachment",
                "name": attachment.filename,
                "contentType": attachment.mime_type,
                "contentBytes": base64.b64encode(attachment.read()).decode("ascii"),
            }
            for attachment in message.attachments
        ]
    return resource


def _recipients(addresses) -> list[dict]:
    return [{"emailAddress": {"address": address}} for address in addresses]


def _transport_error(exc: GraphError) -> TransportError:
    # The client has already recorded the failure on the provider status
    # (unhealthy for 401/403); here it only decides whether a retry may help.
    error = TransportError(str(exc), retryable=exc.retryable, code=exc.code)
    # Graph's Retry-After, for a caller that schedules its own retries.
    error.retry_after = exc.retry_after
    return error
