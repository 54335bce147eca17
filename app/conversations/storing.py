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

from app.database import utcnow
from app.extensions import db
from app.inbox.search import TEXT_SEARCH_CONFIG, TEXTS_WAITING, waiting_text
from app.models import CommunicationMessage, CommunicationThread
from app.models.communication import keep_urgency_current

MESSAGES = CommunicationMessage.__table__
THREADS = CommunicationThread.__table__


def store(thread: CommunicationThread, message: CommunicationMessage) -> bool:
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
    row = _message_row(message_state)
    if row is None:
        return False

    connection = session.connection()
    connection.execute(_INSERT, row)
    # As the model's before_update hook does for a flush.
    keep_urgency_current(connection, thread)
    if "updated_at" not in thread_state.committed_state:
        thread.updated_at = utcnow()
    changed = _changed_columns(thread_state)
    values = {f"new_{key}": thread_state.dict[key] for key in changed}
    if search_text is not None:
        values["search_text"] = search_text
    written = connection.execute(
        _update(changed, search_text is not None), {"thread": thread.id, **values}
    )
    if written.rowcount != 1:  # as the flush says when a row it updates is gone
        raise so.exc.StaleDataError(f"conversation {thread.id} is gone; the message is not stored")

    # Both rows now stand as the flush would leave them.
    thread_state.dict.pop("search_vector", None)  # unloaded again, as it is deferred
    thread_state._commit_all(thread_state.dict, session.identity_map)
    so.make_transient_to_detached(message)
    session.add(message)
    return True


@functools.cache
def _column_keys(mapper: so.Mapper) -> dict[str, sa.Column]:
    """Each column attribute's key and its one column."""
    return {prop.key: prop.columns[0] for prop in mapper.column_attrs}


def _changed_columns(state) -> tuple[str, ...] | None:
    """The column attributes changed since the thread was loaded; None when anything
    else changed (a relationship, a value given as SQL), which the unit of work writes."""
    columns = _column_keys(state.mapper)
    changed = []
    for key in state.committed_state:
        if key not in columns:
            return None
        if key == "search_vector":
            continue
        if isinstance(state.dict.get(key), sa.sql.ClauseElement):
            return None  # an expression (a counter bumped in SQL): the flush writes it
        changed.append(key)
    return tuple(sorted(changed))


def _message_row(state) -> dict | None:
    """The message's INSERT parameters by column, its defaults filled in on it too;
    None when a relationship other than a many-to-one holds something."""
    mapper = state.mapper
    loaded = state.dict
    for relationship in mapper.relationships:
        value = loaded.get(relationship.key)
        if value is None:
            continue
        if relationship.direction is not so.interfaces.MANYTOONE:
            if value:
                return None
            continue
        # As the flush syncs a foreign key from the row it points to.
        for local, remote in relationship.local_remote_pairs:
            key = mapper.get_property_by_column(local).key
            target = sa.inspect(value).mapper.get_property_by_column(remote).key
            loaded[key] = getattr(value, target)
    row = {}
    for key, column in _column_keys(mapper).items():
        if key not in loaded:
            default = column.default
            if default is None:
                if column.server_default is not None:
                    return None
                value = None
            elif default.is_scalar:
                value = default.arg
            elif default.is_callable:
                value = default.arg(None)
            else:
                return None
            loaded[key] = value
        row[column.key] = loaded[key]
    return row


_INSERT = sa.insert(MESSAGES)


@functools.cache
def _update(keys: tuple[str, ...], search: bool) -> sa.Update:
    columns = _column_keys(sa.inspect(CommunicationThread))
    values: dict = {
        columns[key]: sa.bindparam(f"new_{key}", type_=columns[key].type) for key in keys
    }
    if search:
        values[THREADS.c.search_vector] = sa.func.coalesce(
            THREADS.c.search_vector, sa.literal_column("''::tsvector")
        ).op("||")(sa.func.to_tsvector(TEXT_SEARCH_CONFIG, sa.bindparam("search_text")))
    return sa.update(THREADS).where(THREADS.c.id == sa.bindparam("thread")).values(values)
