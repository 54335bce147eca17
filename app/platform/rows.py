"""Writing a new row without the unit of work, on the paths every message takes.

A flush of one new row costs far more CPU than its ``INSERT``: the unit of work
sorts its work, walks every relationship of every mapper involved and compares
attributes (a new customer's contact and conversation were 7 % of a worker's
time each, py-spy on ``benchmarks/e2e.py``). :func:`insert_now` writes the row
with a Core ``INSERT`` on its table, built once, and leaves it in the session as
a flush would: persistent, its defaults filled in, its mapper's insert hooks run.

It writes nothing, and says so, when the session holds other new, changed or
deleted rows (the new one might point at them, the statements after it read
them); the caller then adds and flushes.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.extensions import db


def insert_now(row: object, *, beside: object = None) -> bool:
    """INSERT ``row`` (new, not yet added) and add it to the session as stored; False,
    having written nothing, when only a flush may write it: the session holds other
    new, changed (other than ``beside``) or deleted rows, which a flush would write
    first and which the statements after this one may read."""
    session = db.session()
    state = sa.inspect(row)
    if (
        not state.transient
        or session.new
        or session.deleted
        or any(other is not beside for other in session.dirty)
    ):
        return False
    mapper = state.mapper
    connection = session.connection()
    # The mapper's hooks, as a flush runs them (the thread's urgency, say).
    mapper.dispatch.before_insert(mapper, connection, state)
    written = _row_parameters(state)
    if written is None:
        return False
    parameters, filled = written
    session.add(row)
    if len(session.new) != 1:  # it brought new rows along (a relationship's cascade)
        session.expunge(row)
        return False
    connection.execute(_insert(mapper.local_table), parameters)
    state.dict.update(filled)
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


def _row_parameters(state: so.InstanceState) -> tuple[dict, dict] | None:
    """A new row's ``INSERT`` parameters by column, and the values a flush would give
    it (foreign keys, defaults), set on it once written; None when it holds what only
    a flush writes (a collection, a relationship set to None, a SQL expression, a
    column the database fills in)."""
    mapper = state.mapper
    loaded = state.dict
    filled: dict[str, Any] = {}
    for relationship in mapper.relationships:
        if relationship.key not in loaded or relationship.viewonly:
            continue
        value = loaded[relationship.key]
        if relationship.direction is not so.interfaces.MANYTOONE:
            if value:
                return None
            continue
        if value is None:
            return None  # the flush clears the foreign key then
        # As a flush sets a foreign key from the row it points to.
        for local, remote in relationship.local_remote_pairs:
            target = sa.inspect(value).mapper.get_property_by_column(remote).key
            filled[mapper.get_property_by_column(local).key] = getattr(value, target)
    parameters = {}
    for key, column in column_keys(mapper).items():
        if key in filled:
            value = filled[key]
        elif key in loaded:
            value = loaded[key]
        else:
            default = column.default
            if default is None:
                if column.server_default is not None:
                    return None
                filled[key] = None
                # A flush leaves the column out: SQL NULL, not JSON's null.
                parameters[column.key] = sa.null() if column.type.should_evaluate_none else None
                continue
            if default.is_scalar:
                value = default.arg
            elif default.is_callable:
                value = default.arg(None)
            else:
                return None
            filled[key] = value
        if isinstance(value, sa.sql.ClauseElement):
            return None
        parameters[column.key] = value
    return parameters, filled


@functools.cache
def column_keys(mapper: so.Mapper) -> dict[str, sa.Column]:
    """Each column attribute's key and its column."""
    return {prop.key: prop.columns[0] for prop in mapper.column_attrs}


@functools.cache
def _insert(table: sa.Table) -> sa.Insert:
    return sa.insert(table)
