"""What an agent does in a conversation: loading it, its timeline, replies and notes.

Routes and the JSON API call these functions and commit with
``app.platform.transactions.commit``. The messages themselves are written by the
conversation's owner (:mod:`app.conversations.core`), whose events tell browsers and
queue the send once the commit is done.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from app.conversations.attachments.uploads import AttachmentRefused, read_uploads
from app.conversations.channels.whatsapp.limits import MAX_TEXT_LENGTH as WHATSAPP_MAX_TEXT
from app.conversations.channels.whatsapp.templates import (
    EDITED_TEMPLATE,
    same_text,
    template_parameters,
)
from app.conversations.channels.whatsapp.window import closed_refusal, service_window
from app.conversations.core import (
    ReplyCollision,
    UnknownSeenMessage,
    newer_than_seen,
    post_note,
    post_outbound,
)
from app.conversations.inbox.access import can_access_thread
from app.conversations.message_templates.rendering import TemplateRenderError, render_for_thread
from app.conversations.message_templates.services import record_use
from app.conversations.reply_suggestions.outcomes import SUGGESTION_KEY
from app.conversations.signatures.services import mailbox_signature
from app.conversations.workspace.email_reply import (
    Addressees,
    BadAddresses,
    last_customer_email,
    prefilled_addressees,
    read_addressees,
    reply_html,
    reply_signatures,
    with_signatures,
)
from app.conversations.workspace.technician_replies import (
    check_technician_reply,
    writes_as_technician,
)
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationTemplate,
    CommunicationThread,
    InternalTask,
    User,
)
from app.platform.models.enums import ChannelType, MessageType

MAX_MESSAGE_LENGTH = 20_000
# The key of a held reply's ``extra`` that keeps the composer's fields as typed.
TYPED = "composer_typed"


class ThreadNotFound(LookupError):
    pass


class AccessDenied(PermissionError):
    """The viewer may not see the thread; ``owner`` says whose it is, for the refusal."""

    def __init__(self, thread_id: str, owner: str = "") -> None:
        super().__init__(thread_id)
        self.owner = owner


def _owner(thread: CommunicationThread) -> str:
    """Whose conversation this is, in a sentence for the person turned away."""
    team = thread.assigned_team.name if thread.assigned_team else None
    assignee = thread.assigned_to.name if thread.assigned_to else None
    if team and assignee:
        return _(
            "This conversation belongs to the team %(team)s and is assigned to %(assignee)s.",
            team=team,
            assignee=assignee,
        )
    if team:
        return _(
            "This conversation belongs to the team %(team)s and is not assigned to anyone yet.",
            team=team,
        )
    if assignee:
        return _("This conversation is assigned to %(assignee)s.", assignee=assignee)
    return _("This conversation is not one you can open.")


class InvalidInput(ValueError):
    """Bad input; ``fields`` maps each offending field to what is wrong with it."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def load_thread(thread_id: uuid.UUID | str, viewer: User) -> CommunicationThread:
    """The thread, if it exists and ``viewer`` may see it."""
    try:
        ident = thread_id if isinstance(thread_id, uuid.UUID) else uuid.UUID(str(thread_id))
    except ValueError as exc:
        raise ThreadNotFound(str(thread_id)) from exc
    thread = db.session.scalar(
        sa.select(CommunicationThread)
        .options(
            so.joinedload(CommunicationThread.contact),
            so.joinedload(CommunicationThread.channel),
            so.joinedload(CommunicationThread.assigned_to),
            so.joinedload(CommunicationThread.order),
        )
        .where(CommunicationThread.id == ident)
    )
    if thread is None:
        raise ThreadNotFound(str(thread_id))
    if not can_access_thread(viewer, thread):
        raise AccessDenied(str(thread_id), _owner(thread))
    return thread


# --- the timeline ------------------------------------------------------------

# A thread can hold hundreds of messages from a handful of senders and channels:
# load those once each (selectin) instead of repeating them on every row, and
# leave out the columns the timeline never shows (it shows e-mail addressees).
# ``extra`` is loaded: the sender labels and system texts read it on every row
# (deferred, it cost one query per message).
MESSAGE_LOAD_OPTIONS = (
    so.selectinload(CommunicationMessage.channel),
    so.selectinload(CommunicationMessage.sender_user),
    so.selectinload(CommunicationMessage.sender_contact),
    so.defer(CommunicationMessage.message_html),
)


