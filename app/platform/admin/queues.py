"""What the job queues hold, for the admins' queue page.

Read from Redis through RQ: each named queue's waiting, running, scheduled and
failed jobs, the workers and what each is doing, and the failed jobs with their
traceback. A failed job can be sent back to its queue, one or all of a queue's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rq import Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job

from app.platform.jobs.queues import QUEUE_NAMES, broker

# The newest failed jobs shown per queue; older ones stay in the registry.
FAILED_SHOWN = 50


@dataclass(frozen=True)
class QueueFigures:
    name: str
    waiting: int
    running: int
    scheduled: int
    failed: int


@dataclass(frozen=True)
class WorkerState:
    name: str
    state: str
    queues: list[str]
    current_job: str | None
    last_heartbeat: datetime | None


@dataclass(frozen=True)
class FailedJob:
    id: str
    queue: str
    function: str
    failed_at: datetime | None
    error: str  # the traceback's last line
    traceback: str


def queue_figures() -> list[QueueFigures]:
    figures = []
    for name in QUEUE_NAMES:
        queue = broker().queue(name)
        figures.append(
            QueueFigures(
                name=name,
                waiting=queue.count,
                running=queue.started_job_registry.count,
                scheduled=queue.scheduled_job_registry.count,
                failed=queue.failed_job_registry.count,
            )
        )
    return figures


def workers() -> list[WorkerState]:
    found = []
    for worker in Worker.all(connection=broker().connection):
        job = worker.get_current_job()
        found.append(
            WorkerState(
                name=worker.name,
                state=str(worker.get_state()),
                queues=worker.queue_names(),
                current_job=job.func_name if job else None,
                last_heartbeat=worker.last_heartbeat,
            )
        )
    return sorted(found, key=lambda w: w.name)


def failed_jobs() -> list[FailedJob]:
    """The newest failed jobs of every queue, newest first."""
    jobs = []
    for name in QUEUE_NAMES:
        registry = broker().queue(name).failed_job_registry
        ids = registry.get_job_ids(-FAILED_SHOWN, -1)
        for job in Job.fetch_many(ids, connection=broker().connection):
            if job is None:
                continue
            trace = job.latest_result().exc_string if job.latest_result() else ""
            trace = trace or job.exc_info or ""
            lines = [line for line in trace.strip().splitlines() if line.strip()]
            jobs.append(
                FailedJob(
                    id=job.id,
                    queue=name,
                    function=job.func_name,
                    failed_at=job.ended_at,
                    error=lines[-1] if lines else "",
                    traceback=trace,
                )
            )
    return sorted(jobs, key=lambda j: j.failed_at or datetime.min, reverse=True)[:FAILED_SHOWN]


class UnknownJob(Exception):
    """No failed job with that id in that queue."""


def requeue(queue_name: str, job_id: str) -> None:
    """Send one failed job back to its queue (it runs again from the start)."""
    if queue_name not in QUEUE_NAMES:
        raise UnknownJob(queue_name)
    registry = broker().queue(queue_name).failed_job_registry
    if job_id not in registry.get_job_ids():
        raise UnknownJob(job_id)
    try:
        registry.requeue(job_id)
    except NoSuchJobError as exc:
        raise UnknownJob(job_id) from exc


def requeue_all(queue_name: str) -> int:
    """Send every failed job of ``queue_name`` back; how many."""
    if queue_name not in QUEUE_NAMES:
        raise UnknownJob(queue_name)
    registry = broker().queue(queue_name).failed_job_registry
    count = 0
    for job_id in registry.get_job_ids():
        try:
            registry.requeue(job_id)
            count += 1
        except NoSuchJobError:
            registry.remove(job_id)  # its data expired: nothing left to run
    return count
