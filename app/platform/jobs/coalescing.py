"""Work a batch job does once for all its events, not once per event.

A job that processes many events one after the other (the webhook batch,
:func:`app.platform.webhooks.processing.process_events`) commits each on its own, and
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

A thread that claims batch after batch (the inbox consumer,
:mod:`app.platform.jobs.consumer`) may let work held with ``linger`` outlive a
batch: inside :func:`carrying` such a key is not flushed at the end of a
``held`` block before it is due, but carried into the next one, so a burst
that arrives one or two events a claim still has its sends queued as one job.
The thread waits no longer than :func:`seconds_until_carried_due`, and
whatever is carried when :func:`carrying` ends is flushed then.

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
from contextlib import AbstractContextManager, contextmanager

from app.platform.extensions import db

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
        self.lingering: set[str] = set()


def _current() -> _Held | None:
    return getattr(_local, "held", None)


@contextmanager
def held() -> Iterator[None]:
    """Hold coalescable work until the block ends (a nested block joins the outer one)."""
    if _current() is not None:
        yield
        return
    carried = getattr(_local, "carried", None)
    _local.held = carried or _Held()
    try:
        yield
    finally:
        try:
            flush(None if carried is None else _not_to_carry(carried))
        finally:
            _local.held = None


def _not_to_carry(carried: _Held) -> list[str]:
    now = time.monotonic()
    return [k for k in carried.actions if k not in carried.lingering or carried.due[k] <= now]


@contextmanager
def carrying(working: Callable[[], AbstractContextManager]) -> Iterator[None]:
    """Carry work held with ``linger`` from one ``held`` block to the next in this
    thread until it is due; what is left is flushed when this block ends, inside
    ``working()`` (the app context the held work needs)."""
    _local.carried = _Held()
    try:
        yield
    finally:
        _local.held = _local.carried
        try:
            with working():
                flush()
        finally:
            _local.held = _local.carried = None


def seconds_until_carried_due() -> float | None:
    """How long until the first carried work is due; None if nothing is carried."""
    carried = getattr(_local, "carried", None)
    if carried is None or not carried.due:
        return None
    return max(0.0, min(carried.due.values()) - time.monotonic())


def hold(
    key: str,
    action: Callable[[list], object],
    item: object = None,
    *,
    early: bool = False,
    within: float | None = None,
    linger: bool = False,
) -> bool:
    """Give ``item`` to ``action`` with the others held under ``key``; False if nothing
    is being held (the caller then does its work at once).

    ``early``: this key's action runs before the others, and with any of them
    (a mark that what the others announce must find already made).
    ``within``: the longest its first item waits between events, in seconds.
    ``linger``: inside :func:`carrying`, it may wait that long across ``held`` blocks.
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
        if linger:
            current.lingering.add(key)
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
        current.lingering.discard(key)
        try:
            action(items)
        except Exception:  # after the commits: what failed is said, the rest still runs
            db.session.rollback()
            log.exception("held work %r (%d items) failed", key, len(items))