@dataclass
class TimelineEntry:
    kind: str  # "message" or "task"
    at: datetime
    item: CommunicationMessage | InternalTask


def timeline(thread: CommunicationThread) -> list[TimelineEntry]:
    """Messages of every channel, notes, status changes and tasks, oldest first."""
    messages = db.session.scalars(
        sa.select(CommunicationMessage)
        .options(*MESSAGE_LOAD_OPTIONS)
        .where(CommunicationMessage.thread_id == thread.id)
        .order_by(CommunicationMessage.created_at, CommunicationMessage.id)
    ).all()
    tasks = db.session.scalars(
        sa.select(InternalTask)
        .options(so.joinedload(InternalTask.assigned_to))
        .where(InternalTask.thread_id == thread.id)
    ).all()
    entries = [TimelineEntry("message", m.created_at, m) for m in messages]
    entries += [TimelineEntry("task", t.created_at, t) for t in tasks]
    entries.sort(key=lambda entry: entry.at)
    return entries


# --- replying ----------------------------------------------------------------


def reachable_channels(thread: CommunicationThread) -> list[CommunicationChannel]:
    """Active sending channels the thread's contact has an address on, own channel first."""
    contact = thread.contact
    if contact is None:
        return []
    wanted = []
    if contact.phone:
        wanted += [ChannelType.WHATSAPP_BUSINESS, ChannelType.SMS]
    if contact.email:
        wanted.append(ChannelType.EMAIL_OUTLOOK)
    channels = db.session.scalars(
        sa.select(CommunicationChannel)
        .where(
            CommunicationChannel.is_active.is_(True),
            CommunicationChannel.channel_type.in_(wanted),
        )
        .order_by(CommunicationChannel.channel_name)
    ).all()
    return sorted(channels, key=lambda channel: channel.id != thread.channel_id)


def _recipient_for(thread: CommunicationThread, channel: CommunicationChannel) -> dict:
    contact = thread.contact
    if channel.channel_type == ChannelType.EMAIL_OUTLOOK:
        return {"email": contact.email, "name": contact.display_name}
    return {"phone": contact.phone, "name": contact.display_name}


