"""Periodic jobs: what runs on a clock, and the scheduler that enqueues it.

Each feature declares its own jobs (``periodic_jobs`` of its ``FEATURE``, see
:mod:`app.platform.features`); ``create_app`` hands the collected list to the broker.

Every scheduler (one per ``worker.py`` process, or the embedded worker thread)
ticks once a second and enqueues each job whose time slot has begun. The slot is
claimed with ``SET NX`` in Redis first, so however many workers run, each slot
is enqueued exactly once; the jobs themselves do the work by id and query.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from app.platform.jobs.queues import QUEUES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    func_path: str
    every_seconds: int
    queue: str = "periodic"


def slot_key(job: PeriodicJob, now: float) -> str:
    """The Redis key that claims ``job``'s time slot holding ``now``."""
    return f"switchboard:periodic:{job.name}:{int(now // job.every_seconds)}"


def enqueue_due_periodic_jobs(
    broker, now: float | None = None, jobs=None, asked: dict[str, int] | None = None
) -> list[str]:
    """Enqueue the jobs whose slot starts now; returns the names enqueued.

    ``jobs`` defaults to those the features declared (``broker.periodic_jobs``,
    set by ``create_app``). ``asked``: the slot this scheduler last claimed or
    found claimed, by job; a job is not asked again until its next slot begins.
    Without it every job's slot was asked for every second: 25 ``SET NX`` a second
    from each idle worker, a fifth of its idle CPU, where a job every minute needs
    one a minute.
    """
    now = time.time() if now is None else now
    jobs = broker.periodic_jobs if jobs is None else jobs
    enqueued = []
    for job in jobs:
        slot = int(now // job.every_seconds)
        if asked is not None and asked.get(job.name) == slot:
            continue
        claimed = broker.connection.set(slot_key(job, now), "1", nx=True, ex=job.every_seconds * 3)
        if asked is not None:
            asked[job.name] = slot  # (not before: a Redis error leaves the slot to ask again)
        if not claimed:
            continue
        spec = QUEUES[job.queue]
        broker.queue(job.queue).enqueue(
            job.func_path, job_timeout=spec.timeout, result_ttl=600, failure_ttl=86400
        )
        enqueued.append(job.name)
    return enqueued


class BrokerLoop(threading.Thread):
    """A daemon thread of ``worker.py`` doing one thing over and over until stopped.

    A failed round is logged and the loop carries on after ``pause_seconds``:
    Redis or the database may blip, and every round's work is found again by the
    next. ``broker`` is None for a loop that needs no Redis (the inbox consumer).
    """

    pause_seconds = 1.0

    def __init__(self, broker, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.broker = broker
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.round()
            except Exception:
                log.exception("%s: a round failed; carrying on", self.name)
                self._stop_event.wait(self.pause_seconds)

    def round(self) -> None:
        raise NotImplementedError


class PeriodicScheduler(BrokerLoop):
    """Enqueues the periodic jobs on time (a missed slot only delays work that queries)."""

    def __init__(self, broker, tick_seconds: float = 1.0) -> None:
        super().__init__(broker, "periodic-scheduler")
        self.tick_seconds = tick_seconds
        self._asked: dict[str, int] = {}

    def round(self) -> None:
        enqueue_due_periodic_jobs(self.broker, asked=self._asked)
        self._stop_event.wait(self.tick_seconds)
