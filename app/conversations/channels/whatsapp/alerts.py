"""Telling admins when WhatsApp stops working for a reason only a person can fix."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from app.conversations.notifications.services import announce, create_notification
from app.platform.extensions import db
from app.platform.models import User
from app.platform.models.enums import Priority, Role
from app.platform.system_texts import text
from app.platform.transactions import after_commit
from app.platform.transports.health import record_failure, statuses

log = logging.getLogger(__name__)

PROVIDER = "whatsapp"
CHANNELS_PAGE = "/admin/channels/"


def report_invalid_token(reason: str) -> None:
    """Mark WhatsApp unhealthy and, the first time, notify every active admin.

    Meta's error 190 means the access token expired or was revoked: every send
    fails until someone configures a new one, so retrying is pointless and a
    person must hear of it. Only the change from healthy to unhealthy notifies,
    so a queue of fifty replies does not become fifty alerts per admin. The
    notifications are announced once the caller commits.
    """
    current = statuses().get(PROVIDER)
    already_unhealthy = current is not None and current.unhealthy
    record_failure(PROVIDER, reason, unhealthy=True)
    log.error("WhatsApp access token rejected: %s", reason)
    if already_unhealthy:
        return
    admins = db.session.scalars(
        sa.select(User).where(User.role == Role.ADMIN, User.is_active_account.is_(True))
    ).all()
    for admin in admins:
        notification = create_notification(
            admin.id,
            "integration_unhealthy",
            text("notification.whatsapp_token"),
            text("notification.whatsapp_token_body", reason=reason),
            priority=Priority.URGENT,
            link=CHANNELS_PAGE,
        )
        after_commit(lambda n=notification: announce(n))
