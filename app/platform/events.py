"""Domain events: what happened, told to the features that care, after the commit.

The owner of an aggregate (the conversation, say) publishes an event inside its
transaction; :func:`app.platform.transactions.commit` hands it to the listeners once the
transaction is committed, and a rollback drops it. So a listener never sees a
change that did not happen, and the write path never calls across features:
live updates, assignment and automations subscribe here instead.

Listeners run in the committing process, one after the other, each in the same
session but after the commit: a listener that writes does so in a transaction
of its own and ends it with ``commit()``, which dispatches what *it* published.
A listener that fails is logged with the event and rolled back; the others
still run, and the change that was committed stays committed.

Features declare their listeners with :func:`listens_to` in a ``listeners``
module that ``create_app`` imports (see :mod:`app.platform.features`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from app.platform.extensions import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainEvent:
    """Base of every event; subclasses are frozen dataclasses of plain values (ids)."""


Listener = Callable[[DomainEvent], object]
_listeners: dict[type[DomainEvent], list[Listener]] = defaultdict(list)


def listens_to(*event_types: type[DomainEvent]) -> Callable[[Listener], Listener]:
    """Register the decorated function as a listener of ``event_types``."""

    def register(listener: Listener) -> Listener:
        for event_type in event_types:
            known = {(f.__module__, f.__qualname__) for f in _listeners[event_type]}
            # A module imported twice (tests build many apps) registers once.
            if (listener.__module__, listener.__qualname__) not in known:
                _listeners[event_type].append(listener)
        return listener

    return register


def listeners_of(event_type: type[DomainEvent]) -> list[Listener]:
    """The listeners of ``event_type`` in the order they run: by their path.

    Never by when their module happened to be imported (which follows where a feature
    stands in ``FEATURES``): each runs in a transaction of its own on what is
    committed, so none may rely on another having run first.
    """
    listeners = _listeners.get(event_type, ())
    return sorted(listeners, key=lambda f: (f.__module__, f.__qualname__))


# PostgreSQL's "try again": a deadlock victim, a serialization failure. Two workers'
# listeners locking the same rows in another order (routing two new conversations to
# one team) meet one now and then; the listener is run again, as a job would be.
TRANSIENT_SQLSTATES = ("40P01", "40001")
TRANSIENT_TRIES = 3


def dispatch(event: DomainEvent) -> None:
    """Run every listener of ``event``; called after the commit that made it true."""
    for listener in listeners_of(type(event)):
        for attempt in range(1, TRANSIENT_TRIES + 1):
            try:
                listener(event)
                break
            except Exception as exc:  # one failing listener must not starve the others
                db.session.rollback()
                if _transient(exc) and attempt < TRANSIENT_TRIES:
                    log.warning(
                        "listener %s.%s met %s on %r; running it again",
                        listener.__module__, listener.__qualname__, type(exc).__name__, event,
                    )
                    continue
                log.exception(
                    "listener %s.%s failed on %r", listener.__module__, listener.__qualname__, event
                )
                break


def _transient(exc: Exception) -> bool:
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code in TRANSIENT_SQLSTATES
