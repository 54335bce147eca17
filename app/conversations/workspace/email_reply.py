"""What goes into an e-mail reply besides the agent's text: addressees, quote, signatures.

* **Addressees.** To is who the customer asked answers to go to (their last
  mail's Reply-To, else its sender, else the contact's address); CC is that
  mail's CC. Our own mailbox addresses are never prefilled: we would mail
  ourselves. Every address an agent types is checked, and a bad one is named.
* **Quote.** The customer's last e-mail, below the reply as mail clients do it:
  "Op 12-03-2026 om 14:02 schreef Jan:" (in the customer's language) and a blockquote.
* **Signatures.** The agent's, then the mailbox's (:mod:`app.conversations.signatures`).

Everything a person typed is escaped into the HTML here; the only markup in a
reply is ours (or an e-mail template's, which admins write).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, pgettext
from flask_babel import gettext as _
from markupsafe import Markup, escape

from app.conversations.signatures.services import agent_signature, mailbox_signature
from app.platform.extensions import db
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationThread,
    User,
)
from app.platform.models.enums import ChannelType, MessageType
from app.platform.system_texts import text
from app.platform.ui import local_time

MAX_RECIPIENTS = 50
# What our customers read is Dutch; a language per mailbox can come when one is needed.
CUSTOMER_LOCALE = "nl"
QUOTE_PREVIEW_LENGTH = 140
# Deliberately plain: one @, no spaces or list separators, a dotted domain.
# Mail servers accept more, but what an agent types wrongly ("jan@", "jan@home")
# is caught, and Graph refuses the rest with a clear error of its own.
_ADDRESS = re.compile(
    r"^[^@\s,;<>()\"']+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
)
_NAMED = re.compile(r"^.*<([^<>]*)>\s*$")
QUOTE_STYLE = "margin:0 0 0 .8ex;border-left:2px solid #ccc;padding-left:1ex"


class BadAddresses(ValueError):
    """Addressees that cannot be used; ``fields`` maps to/cc/bcc to what is wrong."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(fields.values()))
        self.fields = fields


@dataclass
class Addressees:
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)


@dataclass
class EmailComposer:
    """What the composer shows for an e-mail reply before the agent changes it."""

    to: str
    cc: str
    quote_intro: str | None
    quote_excerpt: str | None
    signatures: list[str]


def parse_addresses(key: str, raw: str | None, label: str | None = None) -> list[str]:
    """The addresses in a To/CC/BCC field (comma or semicolon separated); ``label`` is
    the field's name in the reader's language (``key`` if not given)."""
    found: list[str] = []
    for part in re.split(r"[,;\n]", raw or ""):
        text = part.strip()
        if not text:
            continue
        named = _NAMED.match(text)
        address = (named.group(1) if named else text).strip()
        if not _ADDRESS.match(address):
            raise BadAddresses(
                {
                    key.lower(): _(
                        "%(field)s: '%(text)s' is not an e-mail address.",
                        field=label or key,
                        text=text,
                    )
                }
            )
        if address.lower() not in (a.lower() for a in found):
            found.append(address)
    return found


def read_addressees(to: str | None, cc: str | None, bcc: str | None) -> Addressees:
    """Check the three fields; BadAddresses naming every field that is wrong."""
    problems: dict[str, str] = {}
    parsed = {}
    # The field names as the reply form shows them ("Aan" in Dutch, not "To").
    labels = {"To": pgettext("recipient", "To"), "CC": _("CC"), "BCC": _("BCC")}
    for key, raw in (("To", to), ("CC", cc), ("BCC", bcc)):
        try:
            parsed[key] = parse_addresses(key, raw, labels[key])
        except BadAddresses as exc:
            problems.update(exc.fields)
    if not problems and not parsed["To"]:
        problems["to"] = _("To: add at least one e-mail address.")
    if not problems and sum(len(v) for v in parsed.values()) > MAX_RECIPIENTS:
        problems["to"] = _("A reply can go to at most %(count)s addresses.", count=MAX_RECIPIENTS)
    if problems:
        raise BadAddresses(problems)
    return Addressees(parsed["To"], parsed["CC"], parsed["BCC"])


def our_addresses(channel: CommunicationChannel | None) -> set[str]:
    mine = {current_app.config.get("GRAPH_MAILBOX")}
    if channel is not None:
        mine.add((channel.configuration or {}).get("mailbox"))
    return {address.lower() for address in mine if address}


