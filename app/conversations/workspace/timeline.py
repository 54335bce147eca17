"""The timeline a page at a time: the latest 50 messages, earlier ones as the agent scrolls up.

Pages are keyset-paginated on ``(created_at, id)`` of the messages
(``ix_communication_message_thread_created``), so the tenth page of a long
thread costs what the first does and a message arriving meanwhile never shifts
a page. Tasks are shown between the messages of the page whose time span holds
them: page 1 spans from its oldest message on, each earlier page up to where the
later one began, the first page of the thread from the beginning.

The latest part is also asked for from a fixed start (:func:`timeline_since`):
a live refresh re-reads exactly what is on screen below the earlier pages (plus
whatever is newer), and a link to one message shows from that message onwards.
A part that reaches the conversation's first message starts at :data:`FROM_START`
instead of at that message: a message the provider delivers late, dated before
everything on screen (a WhatsApp message held up on the customer's phone, a mail
with the sender's clock), is then in the next refresh too, where its time puts it.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.conversations.workspace.services import MESSAGE_LOAD_OPTIONS, TimelineEntry
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread, InternalTask
from app.platform.security.bodies import loads as load_json
from app.platform.typed_dates import cursor_moment

PAGE_SIZE = 50
# The ``from`` of a part that holds the conversation from its first message on.
FROM_START = "start"


class InvalidCursor(ValueError):
    """A ``before`` value this server did not hand out."""


@dataclass
class TimelinePage:
    entries: list[TimelineEntry]
    # Where the page before this one ends; None when this page reaches the start.
    earlier_cursor: str | None
    # Where this page starts (its oldest message, inclusive), FROM_START when nothing
    # comes before it.
    from_cursor: str | None = None


def encode_cursor(message: CommunicationMessage) -> str:
    key = [message.created_at.isoformat(), str(message.id)]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, ident = load_json(base64.urlsafe_b64decode(padded.encode()))
        return cursor_moment(stamp), uuid.UUID(ident)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor(cursor) from exc


def timeline_page(
    thread: CommunicationThread, *, before: str | None = None, limit: int = PAGE_SIZE
) -> TimelinePage:
    """The ``limit`` messages before ``before`` (the latest without it), oldest first."""
    message = CommunicationMessage
    query = _messages(thread)
    upper: datetime | None = None
    if before:
        upper, ident = decode_cursor(before)
        query = query.where(sa.tuple_(message.created_at, message.id) < sa.tuple_(upper, ident))
    newest_first = db.session.scalars(
        query.order_by(message.created_at.desc(), message.id.desc()).limit(limit + 1)
    ).all()
    has_earlier = len(newest_first) > limit
    messages = list(reversed(newest_first[:limit]))
    lower = messages[0].created_at if has_earlier and messages else None
    if has_earlier:
        start = encode_cursor(messages[0])
        return TimelinePage(_with_tasks(thread, messages, lower, upper), start, start)
    return TimelinePage(_with_tasks(thread, messages, None, upper), None, FROM_START)


def timeline_since(thread: CommunicationThread, since: str) -> TimelinePage:
    """Every message from ``since`` (inclusive; :data:`FROM_START`: the first) to the
    newest, oldest first.

    Unbounded on purpose: it is what the agent already has on screen (a live
    refresh) or asked to see (a link to one message).
    """
    message = CommunicationMessage
    if since == FROM_START:
        everything = db.session.scalars(
            _messages(thread).order_by(message.created_at, message.id)
        ).all()
        return TimelinePage(_with_tasks(thread, list(everything), None, None), None, FROM_START)
    key = sa.tuple_(message.created_at, message.id)
    lower, ident = decode_cursor(since)
    bound = sa.tuple_(lower, ident)
    messages = db.session.scalars(
        _messages(thread).where(key >= bound).order_by(message.created_at, message.id)
    ).all()
    has_earlier = db.session.scalar(
        sa.select(sa.exists().where(message.thread_id == thread.id, key < bound))
    )
    if not has_earlier:
        return TimelinePage(_with_tasks(thread, list(messages), None, None), None, FROM_START)
    return TimelinePage(_with_tasks(thread, list(messages), lower, None), since, since)


def timeline_from_message(thread: CommunicationThread, message_id: uuid.UUID) -> TimelinePage:
    """From one message of ``thread`` onwards (a notification's link); the latest page
    when the thread has no such message (withdrawn, or another thread's)."""
    found = db.session.scalar(
        sa.select(CommunicationMessage).where(
            CommunicationMessage.id == message_id, CommunicationMessage.thread_id == thread.id
        )
    )
    if found is None:
        return timeline_page(thread)
    return timeline_since(thread, encode_cursor(found))


def _messages(thread: CommunicationThread) -> sa.Select:
    message = CommunicationMessage
    return sa.select(message).options(*MESSAGE_LOAD_OPTIONS).where(message.thread_id == thread.id)


def _with_tasks(
    thread: CommunicationThread,
    messages: list[CommunicationMessage],
    lower: datetime | None,
    upper: datetime | None,
) -> list[TimelineEntry]:
    """The messages and the thread's tasks created in [lower, upper), in time order."""
    tasks = sa.select(InternalTask).options(so.joinedload(InternalTask.assigned_to))
    tasks = tasks.where(InternalTask.thread_id == thread.id)
    if lower is not None:
        tasks = tasks.where(InternalTask.created_at >= lower)
    if upper is not None:
        tasks = tasks.where(InternalTask.created_at < upper)
    entries = [TimelineEntry("message", m.created_at, m) for m in messages]
    entries += [TimelineEntry("task", t.created_at, t) for t in db.session.scalars(tasks)]
    entries.sort(key=lambda entry: entry.at)
    return entries


def thread_messages(
    thread: CommunicationThread,
    *,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int | None = None,
) -> list[CommunicationMessage]:
    """The thread's messages, oldest first.

    ``after``, a ``(created_at, id)`` key, keeps those after it; ``limit`` caps how many.
    """
    statement = (
        sa.select(CommunicationMessage)
        .options(*MESSAGE_LOAD_OPTIONS)
        .where(CommunicationMessage.thread_id == thread.id)
        .order_by(CommunicationMessage.created_at, CommunicationMessage.id)
    )
    if after is not None:
        statement = statement.where(
            sa.tuple_(CommunicationMessage.created_at, CommunicationMessage.id)
            > sa.tuple_(*after)
        )
    if limit is not None:
        statement = statement.limit(limit)
    return list(db.session.scalars(statement))


def find_message(message_id: uuid.UUID) -> CommunicationMessage | None:
    return db.session.get(CommunicationMessage, message_id)
