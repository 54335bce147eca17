"""Reading a Graph message resource into an :class:`InboundMessage`.

E-mail HTML is untrusted: it is sanitised with nh3 (scripts, styles, event
handlers and javascript: links removed) before it is stored, and a plain-text
version is kept for previews, search and the timeline. The text comes from
Graph's ``uniqueBody`` when present, which leaves out the quoted history that
every reply drags along.
"""

from __future__ import annotations

import re
from email.utils import getaddresses
from html.parser import HTMLParser

import nh3

from app.conversations.channels.outlook.client import parse_graph_time
from app.conversations.core import InboundMessage
from app.platform.database import utcnow

# The properties the processor needs; bodies and headers only come when asked for.
MESSAGE_FIELDS = (
    "id,internetMessageId,conversationId,from,sender,subject,body,uniqueBody,"
    "receivedDateTime,hasAttachments,internetMessageHeaders,toRecipients,ccRecipients,replyTo"
)
ATTACHMENT_FIELDS = "id,name,contentType,size,isInline"
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def sender_of(graph_message: dict) -> tuple[str | None, str | None]:
    """(address, display name) from Graph's ``from``; (None, None) when absent."""
    address = ((graph_message.get("from") or {}).get("emailAddress")) or {}
    return (address.get("address") or None), (address.get("name") or None)


def to_inbound(graph_message: dict, attachments: list[dict]) -> InboundMessage:
    """The customer message as the threading code understands it."""
    address, name = sender_of(graph_message)
    body = graph_message.get("body") or {}
    unique = graph_message.get("uniqueBody") or body
    internet_message_id = graph_message.get("internetMessageId")
    received = graph_message.get("receivedDateTime")
    return InboundMessage(
        external_message_id=graph_message["id"],
        content=_as_text(unique) or _as_text(body),
        html=sanitise_html(body["content"]) if _is_html(body) else None,
        received_at=parse_graph_time(received) if received else utcnow(),
        subject=(graph_message.get("subject") or "").strip() or None,
        attachments=[_attachment(item) for item in attachments],
        sender_external={"email": address, "name": name},
        conversation_key=graph_message.get("conversationId"),
        replies_to=replied_message_ids(graph_message.get("internetMessageHeaders") or []),
        metadata={
            "internet_message_id": internet_message_id,
            "conversation_id": graph_message.get("conversationId"),
            # Which of our addresses it was sent to: a partner's order mailbox
            # makes it an order too (app.orders.email_intake.listeners).
            "recipients": recipients_of(graph_message),
            # Who a reply-all goes to: the composer prefills To and CC from these.
            "reply_to": addresses_of(graph_message, "replyTo"),
            "cc": addresses_of(graph_message, "ccRecipients"),
        },
    )


# Headers that name who a mail was for. Delivered-To and X-Original-To keep the
# alias an order mailbox forwards from, where To may be a list's address.
RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to")


def recipients_of(graph_message: dict) -> list[str]:
    """Every recipient address of a Graph message resource, lower case.

    Read from ``toRecipients``/``ccRecipients`` when selected, and from the
    internet message headers, which the Outlook channel always fetches.
    """
    found = []
    for key in ("toRecipients", "ccRecipients", "bccRecipients"):
        for recipient in graph_message.get(key) or []:
            found.append(((recipient or {}).get("emailAddress") or {}).get("address") or "")
    header_values = [
        header.get("value") or ""
        for header in graph_message.get("internetMessageHeaders") or []
        if (header.get("name") or "").lower() in RECIPIENT_HEADERS
    ]
    found += [address for _, address in getaddresses(header_values)]
    return list(dict.fromkeys(address.strip().lower() for address in found if "@" in address))


def addresses_of(graph_message: dict, key: str) -> list[str]:
    """The addresses of one recipient list of a Graph message (``replyTo``, ``ccRecipients``)."""
    found = (
        ((recipient or {}).get("emailAddress") or {}).get("address") or ""
        for recipient in graph_message.get(key) or []
    )
    return list(dict.fromkeys(address.strip() for address in found if "@" in address))


def replied_message_ids(headers: list[dict]) -> list[str]:
    """Message-IDs from In-Reply-To and References, the most direct parent first."""
    values = {(header.get("name") or "").lower(): header.get("value") or "" for header in headers}
    ids = _MESSAGE_ID.findall(values.get("in-reply-to", ""))
    # References lists the oldest first; the newest is the closest ancestor.
    ids += reversed(_MESSAGE_ID.findall(values.get("references", "")))
    return list(dict.fromkeys(ids))


def sanitise_html(html: str) -> str:
    return nh3.clean(html)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return parser.text()


def _as_text(body: dict) -> str:
    content = body.get("content") or ""
    text = html_to_text(content) if _is_html(body) else content
    return text.strip()


def _is_html(body: dict) -> bool:
    return (body.get("contentType") or "").lower() == "html" and bool(body.get("content"))


def _attachment(item: dict) -> dict:
    return {
        "name": item.get("name"),
        "content_type": item.get("contentType"),
        "size": item.get("size"),
        "inline": bool(item.get("isInline")),
        "graph_attachment_id": item.get("id"),
    }


class _TextExtractor(HTMLParser):
    """Visible text of an HTML mail, with line breaks where blocks end."""

    BLOCKS = {
        "address",
        "blockquote",
        "br",
        "div",
        "dl",
        "dt",
        "dd",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "li",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tr",
        "ul",
    }
    INVISIBLE = {"head", "script", "style", "template", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.INVISIBLE:
            self._hidden += 1
        elif tag in self.BLOCKS:
            self._parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        # <br/> is one line break, not an opening and a closing one.
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in self.INVISIBLE:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self.BLOCKS:
            self._parts.append("\n")

    def handle_data(self, data):
        if not self._hidden:
            self._parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self._parts).splitlines())
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
