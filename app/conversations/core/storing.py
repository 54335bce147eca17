"""Storing a new message and its thread's changes as two statements built once.

Every message is an ``INSERT`` of the message and an ``UPDATE`` of its thread
(preview, times, SLA clock, status, urgency, search document). Flushed by the
unit of work, the two cost a quarter of a worker's time in the steady mix
(py-spy on ``benchmarks/e2e.py``): sorting its work, comparing every attribute,
and building the thread's ``UPDATE`` anew for the search document's expression.
:func:`store` writes them as Core statements, compiled once per set of changed
columns, and leaves both rows in the session as if flushed: persistent, loaded,
with nothing left to write.

It only does so when nothing else waits in the session (no other new, changed or
deleted row, no relationship changed on the thread); otherwise the caller
flushes as usual, so ordering between rows stays the unit of work's business.
Whatever the flush would do for these two rows is done here too: the column
defaults and the ``onupdate`` time, the thread's urgency (the model's
``before_update`` hook) and the search text waiting for the thread.
"""

from __future__ import annotations

import functools

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.orm.base import NO_VALUE

from app.conversations.inbox.search import (
    TEXT_SEARCH_CONFIG,
    TEXTS_WAITING,
    text_written,
    waiting_text,
)
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationThread
from app.platform.rows import column_keys, insert_now, stored

THREADS = CommunicationThread.__table__


def store(thread: CommunicationThread, message) -> bool:
    """INSERT ``message`` and UPDATE ``thread`` with what changed on it; False, having
    written nothing, when the session holds more to write (the caller flushes then)."""
    session = db.session()
    thread_state = sa.inspect(thread)
    message_state = sa.inspect(message)
    if (
        not message_state.transient
        or not thread_state.persistent
        or thread_state.expired
        or session.new
        or session.deleted
        or any(other is not thread for other in session.dirty)
    ):
        return False
    changed = _changed_columns(thread_state)
    if changed is None:
        return False
    search_text = None
    if thread_state.dict.get("search_vector") is TEXTS_WAITING:
        search_text = waiting_text(thread)
        if search_text is None:
            return False
    if not insert_now(message, beside=thread):
        return False

    connection = session.connection()
    mapper = thread_state.mapper
    if changed or search_text is not None:
        # As a flush runs the mapper's hooks (the thread's urgency) and its onupdate.
        mapper.dispatch.before_update(mapper, connection, thread_state)
        if "updated_at" not in changed:
            thread.updated_at = utcnow()
        changed = _changed_columns(thread_state)
        values = {f"new_{key}": thread_state.dict[key] for key in changed}
        if search_text is not None:
            values["search_text"] = search_text
        written = connection.execute(
            _update(changed, search_text is not None), {"thread": thread.id, **values}
        )
        if written.rowcount != 1:  # as the flush says when a row it updates is gone
            raise so.exc.StaleDataError(f"conversation {thread.id} is gone; message not stored")
        mapper.dispatch.after_update(mapper, connection, thread_state)
    if search_text is not None:
        text_written(thread)
    thread_state.dict.pop("search_vector", None)  # unloaded again, as it is deferred
    stored(session, thread_state)
    return True


def _changed_columns(state) -> tuple[str, ...] | None:
    """The column attributes changed since the thread was loaded; None when anything
    else changed (a relationship, a value given as SQL), which the unit of work writes."""
    columns = column_keys(state.mapper)
    changed = []
    for key, before in state.committed_state.items():
        if key not in columns:
            return None
        if key == "search_vector":
            continue
        value = state.dict.get(key)
        if isinstance(value, sa.sql.ClauseElement):
            return None  # an expression (a counter bumped in SQL): the flush writes it
        if before is not NO_VALUE and state.manager[key].impl.is_equal(value, before):
            continue  # set to what it was: the flush leaves it out too
        changed.append(key)
    return tuple(sorted(changed))


@functools.cache
def _update(keys: tuple[str, ...], search: bool) -> sa.Update:
    columns = column_keys(sa.inspect(CommunicationThread))
    values: dict = {
        columns[key]: sa.bindparam(f"new_{key}", type_=columns[key].type) for key in keys
    }
    if search:
        values[THREADS.c.search_vector] = sa.func.coalesce(
            THREADS.c.search_vector, sa.literal_column("''::tsvector")
        ).op("||")(sa.func.to_tsvector(TEXT_SEARCH_CONFIG, sa.bindparam("search_text")))
    return sa.update(THREADS).where(THREADS.c.id == sa.bindparam("thread")).values(values)
