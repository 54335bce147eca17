"""Colleagues as the conversation page shows them: a name and its initials."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa

from app.conversations.inbox.access import can_access_thread
from app.platform.extensions import db
from app.platform.models import CommunicationThread, User
from app.platform.models.enums import Role

# Who can be @mentioned: people who work conversations (technicians read theirs
# on the phone, where notes are not written).
MENTIONABLE_ROLES = (Role.AGENT, Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN, Role.TECHNICIAN)


def initials(name: str) -> str:
    """``Sanne de Vries`` → ``SV``; one word gives one letter."""
    words = [word for word in name.split() if word[:1].isalnum()]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()


def person(user: User) -> dict:
    return {"id": str(user.id), "name": user.name, "initials": initials(user.name)}


def people(user_ids: Iterable[uuid.UUID]) -> list[dict]:
    """Active users among ``user_ids``, by name."""
    ids = list(user_ids)
    if not ids:
        return []
    users = db.session.scalars(
        sa.select(User)
        .where(User.id.in_(ids), User.is_active_account.is_(True))
        .order_by(User.name, User.id)
    )
    return [person(user) for user in users]


def mentionable(viewer: User, thread: CommunicationThread | None = None) -> list[dict]:
    """Active colleagues ``viewer`` can @mention, by name.

    With ``thread``: only those who may open it, since a mention notifies only
    them (:func:`app.conversations.notifications.listeners.notify_mentioned_colleagues`).
    """
    users = db.session.scalars(
        sa.select(User)
        .where(
            User.is_active_account.is_(True),
            User.role.in_(MENTIONABLE_ROLES),
            User.id != viewer.id,
        )
        .order_by(User.name, User.id)
    ).all()
    if thread is not None:
        users = [user for user in users if can_access_thread(user, thread)]
    return [person(user) for user in users]


def find_thread(thread_id: uuid.UUID) -> CommunicationThread | None:
    """The conversation whose colleagues are asked for."""
    return db.session.get(CommunicationThread, thread_id)
