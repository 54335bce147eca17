"""Who has seen what: a conversation is unread for an agent until they open it.

The thread keeps the moment of its newest customer message
(``last_customer_message_at``, set by :func:`record_inbound`); each agent has a
``thread_reads`` row saying up to when they have seen it. Our own replies and
notes never touch the first, so they never make a conversation unread.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from app.database import upsert_insert, utcnow
from app.extensions import db
from app.models import CommunicationThread, ThreadRead, User


def note_customer_message(thread: CommunicationThread, at: datetime) -> None:
    """Remember the newest customer message (a late, older one changes nothing)."""
    if thread.last_customer_message_at is None or at > thread.last_customer_message_at:
        thread.last_customer_message_at = at


def mark_read(thread: CommunicationThread, user: User, *, at: datetime | None = None) -> None:
    """``user`` has seen ``thread`` as it is now; the caller commits.

    One upsert on (user, thread). The mark is never earlier than the newest
    customer message, so a provider timestamp a little ahead of our clock does
    not leave the conversation unread after it was opened.
    """
    seen = at or utcnow()
    if thread.last_customer_message_at is not None:
        seen = max(seen, thread.last_customer_message_at)
    now = utcnow()
    insert = upsert_insert(ThreadRead, db.engine.dialect.name)
    statement = insert.values(
        id=uuid.uuid4(),
        created_at=now,
        updated_at=now,
        user_id=user.id,
        thread_id=thread.id,
        last_read_at=seen,
    ).on_conflict_do_update(
        index_elements=["user_id", "thread_id"],
        set_={"last_read_at": insert.excluded.last_read_at, "updated_at": now},
    )
    db.session.execute(statement)
