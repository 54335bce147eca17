"""Settings every inbound message reads and people seldom change, kept per worker.

A worker keeps what :meth:`Kept.get` loaded for ``CONFIGURATION_CACHE_SECONDS``
(a change shows that much later; ``0`` loads every time). Values must outlive
the session that read them: plain values, rows or frozen dataclasses, never
ORM objects. A row a caller needs as an ORM object is kept as its
:func:`row_values` and joined to each transaction with :func:`attached_copy`.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from app.platform.extensions import db

T = TypeVar("T")
M = TypeVar("M")


class Kept(Generic[T]):
    """Values by key, each kept ``CONFIGURATION_CACHE_SECONDS`` from when it was loaded."""

    def __init__(self) -> None:
        self._values: dict[Hashable, tuple[float, T]] = {}
        _every.add(self)

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        keep = current_app.config.get("CONFIGURATION_CACHE_SECONDS", 0)
        if keep <= 0:
            return load()
        now = time.monotonic()
        kept = self._values.get(key)
        if kept is not None and kept[0] > now:
            return kept[1]
        value = load()
        self._values[key] = (now + keep, value)
        return value

    def forget(self, key: Hashable) -> None:
        """Load ``key`` afresh next time (what was kept turned out stale)."""
        self._values.pop(key, None)

    def clear(self) -> None:
        self._values.clear()


_every: weakref.WeakSet[Kept] = weakref.WeakSet()


def forget_everything() -> None:
    """Load every kept value afresh (a test starting on an emptied database)."""
    for kept in list(_every):
        kept.clear()


def row_values(row: object) -> dict[str, Any]:
    """The column values of an ORM ``row``, copied: a value :class:`Kept` can hold."""
    loaded = sa.inspect(row).dict
    columns = (prop.key for prop in sa.inspect(type(row)).column_attrs)
    return {key: _copied(loaded[key]) for key in columns if key in loaded}


def attached_copy(model: type[M], values: dict[str, Any]) -> M:
    """A row of ``model`` with kept ``values`` in this transaction's session, without a
    read; a fresh copy each time (its values may be changed in place). One the
    session holds already is returned as it is."""
    row = model(**_copied(values))
    so.make_transient_to_detached(row)
    if db.session.identity_key(instance=row) in db.session.identity_map:
        # The session's own, perhaps expired since its last commit: given these values.
        return db.session.merge(row, load=False)
    # Added as it is, not merged: ``merge`` copied every value into a second new
    # row (a few per cent of a worker's time when every event joins its channel).
    db.session.add(row)
    return row


def _copied(value: Any) -> Any:
    """``value`` with its dicts and lists copied: a column value is JSON or immutable
    (text, numbers, times, ids, enums). About twice as fast as ``copy.deepcopy``,
    which was most of joining a kept channel to each event's session."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    return value
