"""The message an attachment belongs to."""

from __future__ import annotations

import uuid

from app.platform.extensions import db
from app.platform.models import CommunicationMessage


def find_message(message_id: uuid.UUID) -> CommunicationMessage | None:
    return db.session.get(CommunicationMessage, message_id)