def compose_reply(
    thread: CommunicationThread,
    author: User,
    *,
    content: str | None,
    channel_id: uuid.UUID | str | None = None,
    subject: str | None = None,
    template_id: uuid.UUID | str | None = None,
    variables: dict[str, str] | None = None,
    to: str | None = None,
    cc: str | None = None,
    bcc: str | None = None,
    uploads: Sequence[tuple[str | None, BinaryIO]] = (),
    include_quote: bool = True,
    hold_seconds: float = 0,
    seen_message_id: str | None = None,
    confirm: bool = False,
    system_composed: bool = False,
    suggestion_id: str | None = None,
) -> CommunicationMessage:
    """Add an outbound reply (pending) to ``thread``; the caller commits.

    ``hold_seconds``: the reply waits that long before it is sent, while its
    author may still undo it (the composer's "Undo send").

    With a template and no content, the template is rendered for this thread;
    with both, the (possibly edited) content is sent and the template recorded.

    E-mail replies go to ``to``/``cc``/``bcc`` (comma-separated; ``to`` None:
    the addressees of the customer's last mail), carry the agent's and the
    mailbox's signatures and, unless ``include_quote`` is False, quote the
    customer's last mail. ``uploads`` (filename, stream) are checked against the
    channel's limits before anything is written. If the caller's commit fails,
    it removes the stored files (``discard_message_files(message.id)``).

    ``seen_message_id``: the newest message the agent's page showed ("" for
    none). If a colleague replied or the customer wrote after it, nothing is
    written and :class:`~app.conversations.core.ReplyCollision` lists those
    messages, unless the agent ``confirm``-ed sending anyway. None (the JSON
    API, the phone) checks nothing.

    A technician sends only visit messages to their own visit's customer
    (:mod:`app.conversations.workspace.technician_replies`); ``system_composed`` says the visit
    code (the phone's, the planning's), not the author, wrote the message and its
    variables: it carries the mailbox's signature only, not the author's.

    ``suggestion_id``: the suggested reply the agent started from (the composer's
    chips); kept on the message with the text as typed, where
    :mod:`app.conversations.reply_suggestions.outcomes` reads it.
    """
    if seen_message_id is not None and not confirm:
        _refuse_crossing(thread, author, seen_message_id)
    channels = reachable_channels(thread)
    channel = _pick_channel(thread, channels, channel_id)
    template = _load_template(template_id) if template_id else None
    check_technician_reply(
        thread,
        author,
        template=template,
        content=content,
        variables=variables,
        addressees_given=any((to, cc, bcc)),
        subject_given=bool((subject or "").strip()),
        has_uploads=any(name for name, _stream in uploads),
        system_composed=system_composed,
    )
    # As typed, before signatures, quote and template are added: Undo send puts
    # exactly this back in the reply box (app.conversations.workspace.composer.restored_form).
    typed = {
        "content": content or "",
        "subject": subject,
        "channel_id": str(channel.id),
        "template_id": str(template.id) if template else None,
        "variables": dict(variables or {}),
        "to": to,
        "cc": cc,
        "bcc": bcc,
        "include_quote": include_quote,
    }
    body = (content or "").strip()
    html = None
    # Past WhatsApp's 24-hour window only an approved template goes through.
    as_whatsapp_template = False
    if channel.channel_type == ChannelType.WHATSAPP_BUSINESS:
        window = service_window(thread)
        if not window.is_open:
            if template is None or not template.whatsapp_template_name:
                raise InvalidInput({"content": closed_refusal(window)})
            as_whatsapp_template = True
    if template is not None and (not body or as_whatsapp_template):
        try:
            rendered = render_for_thread(template, thread, author, variables)
        except TemplateRenderError as exc:
            raise InvalidInput(exc.fields or {"template_id": exc.message}) from exc
        if as_whatsapp_template and body and not same_text(body, rendered.body):
            raise InvalidInput({"content": EDITED_TEMPLATE})
        body, html = rendered.body.strip(), rendered.html
        subject = subject or rendered.subject
    files = _checked_files(uploads, channel, as_whatsapp_template)
    if not body and not files:
        raise InvalidInput({"content": _("Write a reply before sending.")})
    _check_length(body, channel, as_whatsapp_template)
    recipient = _recipient_for(thread, channel)
    extra = {"reply_to": _last_inbound_external_id(thread, channel)}
    if _is_uuid(suggestion_id):
        # As typed (no signature or quote): whether it was sent as suggested or edited.
        extra[SUGGESTION_KEY] = {"id": str(suggestion_id), "typed": content or ""}
    if hold_seconds > 0:
        extra[TYPED] = typed
    if channel.channel_type == ChannelType.EMAIL_OUTLOOK:
        subject = (subject or "").strip() or _reply_subject(thread.thread_subject)
        if writes_as_technician(author):
            # A visit message goes to the customer's own address, whatever
            # Reply-To or CC their last mail carried, under the mailbox's name.
            addressees = _customer_only(thread)
            signatures = [s for s in (mailbox_signature(channel),) if s]
        else:
            addressees = _addressees(thread, channel, to, cc, bcc)
            signatures = reply_signatures(author, channel)
        if system_composed:
            # Written by the visit code in ChargeCars' name (a plan notice, "on my
            # way"), whose text ends with its own sign-off; the person whose action
            # sent it did not write it, so their signature (a sign-off itself) would
            # sign it twice. The mailbox's footer stays.
            signatures = [s for s in (mailbox_signature(channel),) if s]
        recipient.update(email=addressees.to[0], to=addressees.to, cc=addressees.cc)
        recipient["bcc"] = addressees.bcc
        quoted = last_customer_email(thread) if include_quote else None
        html = reply_html(body, html, signatures, quoted)
        body = with_signatures(body, signatures)
        if quoted is not None:
            extra["quoted_message_id"] = str(quoted.id)
    else:
        subject = None

    if as_whatsapp_template:
        # The send job sends a template message when these are present.
        extra["template_parameters"] = template_parameters(template, thread, author, variables)
    message = post_outbound(
        thread,
        channel_id=channel.id,
        body=body,
        recipient=recipient,
        author_id=author.id,
        subject=subject,
        html=html,
        template_id=template.id if template else None,
        extra=extra,
        # The customer has their answer; nothing is owed until they write again.
        answers_customer=True,
        files=files,
        hold_until=utcnow() + timedelta(seconds=hold_seconds) if hold_seconds > 0 else None,
    )
    if template is not None:
        record_use(template.id)
    return message


