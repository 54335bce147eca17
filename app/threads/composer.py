"""The reply box's helpers beyond writing: drafts, Undo send, WhatsApp's countdown.

Routes call these; the messages themselves are still written (and withdrawn)
by the conversation's owner.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from app.channels.whatsapp.window import WindowState
from app.conversations import withdraw_outbound
from app.database import utcnow
from app.models import CommunicationMessage, CommunicationThread, User
from app.threads.drafts import drafts_for, save_draft


def composer_extras(
    thread: CommunicationThread, user: User, window: WindowState | None
) -> dict:
    """What the composer shows besides the form: the user's drafts and, while
    replying on WhatsApp inside the 24-hour window, when that window closes."""
    open_window = window is not None and window.is_open
    closes_at = window.closes_at if open_window else None
    return {
        "drafts": drafts_for(user, thread),
        "window_closes_at": closes_at,
        "window_countdown": countdown_text(closes_at) if closes_at else None,
    }


def countdown_text(closes_at: datetime, now: datetime | None = None) -> str:
    """ "Window closes in 3 h 12 min" (static/js/composer.js words it the same way)."""
    minutes = int((closes_at - (now or utcnow())).total_seconds() // 60)
    if minutes < 1:
        return "Window closes in less than a minute"
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"Window closes in {hours} h {minutes} min"
    return f"Window closes in {minutes} min"


def undo_reply(
    thread: CommunicationThread, user: User, message_id: uuid.UUID
) -> CommunicationMessage | None:
    """Withdraw the user's held reply in ``thread`` and keep its text as their draft.

    None when it cannot be undone any more (it is being sent) or is not theirs.
    The caller commits.
    """
    message = withdraw_outbound(thread, message_id, author_id=user.id)
    if message is None:
        return None
    save_draft(user, thread, "reply", message.message_content)
    return message
