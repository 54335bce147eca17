"""Background jobs of the notifications feature. They take ids, never objects."""

from __future__ import annotations

import logging
import uuid

from app.conversations.notifications.services import announce, create_notification
from app.platform.extensions import db
from app.platform.models import User
from app.platform.system_texts import text
from app.platform.transactions import commit

log = logging.getLogger(__name__)


def send_test_notification(user_id: str) -> str | None:
    """Create a test notification for a user and push it live.

    Used by the "send me a test notification" button, which proves the whole
    loop (web → queue → worker → Socket.IO → browser) on a real deployment.
    """
    user = db.session.get(User, uuid.UUID(user_id))
    if user is None:
        log.warning("test notification for unknown user %s skipped", user_id)
        return None
    notification = create_notification(
        user.id,
        "test",
        text("notification.test"),
        text("notification.test_body"),
    )
    commit()
    announce(notification)
    return str(notification.id)
