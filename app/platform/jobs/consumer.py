"""The thread in every ``worker.py`` on PostgreSQL that takes stored webhook events
straight from the table, woken by ``LISTEN/NOTIFY``: production's one inbound path.

The webhook's insert says ``pg_notify`` in the same statement (the notification
goes out when the row is committed, and only for a new row); each worker's
consumer wakes, waits out its gathering window, and hands the round to ``take``
(:func:`app.platform.webhooks.processing.take_waiting`: claims what waits, ``SKIP LOCKED``,
oldest first, a batch at a time, and processes it in this thread, event by event,
as the batch job does). A worker woken within ``WEBHOOK_GATHER_SECONDS`` of its
last claim waits for that window to end, so a busy moment's events go in one claim
instead of one claim each. Before this an event id went through a Redis list, a
pump thread and an RQ job per batch: RQ's bookkeeping, the pump and the Redis
round trips were a fifth of a worker's CPU per message (py-spy on the deployment
of ``benchmarks/e2e.py``). RQ keeps the jobs it suits: sends, periodic scans,
harvesting, retries.

Nothing is lost when a notification is: the consumer also looks every
``poll_seconds``, and its claim takes events whose worker's lease ran out (a
worker killed mid-way), so a crash costs the lease and at most a second more.
The round and its channel are handed in by ``worker.py`` (the webhooks feature's),
so this package imports no feature. The states, with the send batching and the
turns it takes with the RQ worker: docs/architecture.md, *The worker*.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator

import psycopg

from app.platform.extensions import db
from app.platform.jobs.coalescing import carrying, seconds_until_carried_due
from app.platform.jobs.periodic import BrokerLoop
from app.platform.jobs.turns import consumer_turn, events_in_hand

log = logging.getLogger(__name__)

# After a wake-up: events stored in the next moment join the same claim.
LINGER_SECONDS = 0.005


def _notified(connection: psycopg.Connection, timeout: float) -> bool:
    """Whether a notification comes within ``timeout`` seconds; takes the first only.

    Those received while this connection ran the claims wait in psycopg's backlog
    and come out together, hundreds after a burst: a wait for each (the linger)
    once held a worker's claims back for seconds. The next round reads the rest.
    """
    with contextlib.closing(connection.notifies(timeout=timeout, stop_after=1)) as heard:
        return next(heard, None) is not None


# A round of claims: (batch size, orphans too?, the connection to claim on) →
# how many events it took.
Take = Callable[..., int]


class InboxConsumer(BrokerLoop):
    """Listens on ``channel`` for stored events and has ``take`` process them in this
    worker (one consumer per process).

    A round lasts as long as its connection: when the database restarts, the
    loop logs it and listens again a second later.
    """

    def __init__(
        self,
        app,
        *,
        channel: str,
        take: Take,
        batch_size: int,
        poll_seconds: float = 1.0,
        gather_seconds: float = 0.0,
    ) -> None:
        super().__init__(None, "webhook-inbox-consumer")
        self.app = app
        self.channel = channel
        self.take = take
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.gather_seconds = gather_seconds

    @contextlib.contextmanager
    def _working(self) -> Iterator[None]:
        with consumer_turn(), self.app.app_context():
            yield

    def round(self) -> None:
        with self.app.app_context():
            url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with (
            psycopg.connect(url, autocommit=True, connect_timeout=5) as connection,
            # The answers' sends wait a moment for the next claims' (one job for them).
            carrying(self._working),
        ):
            connection.execute(f"LISTEN {self.channel}")
            orphans_looked_at = 0.0
            claimed_at = -self.gather_seconds
            while not self._stop_event.is_set():
                # Events in hand from here on: this process's RQ jobs that can wait
                # do not start while the window below gathers more.
                with events_in_hand():
                    # Woken within the gathering time of this worker's last claim:
                    # what arrives until it ends joins one claim (see
                    # WEBHOOK_GATHER_SECONDS). A wake-up after a quiet spell claims at
                    # once, and so does one after a round that ran past the time: no
                    # event waits longer than that for its claim.
                    gathering = claimed_at + self.gather_seconds - time.monotonic()
                    if gathering > 0:
                        self._stop_event.wait(gathering)
                    claimed_at = time.monotonic()
                    # Notifications that came while the last batch ran are read first,
                    # so an event stored after this claim still wakes the next round.
                    for _ in connection.notifies(timeout=0):
                        pass
                    orphans = time.monotonic() - orphans_looked_at >= self.poll_seconds
                    if orphans:
                        orphans_looked_at = time.monotonic()
                    with self._working():
                        self.take(self.batch_size, orphans=orphans, connection=connection)
                # Woken in time for carried work that comes due (the next claim does it).
                due = seconds_until_carried_due()
                timeout = self.poll_seconds if due is None else min(self.poll_seconds, due)
                if _notified(connection, timeout):
                    self._stop_event.wait(LINGER_SECONDS)
