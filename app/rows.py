"""Writing a new row without the unit of work, on the paths every message takes.

A flush of one new row costs far more CPU than its ``INSERT``: the unit of work
sorts its work, walks every relationship of every mapper involved and compares
attributes (a new customer's contact and conversation were 7 % of a worker's
time each, py-spy on ``benchmarks/e2e.py``). :func:`insert_now` writes the row
with a Core ``INSERT`` on its table, built once, and leaves it in the session as
a flush would: persistent, its defaults filled in, its mapper's insert hooks run.

It writes nothing, and says so, when the session holds other new or deleted
rows (the new one might point at them); the caller then adds and flushes.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db


def insert_now(row: object) -> bool:
    """INSERT ``row`` (new, not yet added) and add it to the session as stored; False,
    having written nothing, when only a flush may write it."""
    session = db.session()
    state = sa.inspect(row)
    if not state.transient or session.new or session.deleted:
        return False
    mapper = state.mapper
    connection = session.connection()
    # The mapper's hooks, as a flush runs them (the thread's urgency, say).
    mapper.dispatch.before_insert(mapper, connection, state)
    parameters = row_parameters(state)
    if parameters is None:
        return False
    session.add(row)
    if len(session.new) != 1:  # it brought new rows along (a relationship's cascade)
        session.expunge(row)
        return False
    connection.execute(_insert(mapper.local_table), parameters)
    stored(session, state)
    mapper.dispatch.after_insert(mapper, connection, state)
    return True


def stored(session: so.Session, state: so.InstanceState) -> None:
    """Tell the session ``state``'s row is written as it holds it, as a flush does at its
    end: new rows become persistent, changed ones clean, and the transaction notes
    both, so a rollback (of a savepoint too) forgets or expires them as it would
    after a flush. The session's own step for this, which has no public name."""
    session._register_persistent({state})


def write_new(row: object) -> None:
    """Add ``row`` and write it now: by :func:`insert_now`, else by a flush."""
    if not insert_now(row):
        db.session.add(row)
        db.session.flush()


def row_parameters(state: so.InstanceState) -> dict[str, Any] | None:
    """A new row's ``INSERT`` parameters by column, its defaults set on it as well;
    None when it holds what only a flush writes (a collection, a SQL expression, a
    column the database fills in)."""
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
        # As a flush sets a foreign key from the row it points to.
        for local, remote in relationship.local_remote_pairs:
            target = sa.inspect(value).mapper.get_property_by_column(remote).key
            loaded[mapper.get_property_by_column(local).key] = getattr(value, target)
    parameters = {}
    for key, column in column_keys(mapper).items():
        if key not in loaded:
            default = column.default
            if default is None:
                if column.server_default is not None:
                    return None
                loaded[key] = None
            elif default.is_scalar:
                loaded[key] = default.arg
            elif default.is_callable:
                loaded[key] = default.arg(None)
            else:
                return None
        value = loaded[key]
        if isinstance(value, sa.sql.ClauseElement):
            return None
        parameters[column.key] = value
    return parameters


@functools.cache
def column_keys(mapper: so.Mapper) -> dict[str, sa.Column]:
    """Each column attribute's key and its column."""
    return {prop.key: prop.columns[0] for prop in mapper.column_attrs}


@functools.cache
def _insert(table: sa.Table) -> sa.Insert:
    return sa.insert(table)
