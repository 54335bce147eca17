"""The reply box's warning when a reply would cross someone else's message.

"Sanne replied 2 minutes ago — send anyway?": each newer message says who
wrote it and how long ago, in the reader's language (Babel's relative time).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_timedelta
from flask_babel import gettext as _

from app.conversations.core import ReplyCollision, latest_message_id
from app.platform.database import utcnow
from app.platform.models import CommunicationThread
from app.platform.models.enums import MessageType


@dataclass(frozen=True)
class CollisionLine:
    message_id: str
    text: str


@dataclass(frozen=True)
class CollisionWarning:
    lines: list[CollisionLine]
    first_message_id: str
    # What the page shows once the warning brings the timeline up to date.
    latest_message_id: str


def collision_warning(thread: CommunicationThread, collision: ReplyCollision) -> CollisionWarning:
    now = utcnow()
    lines = []
    for message in collision.newer:
        when = format_timedelta(message.created_at - now, add_direction=True)
        if message.message_type == MessageType.INCOMING:
            name = (
                message.sender_contact.display_name if message.sender_contact else _("The customer")
            )
            text = _("%(name)s wrote %(when)s", name=name, when=when)
        else:
            name = message.sender_user.name if message.sender_user else _("Someone")
            text = _("%(name)s replied %(when)s", name=name, when=when)
        lines.append(CollisionLine(str(message.id), text))
    return CollisionWarning(
        lines=lines,
        first_message_id=lines[0].message_id,
        latest_message_id=str(latest_message_id(thread) or ""),
    )
