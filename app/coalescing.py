"""Work a batch job does once for all its events, not once per event.

A job that processes many events one after the other (the webhook batch,
:func:`app.webhooks.processing.process_events`) commits each on its own, and
each commit's listeners would tell Redis and PostgreSQL the same kind of thing
again: two live updates per message (each a Redis round trip), the saved-view
counts marked stale, a past day's analytics roll-up marked dirty (an upsert and
a commit waiting for the disk). Inside :func:`held` such listeners give their
work to :func:`hold` instead, and it is done together: every item held under
one key goes to that key's action in one call, keys in the order they were
first held (those held ``early`` before the rest). That happens when the
outermost ``held`` ends, and between events (:func:`flush_if_due`) for a key
whose oldest item has waited its ``within`` seconds: :data:`FLUSH_AFTER_SECONDS`
unless said otherwise, so a browser hears of a message at most that much later
than it would have.

Held work is what may follow a commit, never part of it: a worker killed before
the flush loses it as it would lose a listener killed mid-way (the periodic
roll-up refresh and the browsers' own refreshes catch up). Outside ``held``,
:func:`hold` returns False and the caller does its work at once, as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from app.extensions import db

log = logging.getLogger(__name__)

# Longest a held live update waits: well under a browser's patience, and several
# messages' worth at ~10 ms each, so a busy batch still sends them together.
FLUSH_AFTER_SECONDS = 0.1

_local = threading.local()


class _Held:
    def __init__(self) -> None:
        self.actions: dict[str, Callable[[list], object]] = {}
        self.items: dict[str, list] = {}
        self.due: dict[str, float] = {}
        self.early: set[str] = set()


def _current() -> _Held | None:
    return getattr(_local, "held", None)


@contextmanager
def held() -> Iterator[None]:
    """Hold coalescable work until the block ends (a nested block joins the outer one)."""
    if _current() is not None:
        yield
        return
    _local.held = _Held()
    try:
        yield
    finally:
        try:
            flush()
        finally:
            _local.held = None


def hold(
    key: str,
    action: Callable[[list], object],
    item: object = None,
    *,
    early: bool = False,
    within: float | None = None,
) -> bool:
    """Give ``item`` to ``action`` with the others held under ``key``; False if nothing
    is being held (the caller then does its work at once).

    ``early``: this key's action runs before the others, and with any of them
    (a mark that what the others announce must find already made).
    ``within``: the longest its first item waits between events, in seconds.
    """
    current = _current()
    if current is None:
        return False
    if key not in current.actions:
        if early:
            current.actions = {key: action, **current.actions}
            current.early.add(key)
        else:
            current.actions[key] = action
        current.items[key] = []
        wait = FLUSH_AFTER_SECONDS if within is None else within
        current.due[key] = time.monotonic() + wait
    current.items[key].append(item)
    return True


def flush_if_due() -> None:
    """Do the held work that has waited long enough (and what must go before it)."""
    current = _current()
    if current is None:
        return
    now = time.monotonic()
    due = [key for key, at in current.due.items() if at <= now]
    if due:
        flush(due)


def flush(keys: list[str] | None = None) -> None:
    """Do the held work now (of ``keys``, else all), key by key; a failing action is
    logged, the others still run."""
    current = _current()
    if current is None:
        return
    chosen = [key for key in current.actions if keys is None or key in keys or key in current.early]
    for key in chosen:
        action, items = current.actions.pop(key), current.items.pop(key)
        current.due.pop(key)
        current.early.discard(key)
        try:
            action(items)
        except Exception:  # after the commits: what failed is said, the rest still runs
            db.session.rollback()
            log.exception("held work %r (%d items) failed", key, len(items))
