"""The inbox's "most urgent first" order, kept on each thread as two sortable columns.

Ascending ``(urgency_bucket, urgency_score, id)`` is the order; an index on those
columns lets a page be read by walking the index and stopping after one page.
The buckets, in order:

0. customer conversations waiting on us (open, with a deadline), most overdue first;
1. internal tasks and notes with a deadline, most overdue first: however late,
   a colleague's to-do never pushes a waiting customer down the list;
2. open threads without a deadline (waiting on the customer, say), newest first;
3. resolved and closed threads, newest first.
"""

from __future__ import annotations

from datetime import datetime

from app.models.enums import ChannelType, ThreadType

CUSTOMER_WAITING = 0
INTERNAL_DUE = 1
NO_DEADLINE = 2
CLOSED = 3
# The buckets ranked by a deadline (score = its epoch second): the overdue tab's.
DEADLINE_BUCKETS = (CUSTOMER_WAITING, INTERNAL_DUE)

INTERNAL_CHANNEL_TYPES = frozenset(
    {ChannelType.INTERNAL_TASK, ChannelType.INTERNAL_TICKET, ChannelType.INTERNAL_COMMENT}
)
INTERNAL_THREAD_TYPES = frozenset({ThreadType.INTERNAL_TASK})


def urgency_key(
    *, closed: bool, internal: bool, response_due_at: datetime | None, last_activity: datetime
) -> tuple[int, int]:
    """``(bucket, score)`` of a thread; see the module docstring for the order."""
    if not closed and response_due_at is not None:
        bucket = INTERNAL_DUE if internal else CUSTOMER_WAITING
        return bucket, int(response_due_at.timestamp())
    return (CLOSED if closed else NO_DEADLINE), -int(last_activity.timestamp())
