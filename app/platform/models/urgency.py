"""The inbox's "most urgent first" order, kept on each thread as two sortable columns.

Ascending ``(urgency_bucket, urgency_score, id)`` is the order; an index on those
columns lets a page be read by walking the index and stopping after one page.
The buckets, in order:

0. customer conversations waiting on us (open, with a deadline), most overdue first
   and, at the same deadline, the higher priority first;
1. internal tasks and notes with a deadline, most overdue first: however late,
   a colleague's to-do never pushes a waiting customer down the list;
2. open threads without a deadline (waiting on the customer, say), newest first;
3. resolved and closed threads, newest first;
4. snoozed threads (``app.conversations.core.snoozing``), the soonest to wake first and
   those waiting for the customer's reply last. Every list but "Snoozed" stops
   before this bucket, so a snoozed thread leaves the open lists and their
   counts by the same index range that orders them.
"""

from __future__ import annotations

from datetime import datetime

from app.platform.models.enums import ChannelType, Priority, ThreadType

CUSTOMER_WAITING = 0
INTERNAL_DUE = 1
NO_DEADLINE = 2
CLOSED = 3
SNOOZED = 4
# Snoozed until the customer replies: after every snooze with a wake time.
UNTIL_REPLY_SCORE = 2**62
# The buckets ranked by a deadline (score = its epoch second): the overdue tab's.
DEADLINE_BUCKETS = (CUSTOMER_WAITING, INTERNAL_DUE)

# Deadlines often coincide (every ticket of a weekend is due when the office opens
# on Monday): at the same deadline the higher priority goes first. The score is the
# deadline's epoch second minus these few seconds, which also lets a critical
# thread count as overdue 4 s early, a difference nobody can notice.
PRIORITY_LEAD_SECONDS = {
    Priority.CRITICAL: 4,
    Priority.URGENT: 3,
    Priority.HIGH: 2,
    Priority.NORMAL: 1,
    Priority.LOW: 0,
}

INTERNAL_CHANNEL_TYPES = frozenset(
    {ChannelType.INTERNAL_TASK, ChannelType.INTERNAL_TICKET, ChannelType.INTERNAL_COMMENT}
)
INTERNAL_THREAD_TYPES = frozenset({ThreadType.INTERNAL_TASK})


def urgency_key(
    *,
    closed: bool,
    internal: bool,
    response_due_at: datetime | None,
    last_activity: datetime,
    priority: Priority = Priority.NORMAL,
    snoozed: bool = False,
    snoozed_until: datetime | None = None,
) -> tuple[int, int]:
    """``(bucket, score)`` of a thread; see the module docstring for the order."""
    if snoozed and not closed:
        if snoozed_until is None:
            return SNOOZED, UNTIL_REPLY_SCORE
        return SNOOZED, int(snoozed_until.timestamp())
    if not closed and response_due_at is not None:
        bucket = INTERNAL_DUE if internal else CUSTOMER_WAITING
        lead = PRIORITY_LEAD_SECONDS.get(Priority(priority), 1)
        return bucket, int(response_due_at.timestamp()) - lead
    return (CLOSED if closed else NO_DEADLINE), -int(last_activity.timestamp())
