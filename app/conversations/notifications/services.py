"""Creating, listing and reading notifications."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask_babel import force_locale

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.i18n import language_of
from app.platform.models import Notification, User
from app.platform.models.enums import Priority
from app.platform.realtime import publish_to_users
from app.platform.system_texts import Sentence, SystemText, english, parts, render_stored, to_json


def create_notification(
    user_id: uuid.UUID,
    notification_type: str,
    title: Sentence,
    message: Sentence | None = None,
    *,
    priority: Priority = Priority.NORMAL,
    source_table: str | None = None,
    source_record_id: uuid.UUID | None = None,
    link: str | None = None,
    flush: bool = True,
) -> Notification:
    """Add a notification to the session; the caller commits, then calls ``announce``.

    ``flush=False`` leaves the insert for the caller's next flush, for callers
    making many at once (the SLA ladder), which then flush once.

    ``title`` and ``message`` are catalogue sentences (:mod:`app.platform.system_texts`),
    never plain strings, so every reader gets them in their own language; words
    we did not write (a customer's excerpt) go in as ``verbatim(...)``.
    """
    for name, sentence in (("title", title), ("message", message)):
        if sentence is not None and not all(isinstance(p, SystemText) for p in parts(sentence)):
            raise TypeError(f"a notification's {name} is a catalogue sentence, not {sentence!r}")
    notification = Notification(
        user_id=user_id,
        notification_type=notification_type,
        title=english(title)[:255],
        title_text=to_json(title),
        message=english(message) if message is not None else None,
        message_text=to_json(message) if message is not None else None,
        priority=priority,
        source_table=source_table,
        source_record_id=source_record_id,
        link=link,
    )
    db.session.add(notification)
    if flush:
        db.session.flush()
    return notification


def notification_to_dict(notification: Notification, *, rendered: bool = False) -> dict:
    """The API's view (English title and message); ``rendered``: in the recipient's language."""
    title, message = notification.title, notification.message
    if rendered:
        with force_locale(recipient_language(notification.user_id)):
            title, message = rendered_texts(notification)
    return {
        "id": str(notification.id),
        "type": notification.notification_type,
        "title": title,
        "message": message,
        "priority": notification.priority.value,
        "link": notification.link,
        "created_at": notification.created_at.isoformat(),
        "read_at": notification.read_at.isoformat() if notification.read_at else None,
    }


def rendered_texts(notification: Notification) -> tuple[str, str | None]:
    """Title and message in the current locale (rows from before the catalogue: as stored)."""
    message = None
    if notification.message_text or notification.message:
        message = render_stored(notification.message_text, notification.message)
    return render_stored(notification.title_text, notification.title), message


def recipient_language(user_id: uuid.UUID) -> str:
    """The language a push is rendered in: the recipient's
    (:func:`app.platform.i18n.language_of`)."""
    return language_of(db.session.get(User, user_id))


def announce(notification: Notification) -> None:
    """Push a committed notification to its user's browsers, in their language."""
    publish_to_users(
        "notification:new",
        notification_to_dict(notification, rendered=True),
        [notification.user_id],
    )


def unread_count(user_id: uuid.UUID) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(Notification.id)).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def recent_notifications(user_id: uuid.UUID, limit: int = 20) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.created_at.desc())
            .limit(limit)
        )
    )


def mark_read(user_id: uuid.UUID, notification_id: uuid.UUID) -> bool:
    """Mark one of the user's notifications read; False if it is not theirs (or unknown).

    Reading one that is already read changes nothing and is no error.
    """
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        return False
    if notification.read_at is None:
        notification.read_at = utcnow()
    return True


def mark_all_read(user_id: uuid.UUID) -> int:
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount or 0