def last_customer_email(thread: CommunicationThread) -> CommunicationMessage | None:
    """The customer's newest e-mail in the thread: what a reply answers and quotes."""
    return db.session.scalar(
        sa.select(CommunicationMessage)
        .join(CommunicationChannel, CommunicationChannel.id == CommunicationMessage.channel_id)
        .where(
            CommunicationMessage.thread_id == thread.id,
            CommunicationMessage.message_type == MessageType.INCOMING,
            CommunicationChannel.channel_type == ChannelType.EMAIL_OUTLOOK,
        )
        .order_by(CommunicationMessage.created_at.desc())
        .limit(1)
    )


def prefilled_addressees(
    thread: CommunicationThread,
    channel: CommunicationChannel,
    last: CommunicationMessage | None = None,
) -> Addressees:
    """To and CC as a reply-all to the customer's last e-mail (``last``: already
    looked up), without our own mailbox."""
    ours = our_addresses(channel)
    last = last or last_customer_email(thread)
    meta = (last.extra or {}) if last is not None else {}
    sender = (last.sender_external or {}).get("email") if last is not None else None
    fallback = sender or (thread.contact.email if thread.contact else None)
    to = list(meta.get("reply_to") or []) or [fallback]
    cc = list(meta.get("cc") or [])

    def keep(addresses, exclude=()):
        kept: list[str] = []
        for address in addresses:
            lowered = (address or "").lower()
            if lowered and lowered not in ours and lowered not in exclude:
                if lowered not in (k.lower() for k in kept):
                    kept.append(address)
        return kept

    to = keep(to)
    return Addressees(to=to, cc=keep(cc, exclude={a.lower() for a in to}))


def quote_intro(message: CommunicationMessage) -> str:
    """The line above the quote, in the customer's language (Dutch until a mailbox says)."""
    with force_locale(CUSTOMER_LOCALE):
        name = (
            (message.sender_contact.display_name if message.sender_contact else None)
            or (message.sender_external or {}).get("name")
            or (message.sender_external or {}).get("email")
            or text("email.the_customer").render()
        )
        return text(
            "email.quote_intro",
            date=local_time(message.created_at, "%d-%m-%Y"),
            time=local_time(message.created_at, "%H:%M"),
            name=name,
        ).render()


def reply_signatures(author: User, channel: CommunicationChannel) -> list[str]:
    """The agent's signature, then the mailbox's; those that are set."""
    return [s for s in (agent_signature(author), mailbox_signature(channel)) if s]


def email_composer(
    thread: CommunicationThread, channel: CommunicationChannel, author: User
) -> EmailComposer:
    quoted = last_customer_email(thread)
    prefill = prefilled_addressees(thread, channel, quoted)
    excerpt = None
    if quoted is not None:
        text = " ".join((quoted.message_content or "").split())
        excerpt = text[:QUOTE_PREVIEW_LENGTH] + ("…" if len(text) > QUOTE_PREVIEW_LENGTH else "")
    return EmailComposer(
        to=", ".join(prefill.to),
        cc=", ".join(prefill.cc),
        quote_intro=quote_intro(quoted) if quoted is not None else None,
        quote_excerpt=excerpt,
        signatures=reply_signatures(author, channel),
    )


def with_signatures(body: str, signatures: list[str]) -> str:
    """The plain text of a reply as the timeline shows it: text, then signatures."""
    return "\n\n".join(part for part in [body, *signatures] if part)


def reply_html(
    body: str,
    template_html: str | None,
    signatures: list[str],
    quoted: CommunicationMessage | None,
) -> str | None:
    """The HTML body sent to Graph; None when plain text says it all (no extras)."""
    if template_html is None and not signatures and quoted is None:
        return None
    # An e-mail template's HTML is written by admins and rendered with escaped values.
    parts = [Markup(template_html) if template_html else _paragraphs(body)]  # noqa: S704
    for signature in signatures:
        parts.append(Markup('<div class="signature">{}</div>').format(_lines(signature)))
    if quoted is not None:
        quote = Markup('<div class="quote"><p>{}</p><blockquote style="{}">{}</blockquote></div>')
        parts.append(
            quote.format(quote_intro(quoted), QUOTE_STYLE, _lines(quoted.message_content or ""))
        )
    return str(Markup("<br>\n").join(parts))


def _lines(text: str) -> Markup:
    return Markup("<br>").join(escape(line) for line in text.split("\n"))


def _paragraphs(text: str) -> Markup:
    return Markup("").join(
        Markup("<p>{}</p>").format(_lines(block)) for block in re.split(r"\n\s*\n", text) if block
    )
