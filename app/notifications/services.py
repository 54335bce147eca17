"""Creating, listing and reading notifications."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.database import utcnow
from app.extensions import db
from app.models import Notification
from app.models.enums import Priority
from app.realtime import publish_to_users


def create_notification(
    user_id: uuid.UUID,
    notification_type: str,
    title: str,
    message: str | None = None,
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
    """
    notification = Notification(
        user_id=user_id,
        notification_type=notification_type,
        title=title,
        message=message,
        priority=priority,
        source_table=source_table,
        source_record_id=source_record_id,
        link=link,
    )
    db.session.add(notification)
    if flush:
        db.session.flush()
    return notification


def notification_to_dict(notification: Notification) -> dict:
    return {
        "id": str(notification.id),
        "type": notification.notification_type,
        "title": notification.title,
        "message": notification.message,
        "priority": notification.priority.value,
        "link": notification.link,
        "created_at": notification.created_at.isoformat(),
        "read_at": notification.read_at.isoformat() if notification.read_at else None,
    }


def announce(notification: Notification) -> None:
    """Push a committed notification to its user's browsers."""
    publish_to_users("notification:new", notification_to_dict(notification), [notification.user_id])


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
