"""Periodic jobs: what runs on a clock, and the scheduler that enqueues it.

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

from app.jobs.queues import QUEUES
from app.webhooks.events import pump_inbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    func_path: str
    every_seconds: int
    queue: str = "periodic"


# Later features add their clocks here (SLA scans, health checks, digests).
PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob("task-reminders", "app.tasks.jobs.send_due_reminders", every_seconds=30),
    PeriodicJob(
        "assignment-escalation",
        "app.assignment.escalation.escalate_unanswered_threads",
        every_seconds=60,
    ),
    # Every 15 s, so an escalation-ladder alert goes out within 60 s of its moment.
    PeriodicJob("sla-ladder", "app.sla.ladder.scan", every_seconds=15),
    PeriodicJob(
        "stalled-webhook-events", "app.webhooks.processing.requeue_stalled_events", every_seconds=60
    ),
    PeriodicJob(
        "stalled-deliveries", "app.deliveries.jobs.requeue_stalled_deliveries", every_seconds=60
    ),
    PeriodicJob(
        "outlook-subscriptions",
        "app.channels.outlook.subscriptions.renew_subscriptions",
        every_seconds=15 * 60,
    ),
    PeriodicJob("outlook-delta", "app.channels.outlook.delta.poll_delta", every_seconds=5 * 60),
    PeriodicJob(
        "visit-reminders", "app.channels.email.reminders.send_visit_reminders", every_seconds=3600
    ),
    # Cheap outside its 07:30 window; inside, only the first run of the day sends.
    PeriodicJob("daily-digest", "app.analytics.digest.send_daily_digests", every_seconds=300),
    # Starts the hourly/daily/weekly integration syncs that are due (run on "bulk").
    PeriodicJob(
        "integration-syncs", "app.integrations.sync.run_scheduled_syncs", every_seconds=300
    ),
    PeriodicJob(
        "integration-health",
        "app.integrations.health.scheduled_health_checks",
        every_seconds=300,
    ),
    PeriodicJob("api-usage-flush", "app.integrations.usage.flush_usage", every_seconds=15),
    # Looks 15 minutes ahead, so tokens are renewed before a sync needs them.
    PeriodicJob(
        "integration-token-refresh",
        "app.integrations.tokens.refresh_expiring_tokens",
        every_seconds=300,
    ),
)


def enqueue_due_periodic_jobs(broker, now: float | None = None, jobs=PERIODIC_JOBS) -> list[str]:
    """Enqueue the jobs whose slot starts now; returns the names enqueued."""
    now = time.time() if now is None else now
    enqueued = []
    for job in jobs:
        slot = int(now // job.every_seconds)
        key = f"switchboard:periodic:{job.name}:{slot}"
        if not broker.connection.set(key, "1", nx=True, ex=job.every_seconds * 3):
            continue
        spec = QUEUES[job.queue]
        broker.queue(job.queue).enqueue(
            job.func_path, job_timeout=spec.timeout, result_ttl=600, failure_ttl=86400
        )
        enqueued.append(job.name)
    return enqueued


class InboxPump(threading.Thread):
    """A daemon thread of ``worker.py`` turning webhook hand-offs into RQ jobs."""

    def __init__(self, broker) -> None:
        super().__init__(name="webhook-inbox-pump", daemon=True)
        self.broker = broker
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                pump_inbox(self.broker, block_seconds=1)
            except Exception:
                log.exception("webhook inbox pump failed; retrying")
                self._stop_event.wait(1)


class PeriodicScheduler(threading.Thread):
    """A daemon thread of ``worker.py`` that enqueues periodic jobs on time."""

    def __init__(self, broker, tick_seconds: float = 1.0) -> None:
        super().__init__(name="periodic-scheduler", daemon=True)
        self.broker = broker
        self.tick_seconds = tick_seconds
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                enqueue_due_periodic_jobs(self.broker)
            except Exception:
                # Redis may blip; the next tick tries again and a missed slot
                # only delays work that queries for what is due.
                log.exception("periodic scheduler tick failed")
            self._stop_event.wait(self.tick_seconds)
