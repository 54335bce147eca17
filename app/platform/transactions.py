"""Ending a unit of work: commit, then tell the world.

Telling browsers, queueing a job or running another feature's reaction to a
row that is not committed yet races the commit: a worker or a browser may look
before the row is there, and a rollback would leave them told about something
that never happened. Code inside a transaction therefore only *registers* such
work: domain events with :func:`publish` (see :mod:`app.platform.events`), plain
follow-ups (queueing a job) with :func:`after_commit`. Whoever owns the
transaction ends it with :func:`commit`, the one commit helper of the app,
which commits and then runs what was registered, in order. A rollback drops it.

(SQLAlchemy's own ``after_commit`` event cannot be used for this: the session
may not load anything inside it, and announcing needs the committed values.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.events import DomainEvent, dispatch
from app.platform.extensions import db

log = logging.getLogger(__name__)

_KEY = "switchboard_after_commit"
_DEPTH_KEY = "switchboard_commit_depth"
_LOADED_KEY = "switchboard_loaded"


def after_commit(callback: Callable[[], object]) -> None:
    """Run ``callback()`` once the current transaction is committed by :func:`commit`."""
    db.session().info.setdefault(_KEY, []).append(callback)


def publish(event: DomainEvent, *loaded: object) -> None:
    """Tell ``event``'s listeners once the current transaction is committed.

    ``loaded``: the rows the event is about. They are kept in memory until the
    listeners have run, so a listener's ``db.session.get`` finds them there
    instead of reading them back (the session only holds them weakly).
    """
    info = db.session().info
    info.setdefault(_KEY, []).append(event)
    info.setdefault(_LOADED_KEY, []).extend(loaded)


def commit() -> None:
    """Commit ``db.session``, then run the follow-ups and dispatch the events registered.

    What runs after the commit cannot undo it, so a follow-up that fails (Redis
    away while a job is queued, say) is logged and the rest still run; the
    periodic sweeps pick up work whose hand-off was lost this way.
    """
    session = db.session()
    pending = session.info.pop(_KEY, [])
    loaded = session.info.pop(_LOADED_KEY, [])  # noqa: F841  (kept alive until the end)
    if not pending:
        session.commit()
        return
    # The listeners read what this transaction wrote: keep it loaded through
    # them instead of reading every row back, and expire it all once the
    # outermost commit's listeners are done (so callers see fresh rows after).
    depth = session.info.get(_DEPTH_KEY, 0)
    expire = session.expire_on_commit
    session.info[_DEPTH_KEY] = depth + 1
    session.expire_on_commit = False
    try:
        session.commit()
        for item in pending:
            if isinstance(item, DomainEvent):
                dispatch(item)
                continue
            try:
                item()
            except Exception:  # the commit stands; say what was not done
                log.exception("after-commit follow-up %r failed", item)
    finally:
        session.info[_DEPTH_KEY] = depth
        session.expire_on_commit = expire
        if depth == 0 and expire:
            session.expire_all()


def rollback() -> None:
    """Roll back ``db.session``; what was registered for after the commit is dropped."""
    db.session.rollback()


@sa.event.listens_for(so.Session, "after_soft_rollback")
def _drop_pending(session: so.Session, previous_transaction) -> None:
    # Only the whole transaction's rollback cancels the work; a savepoint rolled
    # back (a duplicate insert, say) leaves what the rest of it registered.
    if previous_transaction.parent is None:
        session.info.pop(_KEY, None)
        session.info.pop(_LOADED_KEY, None)
