"""Who has seen what: a conversation is unread for an agent until they open it.

The thread keeps the moment we took in its newest customer message
(``last_customer_message_at``, set by :func:`record_inbound` from OUR clock,
not the provider's: a message that reaches us late still comes after any mark
an agent made before it arrived). Each agent has a ``thread_reads`` row saying
up to which of those moments they have seen it. Our own replies and notes never
touch the first, so they never make a conversation unread.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from app.platform.database import upsert_insert, utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationThread, ThreadRead, User


def note_customer_message(thread: CommunicationThread, at: datetime | None = None) -> None:
    """Remember that a customer message was taken in at ``at`` (now); never moves back."""
    at = at or utcnow()
    if thread.last_customer_message_at is None or at > thread.last_customer_message_at:
        thread.last_customer_message_at = at


def mark_read(thread: CommunicationThread, user: User, *, up_to: datetime | None) -> None:
    """``user`` has seen ``thread`` up to ``up_to``; the caller commits.

    ``up_to`` is the thread's ``last_customer_message_at`` as it was when the
    timeline the agent looks at was rendered, never "now": a message taken in
    between render and mark stays unread. None (no customer message shown)
    marks nothing. One upsert on (user, thread) that never moves a mark back,
    so an older tab marking late does not undo a newer one.
    """
    if up_to is None:
        return
    mark_read_by(thread.id, user.id, up_to=up_to)


def mark_read_by(thread_id: uuid.UUID, user_id: uuid.UUID, *, up_to: datetime) -> None:
    """:func:`mark_read` by ids (a merge carries agents' marks over to the kept thread)."""
    now = utcnow()
    insert = upsert_insert(ThreadRead, db.session.get_bind().dialect.name)
    statement = insert.values(
        id=uuid.uuid4(),
        created_at=now,
        updated_at=now,
        user_id=user_id,
        thread_id=thread_id,
        last_read_at=up_to,
    ).on_conflict_do_update(
        index_elements=["user_id", "thread_id"],
        set_={
            "last_read_at": sa.case(
                (ThreadRead.last_read_at > insert.excluded.last_read_at, ThreadRead.last_read_at),
                else_=insert.excluded.last_read_at,
            ),
            "updated_at": now,
        },
    )
    db.session.execute(statement)
