"""Work that must wait for the commit.

Telling browsers or queueing a job about a row that is not committed yet races
the commit: a worker or a browser may look before the row is there, and a
rollback would leave them told about something that never happened. Code deep
inside a transaction registers such work with :func:`after_commit`; whoever owns
the transaction ends it with :func:`commit`, which commits and then runs it. A
rollback drops it.

(SQLAlchemy's own ``after_commit`` event cannot be used for this: the session
may not load anything inside it, and announcing needs the committed values.)
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.extensions import db

_KEY = "switchboard_after_commit"


def after_commit(callback: Callable[[], object]) -> None:
    """Run ``callback()`` once the current transaction is committed by :func:`commit`."""
    db.session().info.setdefault(_KEY, []).append(callback)


def commit() -> None:
    """Commit ``db.session``, then run what was registered with :func:`after_commit`."""
    session = db.session()
    callbacks = session.info.pop(_KEY, [])
    session.commit()
    for callback in callbacks:
        callback()


@sa.event.listens_for(so.Session, "after_soft_rollback")
def _drop_pending(session: so.Session, previous_transaction) -> None:
    # Only the whole transaction's rollback cancels the work; a savepoint rolled
    # back (a duplicate insert, say) leaves what the rest of it registered.
    if previous_transaction.parent is None:
        session.info.pop(_KEY, None)
