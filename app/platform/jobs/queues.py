"""Named queues and retry defaults, declared once (see STYLE.md habit 6).

Jobs are importable functions that take ids, never ORM objects, and are enqueued
by dotted path so the web process never imports worker-only code paths.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import current_app
from rq import Queue, Retry
from rq.job import Job

from app.platform.logs import current_request_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueueSpec:
    name: str
    # Seconds a job may run before RQ stops it.
    timeout: int
    retry_intervals: tuple[int, ...] = field(default=(10, 60, 300))

    def retry(self) -> Retry | None:
        if not self.retry_intervals:
            return None
        return Retry(max=len(self.retry_intervals), interval=list(self.retry_intervals))


# Listed in priority order: a worker drains earlier queues first.
QUEUES: dict[str, QueueSpec] = {
    spec.name: spec
    for spec in (
        # Inbound webhook processing: customers are waiting on these. Stopped
        # before its claim's lease (PROCESSING_LEASE_SECONDS, 40 s) runs out, so
        # a slow job is never processed twice at once.
        QueueSpec("webhooks", timeout=35),
        # Outbound message sends (WhatsApp, e-mail, SMS) and partner callbacks.
        # Callback retries are timed by the delivery engine itself, not by RQ.
        QueueSpec("deliveries", timeout=60, retry_intervals=()),
        QueueSpec("default", timeout=180),
        # Scheduler-driven scans (SLA ladder, reminders, health checks): a missed
        # run is simply picked up by the next one, so no retries.
        QueueSpec("periodic", timeout=120, retry_intervals=()),
        # Bulk and slow work: syncs, digests, imports.
        QueueSpec("bulk", timeout=3600, retry_intervals=(60, 600)),
    )
}
QUEUE_NAMES: tuple[str, ...] = tuple(QUEUES)


def broker():
    """The app's :class:`~app.platform.jobs.broker.Broker` (real Redis or embedded)."""
    return current_app.extensions["broker"]


def get_queue(name: str) -> Queue:
    return broker().queue(name)


def enqueue(func_path: str, *args, queue: str = "default", **kwargs) -> Job:
    """Enqueue ``func_path(*args)`` on a named queue with that queue's defaults.

    ``args`` must be plain values (ids as strings), never ORM objects: the job
    runs in another process, later, against whatever the database then holds.
    """
    spec = QUEUES[queue]
    # The request (or job) that caused this one, followed into it (app.platform.logs).
    caused_by = current_request_id()
    if caused_by and "meta" not in kwargs:
        kwargs["meta"] = {"request_id": caused_by}
    job = get_queue(queue).enqueue(
        func_path,
        *args,
        job_timeout=spec.timeout,
        retry=spec.retry(),
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        **kwargs,
    )
    log.info("enqueued %s on %s as job %s", func_path, queue, job.id)
    return job


def enqueue_many(func_path: str, args_list: list[tuple], *, queue: str = "default") -> list[Job]:
    """Enqueue ``func_path(*args)`` for each ``args`` in one Redis round trip.

    For listeners inside a batch job (:mod:`app.platform.jobs.coalescing`): one job per event,
    handed over together instead of one round trip each.
    """
    if not args_list:
        return []
    spec = QUEUES[queue]
    caused_by = current_request_id()
    target = get_queue(queue)
    jobs = target.enqueue_many(
        [
            Queue.prepare_data(
                func_path,
                args=args,
                timeout=spec.timeout,
                retry=spec.retry(),
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
                meta={"request_id": caused_by} if caused_by else None,
            )
            for args in args_list
        ]
    )
    log.info("enqueued %s × %s on %s", len(jobs), func_path, queue)
    return jobs
