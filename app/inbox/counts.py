"""Unread marks and the counts on the inbox tabs.

A conversation is unread for the viewer when a customer wrote after the
viewer last opened it (``thread_reads``, kept by ``app.conversations.mark_read``).
The tab counts are of open conversations (resolved and closed ones sit in
urgency bucket 2), each one an index range count:

- Mine: ``ix_communication_thread_assignee_urgency`` on (me, bucket < 2);
- Unassigned: the same index on (NULL, bucket < 2), narrowed to what the viewer sees;
- Overdue: ``ix_communication_thread_urgency`` on (bucket 0, score < now).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.database import utcnow
from app.extensions import db
from app.inbox.access import visible_threads_clause
from app.models import CommunicationThread, ThreadRead, User

OPEN_BUCKETS = 2  # urgency_bucket < 2: open, with or without a deadline


def viewer_read_join(viewer: User) -> sa.ColumnElement[bool]:
    """The ON clause of the outer join to the viewer's own read mark."""
    return sa.and_(
        ThreadRead.thread_id == CommunicationThread.id, ThreadRead.user_id == viewer.id
    )


def unread_expression() -> sa.ColumnElement[bool]:
    """True for a row of the outer join whose customer wrote after the viewer looked."""
    thread = CommunicationThread
    return sa.and_(
        thread.last_customer_message_at.is_not(None),
        sa.or_(
            ThreadRead.last_read_at.is_(None),
            ThreadRead.last_read_at < thread.last_customer_message_at,
        ),
    )


def tab_counts(viewer: User, now: datetime | None = None) -> dict[str, int]:
    """Open conversations on the Mine, Unassigned and Overdue tabs, in one round trip."""
    now = now or utcnow()
    thread = CommunicationThread
    visible = visible_threads_clause(viewer)

    def count(*conditions) -> sa.ScalarSelect:
        where = list(conditions) + ([visible] if visible is not None else [])
        return sa.select(sa.func.count()).select_from(thread).where(*where).scalar_subquery()

    mine, unassigned, overdue = db.session.execute(
        sa.select(
            # Assigned to the viewer: always visible to them, no access clause needed.
            sa.select(sa.func.count())
            .select_from(thread)
            .where(thread.assigned_to_user_id == viewer.id, thread.urgency_bucket < OPEN_BUCKETS)
            .scalar_subquery(),
            count(thread.assigned_to_user_id.is_(None), thread.urgency_bucket < OPEN_BUCKETS),
            count(thread.urgency_bucket == 0, thread.urgency_score < int(now.timestamp())),
        )
    ).one()
    return {"mine": mine, "unassigned": unassigned, "overdue": overdue}
