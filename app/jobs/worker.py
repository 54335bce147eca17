"""The RQ worker class every process uses: jobs run inside an app context."""

from __future__ import annotations

import logging
import threading

from rq import SimpleWorker
from rq.job import Job
from rq.queue import Queue

from app.extensions import db
from app.logs import job_context

log = logging.getLogger(__name__)

# Set while this process's inbox consumer (app.webhooks.consumer) has nothing in
# hand. Customers wait on inbound events, so the RQ jobs that can wait
# (periodic scans, bulk work, harvesting) let the consumer go first, as the
# ``webhooks`` queue went first before it.
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
# Whether this thread runs an RQ job now (and so holds ``one_at_a_time``).
_in_job = threading.local()


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


class AppWorker(SimpleWorker):
    """Runs each job in its own Flask app context.

    A fresh context per job means a fresh ``db.session``: nothing one job loaded
    or left uncommitted leaks into the next. Jobs run in the worker process
    (no fork per job), which keeps the database pool warm; scale out by running
    more ``worker.py`` processes.
    """

    def __init__(self, *args, app, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.app = app

    def perform_job(self, job: Job, queue: Queue) -> bool:
        if job.origin not in URGENT_QUEUES:
            # Inbound events first (see app.webhooks.consumer); never more than a
            # moment, so these jobs still run under a lasting burst.
            inbox_idle.wait(timeout=YIELD_SECONDS)
        with one_at_a_time:
            _in_job.active = True
            try:
                return self._perform(job, queue)
            finally:
                _in_job.active = False

    def _perform(self, job: Job, queue: Queue) -> bool:
        request_id = (job.meta or {}).get("request_id")
        with self.app.app_context(), job_context(job.id, request_id):
            try:
                return super().perform_job(job, queue)
            finally:
                db.session.remove()
