"""Whose turn it is in a ``worker.py`` process: its inbox consumer or an RQ job.

Two threads do database work in each worker, the inbox consumer
(:mod:`app.platform.jobs.consumer`) and the RQ worker (:mod:`app.platform.jobs.worker`). They take
turns, one unit of work at a time (a consumer's round of claims, or one job),
and customers' inbound events go first: while the consumer has events in hand,
the jobs that can wait do, and a long job of sends lets it in between two sends.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

# Set while this process's inbox consumer has nothing in hand. Customers wait on
# inbound events, so the RQ jobs that can wait (periodic scans, bulk work,
# harvesting) let the consumer go first, as the ``webhooks`` queue went first
# before it.
inbox_idle = threading.Event()
inbox_idle.set()
# One unit of work at a time per process, a consumer's round or an RQ job: two
# threads running database work side by side only take turns on the GIL, and
# measured so (benchmarks/e2e.py, new customers) they spent 40 % more CPU a
# message than one after the other, and held half the rate.
one_at_a_time = threading.RLock()
# Queues whose jobs someone is waiting on right now: they never yield.
URGENT_QUEUES = frozenset({"webhooks", "deliveries"})
YIELD_SECONDS = 1.0
# Whether this thread runs an RQ job now (and so holds ``one_at_a_time``).
_in_job = threading.local()


@contextlib.contextmanager
def events_in_hand() -> Iterator[None]:
    """The consumer has events in hand (or gathers them): jobs that can wait, wait."""
    inbox_idle.clear()
    try:
        yield
    finally:
        inbox_idle.set()


@contextlib.contextmanager
def job_turn(queue: str) -> Iterator[None]:
    """An RQ job's turn: after the consumer's events if the job can wait (never more
    than ``YIELD_SECONDS``, so these jobs still run under a lasting burst), and with
    ``one_at_a_time`` held."""
    if queue not in URGENT_QUEUES:
        inbox_idle.wait(timeout=YIELD_SECONDS)
    with one_at_a_time:
        _in_job.active = True
        try:
            yield
        finally:
            _in_job.active = False


def let_the_inbox_go_first() -> None:
    """Between the parts of a long job (a batch of sends): if this process's inbox
    consumer has events in hand and waits for its turn, it goes first; the job
    goes on once it is done, or after ``YIELD_SECONDS``."""
    if inbox_idle.is_set() or not getattr(_in_job, "active", False):
        return
    one_at_a_time.release()
    try:
        inbox_idle.wait(timeout=YIELD_SECONDS)
    finally:
        one_at_a_time.acquire()
