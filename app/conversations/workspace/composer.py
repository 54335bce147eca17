"""The reply box's helpers beyond writing: drafts, Undo send, WhatsApp's countdown.

Routes call these; the messages themselves are still written (and withdrawn)
by the conversation's owner.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from app.conversations.channels.whatsapp.window import WindowState
from app.conversations.core import withdraw_outbound
from app.conversations.reply_suggestions.offer import offered_suggestions, suggestions_due
from app.conversations.workspace.drafts import drafts_for, save_draft
from app.conversations.workspace.services import TYPED
from app.conversations.workspace.template_choice import VARIABLE_PREFIX
from app.platform.database import utcnow
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationThread,
    User,
)


def composer_extras(
    thread: CommunicationThread,
    user: User,
    window: WindowState | None,
    channel: CommunicationChannel | None = None,
) -> dict:
    """What the composer shows besides the form: the user's drafts, the suggested
    replies to the customer's latest message (past WhatsApp's window only
    approved templates) and, while replying on WhatsApp inside the 24-hour window,
    when that window closes."""
    open_window = window is not None and window.is_open
    closes_at = window.closes_at if open_window else None
    window_closed = window is not None and not window.is_open
    suggestions = offered_suggestions(thread, channel, user, window_closed=window_closed)
    return {
        "drafts": drafts_for(user, thread),
        "suggestions": suggestions,
        # Not ranked yet: the row ranks them in a request of its own, so the page
        # opens as fast as ever.
        "suggestions_due": not suggestions and suggestions_due(thread, channel, user),
        "window_closes_at": closes_at,
        "window_countdown": countdown_text(closes_at) if closes_at else None,
    }


def countdown_text(closes_at: datetime, now: datetime | None = None) -> str:
    """ "Window closes in 3 h 12 min" (static/js/composer.js words it the same way)."""
    minutes = int((closes_at - (now or utcnow())).total_seconds() // 60)
    if minutes < 1:
        return _("Window closes in less than a minute")
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("Window closes in %(hours)s h %(minutes)s min", hours=hours, minutes=minutes)
    return _("Window closes in %(minutes)s min", minutes=minutes)


@dataclass(frozen=True)
class UndoneReply:
    """A withdrawn reply, as the reply box gets it back."""

    form: dict[str, str]  # the composer's fields, as the agent had typed them
    files: list[str]  # names of the files it carried: attached again by hand
    kept_newer: bool  # text typed after Send was in the box and is kept below


def undo_reply(
    thread: CommunicationThread,
    user: User,
    message_id: uuid.UUID,
    typed_since: str | None = None,
) -> UndoneReply | None:
    """Withdraw the user's held reply in ``thread``; what they typed becomes their draft.

    Text typed in the box after Send (``typed_since``, what the box holds as
    Undo is pressed; else their reply draft, which sending cleared) is kept
    under the restored text rather than overwritten: nothing
    the agent wrote is lost, and the restored reply stays first, as it was
    written first. None when it cannot be undone any more (it is being sent)
    or is not theirs. The caller commits.
    """
    if typed_since is None:
        typed_since = drafts_for(user, thread).get("reply", "")
    newer = typed_since.strip()
    message = withdraw_outbound(thread, message_id, author_id=user.id)
    if message is None:
        return None
    form = restored_form(message)
    restored = form["content"].rstrip()
    kept_newer = bool(newer) and newer != restored.strip()
    if kept_newer:
        form["content"] = f"{restored}\n\n{newer}" if restored else newer
    save_draft(user, thread, "reply", form["content"])
    files = [a.get("filename") or "file" for a in message.attachments or []]
    return UndoneReply(form=form, files=files, kept_newer=kept_newer)


def restored_form(message: CommunicationMessage) -> dict[str, str]:
    """The reply box's fields for a withdrawn reply, as its author typed them.

    From the ``extra`` compose_reply kept; a reply held before that was kept
    comes back with its stored text (signatures included) and subject.
    """
    typed = (message.extra or {}).get(TYPED)
    if typed is None:
        return {
            "content": message.message_content or "",
            "subject": message.subject or "",
            "channel_id": str(message.channel_id),
            "template_id": str(message.template_id or ""),
        }
    form = {
        "content": typed.get("content") or "",
        "subject": typed.get("subject") or "",
        "channel_id": typed.get("channel_id") or str(message.channel_id),
        "template_id": typed.get("template_id") or "",
        # The reply form offers the quote with this pair (see _reply_extras.html).
        "quote_offered": "1",
        **({"quote": "1"} if typed.get("include_quote", True) else {}),
    }
    for key in ("to", "cc", "bcc"):
        if typed.get(key) is not None:
            form[key] = typed[key]
    for name, value in (typed.get("variables") or {}).items():
        form[f"{VARIABLE_PREFIX}{name}"] = value
    return form
