"""Whose turn it is in a ``worker.py`` process: its inbox consumer or an RQ job.

Two threads do database work in each worker, the inbox consumer
(:mod:`app.platform.jobs.consumer`) and the RQ worker (:mod:`app.platform.jobs.worker`). They take
turns, one unit of work at a time (a consumer's batch of claims, or one job),
and customers' inbound events go first: while the consumer has events in hand,
the jobs that can wait do, up to a second. Then, and at once for the urgent
jobs (the answers' sends), a job waiting takes turns with the consumer fairly:
it is let in between two of the consumer's batches, and a long job of sends
lets the consumer in again once it has had its slice. Before, a burst of
first-time senders kept the consumer claiming batch after batch while the one
RQ thread waited with the job it had taken (a periodic sweep, say), and the
out-of-hours answers' sends queued behind it went out when the burst was over
(benchmarks/e2e.py, mix burst).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

# Set while this process's inbox consumer has nothing in hand. Customers wait on
# inbound events, so the RQ jobs that can wait (periodic scans, bulk work,
# harvesting) let the consumer go first, as the ``webhooks`` queue went first
# before it.
inbox_idle = threading.Event()
inbox_idle.set()
# One unit of work at a time per process, a consumer's batch or an RQ job: two
# threads running database work side by side only take turns on the GIL, and
# measured so (benchmarks/e2e.py, new customers) they spent 40 % more CPU a
# message than one after the other, and held half the rate.
one_at_a_time = threading.RLock()
# Queues whose jobs someone is waiting on right now: they never yield.
URGENT_QUEUES = frozenset({"webhooks", "deliveries"})
YIELD_SECONDS = 1.0
# How long a job holds the turn before it lets the consumer in between two sends:
# about as long as one of the consumer's batches under a burst, so the answers go
# out at about the pace their messages come in (at 0.1 s, three sends a batch of
# twenty messages, benchmarks/e2e.py burst).
JOB_SLICE_SECONDS = 0.25
# Whether this thread runs an RQ job now (and so holds ``one_at_a_time``).
_in_job = threading.local()
# A job waits for the turn (cleared once it has it), and it has it: one RQ thread a
# process, so one of each.
job_waiting = threading.Event()
job_started = threading.Event()
# The consumer has taken the turn a job let go of.
consumer_started = threading.Event()
# How deep this thread is in the consumer's turn (``consumer_turn``).
_in_consumer = threading.local()


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
    ``one_at_a_time`` held; while it waits for that, the consumer lets it in between
    two batches (:func:`let_waiting_jobs_in`)."""
    if queue not in URGENT_QUEUES:
        inbox_idle.wait(timeout=YIELD_SECONDS)
    job_started.clear()
    job_waiting.set()
    try:
        with one_at_a_time:
            job_waiting.clear()
            job_started.set()
            _in_job.active = True
            _in_job.since = time.monotonic()
            try:
                yield
            finally:
                _in_job.active = False
    finally:
        job_waiting.clear()


@contextlib.contextmanager
def consumer_turn() -> Iterator[None]:
    """The inbox consumer's turn (``one_at_a_time`` held), which it lends to a waiting
    job between two batches (:func:`let_waiting_jobs_in`)."""
    with one_at_a_time:
        consumer_started.set()
        depth = getattr(_in_consumer, "depth", 0)
        _in_consumer.depth = depth + 1
        try:
            yield
        finally:
            _in_consumer.depth = depth


def let_waiting_jobs_in() -> None:
    """Between two of the consumer's batches: a job waiting for its turn (the sends of
    the answers those batches made, or the job the RQ thread took before them) has it
    now, and the consumer goes on after it. Nothing outside the consumer's turn, or
    inside a nested one."""
    if not job_waiting.is_set() or getattr(_in_consumer, "depth", 0) != 1:
        return
    one_at_a_time.release()
    try:
        # Released, it is the job's to take: go on once it has (or after a while).
        job_started.wait(timeout=YIELD_SECONDS)
    finally:
        one_at_a_time.acquire()
        consumer_started.set()


def let_the_inbox_go_first() -> None:
    """Between the parts of a long job (a batch of sends), once the job has had
    ``JOB_SLICE_SECONDS`` of its turn: if this process's inbox consumer has events in
    hand, it goes first, for one batch (the job waits for its turn again as a job
    does, :func:`let_waiting_jobs_in`), or till it is done, or ``YIELD_SECONDS``."""
    if inbox_idle.is_set() or not getattr(_in_job, "active", False):
        return
    if time.monotonic() - _in_job.since < JOB_SLICE_SECONDS:
        return  # its slice is not over: a batch of quick sends goes out together
    consumer_started.clear()
    one_at_a_time.release()
    try:
        # Released, it is the consumer's to take (if it wants it).
        consumer_started.wait(timeout=YIELD_SECONDS)
    finally:
        job_started.clear()
        job_waiting.set()
        try:
            one_at_a_time.acquire()
        finally:
            job_waiting.clear()
            job_started.set()
            _in_job.since = time.monotonic()