def _check_length(body: str, channel: CommunicationChannel, as_template: bool) -> None:
    """Refuse a reply longer than its channel takes, so the text stays in the box."""
    if len(body) > MAX_MESSAGE_LENGTH:
        raise InvalidInput(
            {"content": _("A reply can be at most %(count)s characters.", count=MAX_MESSAGE_LENGTH)}
        )
    # An approved template's text is WhatsApp's own; free text must fit one message.
    if channel.channel_type == ChannelType.WHATSAPP_BUSINESS and not as_template:
        if len(body) > WHATSAPP_MAX_TEXT:
            raise InvalidInput(
                {
                    "content": _(
                        "A WhatsApp message can be at most %(count)s characters; "
                        "this reply has %(length)s. Shorten it or split it in two.",
                        count=WHATSAPP_MAX_TEXT,
                        length=len(body),
                    )
                }
            )


def _refuse_crossing(thread: CommunicationThread, author: User, seen_message_id: str) -> None:
    try:
        newer = newer_than_seen(thread, seen_message_id, author_id=author.id)
    except UnknownSeenMessage as exc:
        raise InvalidInput(
            {"seen_message_id": _("Not a message of this conversation; reload the page.")}
        ) from exc
    if newer:
        raise ReplyCollision(newer)


def _checked_files(uploads, channel: CommunicationChannel, as_template: bool):
    uploads = [(name, stream) for name, stream in uploads if name]
    if uploads and as_template:
        raise InvalidInput(
            {"attachments": _("An approved WhatsApp template cannot carry files; send it without.")}
        )
    try:
        return read_uploads(uploads, channel.channel_type.value)
    except AttachmentRefused as exc:
        raise InvalidInput({"attachments": str(exc)}) from exc


def _addressees(thread, channel, to, cc, bcc):
    if to is None and cc is None and bcc is None:
        # No fields at all (the JSON API, the phone): reply to whom the customer asked.
        prefill = prefilled_addressees(thread, channel)
        if prefill.to:
            return prefill
    try:
        return read_addressees(to, cc, bcc)
    except BadAddresses as exc:
        raise InvalidInput(exc.fields) from exc


def _customer_only(thread) -> Addressees:
    email = thread.contact.email if thread.contact else None
    if not email:
        raise InvalidInput({"to": _("The customer has no e-mail address.")})
    return Addressees(to=[email])


def _pick_channel(thread, channels, channel_id) -> CommunicationChannel:
    if not channels:
        raise InvalidInput(
            {"channel": _("This contact has no phone number or e-mail address to reply to.")}
        )
    if channel_id:
        for channel in channels:
            if str(channel.id) == str(channel_id):
                return channel
        raise InvalidInput({"channel": _("The contact cannot be reached on that channel.")})
    return channels[0]


def _load_template(template_id) -> CommunicationTemplate:
    try:
        template = db.session.get(CommunicationTemplate, uuid.UUID(str(template_id)))
    except ValueError:
        template = None
    if template is None or not template.is_active:
        raise InvalidInput({"template_id": _("No active template with that id.")})
    return template


def _is_uuid(raw: object) -> bool:
    try:
        uuid.UUID(str(raw))
    except ValueError:
        return False
    return raw is not None


def _reply_subject(subject: str) -> str:
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def _last_inbound_external_id(thread, channel) -> str | None:
    return db.session.scalar(
        sa.select(CommunicationMessage.external_message_id)
        .where(
            CommunicationMessage.thread_id == thread.id,
            CommunicationMessage.channel_id == channel.id,
            CommunicationMessage.message_type == MessageType.INCOMING,
            CommunicationMessage.external_message_id.is_not(None),
        )
        .order_by(CommunicationMessage.created_at.desc())
        .limit(1)
    )


def add_note(
    thread: CommunicationThread, author: User, content: str | None
) -> CommunicationMessage:
    """An internal note: seen by colleagues, never sent to the customer."""
    body = (content or "").strip()
    if not body:
        raise InvalidInput({"content": _("Write a note before saving.")})
    if len(body) > MAX_MESSAGE_LENGTH:
        raise InvalidInput(
            {"content": _("A note can be at most %(count)s characters.", count=MAX_MESSAGE_LENGTH)}
        )
    return post_note(thread, author.id, body)
