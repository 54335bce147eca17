"""Sync jobs: moving records between Switchboard and a provider, in batches.

:func:`start_sync` writes a pending :class:`SyncJob` and queues
:func:`run_sync` on the ``bulk`` queue once the caller commits. The job works
through the records ``batch_size`` at a time and commits after each batch, so
the progress block on the job page moves while it runs and a crash loses at
most one batch. Between batches it checks ``cancel_requested``.

Every record's standing with the integration is a :class:`SyncRecord`: its
remote id (so the next run updates instead of creating), whether the last try
failed and why. One bad record never stops the run: its error is kept, the run
goes on, and a later run with ``only_failed`` retries just the records still
outstanding. Errors the provider calls temporary (timeouts, 429, 5xx) are
retried a couple of times with backoff first. Refused credentials do stop the
run: every further call would be refused the same way.

A run that stops half-way (the provider failing past those retries, or the
worker killed) resumes from its last committed batch: :func:`resume_sync`
queues a failed job again, and :func:`resume_stalled_syncs` (periodic) queues
running jobs whose heartbeat is older than ``SYNC_LEASE_SECONDS``. A worker
takes a job up only by claiming it (:func:`run_sync`), so a job queued twice
still runs once at a time, from where the last claim's batches got to.

This module starts, runs and reads jobs; pushing lives in
:mod:`app.integrations.sync.outbound`, pulling in :mod:`app.integrations.sync.inbound`
(work orders: :mod:`app.integrations.sync.inbound_work_orders`), and the order and
payment hooks that queue pushes in :mod:`app.integrations.payments.accounting`.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.integrations.connectors import ConnectorError, connector_class, connector_for
from app.integrations.sync.inbound import pull_all
from app.integrations.sync.inbound_work_orders import pull_work_orders
from app.integrations.sync.mapping_defaults import kind_of
from app.integrations.sync.outbound import push_all
from app.integrations.sync.records import OUTSTANDING, ClaimLost, SyncRun, holds_claim
from app.integrations.sync.settings import list_scope
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.models import Integration, SyncJob, SyncRecord, User
from app.platform.transactions import after_commit, commit

log = logging.getLogger(__name__)

# Jobs are named through the group (app.integrations.sync), so a job queued before
# a file inside the group is moved or renamed still finds its function.
RUN_SYNC = "app.integrations.sync.run_sync"
ACTIVE_STATUSES = ("pending", "running")
FINAL_STATUSES = ("completed", "completed_with_errors", "failed", "cancelled")
DIRECTIONS = {"in": "in", "out": "out", "two_way": "two_way"}
# The integration's own setting names, accepted too.
DIRECTIONS.update({"one_way_in": "in", "one_way_out": "out"})
SCHEDULE_INTERVALS = {
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
    "weekly": timedelta(weeks=1),
}


class SyncRefused(ValueError):
    """A sync that cannot start; ``fields`` names what is wrong with the request."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))


# --- starting and stopping ---------------------------------------------------------


def start_sync(
    integration: Integration,
    object_type: str,
    direction: str,
    user: User | None,
    only_failed: bool = False,
) -> SyncJob:
    """Write a pending sync job and queue it for after the commit (no commit).

    The caller ends the transaction with :func:`app.platform.transactions.commit`.
    Raises :class:`SyncRefused` naming the field that cannot be honoured.
    """
    direction = _check_request(integration, object_type, direction, only_failed)
    running = db.session.scalar(
        sa.select(SyncJob.id).where(
            SyncJob.integration_id == integration.id,
            SyncJob.object_type == object_type,
            SyncJob.status.in_(ACTIVE_STATUSES),
        )
    )
    if running is not None:
        raise SyncRefused({"object_type": f"a sync of {object_type} is already running"})
    return queue_sync_job(integration, object_type, direction, user, only_failed)


def cancel_sync(job: SyncJob) -> bool:
    """Ask a pending or running job to stop (no commit); False when it already ended.

    A running job stops between batches: what it already synced stays synced.
    """
    if job.status not in ACTIVE_STATUSES:
        return False
    job.cancel_requested = True
    return True


def default_direction(integration: Integration, object_type: str) -> str:
    """The direction a sync of ``object_type`` takes when the caller names none.

    Work orders only come in, other records than contacts only go out, and
    contacts go the way the integration syncs. The page and the API both ask here.
    """
    if object_type in connector_class(integration.provider).pulled_orders:
        return "in"
    if kind_of(object_type) != "contact":
        return "out"
    return DIRECTIONS.get(integration.sync_direction, "two_way")


def _check_request(
    integration: Integration, object_type: str, direction: str, only_failed: bool
) -> str:
    errors: dict[str, str] = {}
    if integration.status == "inactive":
        errors["integration"] = "is not active; connect or activate it first"
    wanted = DIRECTIONS.get(direction or "")
    allowed = DIRECTIONS.get(integration.sync_direction, "two_way")
    if wanted is None:
        errors["direction"] = "must be in, out or two_way"
    elif allowed != "two_way" and wanted != allowed:
        errors["direction"] = f"this integration only syncs {allowed}"
    try:
        connector = connector_for(integration)
        objects, pulled = connector.objects, connector.pulled_orders
    except ConnectorError as exc:
        objects = pulled = ()
        errors["integration"] = exc.message
    kind = kind_of(object_type)
    if object_type not in objects or kind is None:
        errors["object_type"] = "must be one of " + ", ".join(
            o for o in objects if kind_of(o) is not None
        )
    elif object_type in pulled and wanted != "in":
        errors["direction"] = f"{object_type} can only be synced in"
    elif wanted in ("in", "two_way") and kind != "contact" and object_type not in pulled:
        errors["direction"] = f"{object_type} can only be synced out"
    if only_failed and wanted != "out":
        errors["only_failed"] = "re-running failed records applies to outbound syncs"
    if errors:
        raise SyncRefused(errors)
    return wanted


def queue_sync_job(
    integration: Integration,
    object_type: str,
    direction: str,
    user: User | None,
    only_failed: bool,
) -> SyncJob:
    """A pending job, queued once the caller commits; unchecked (:func:`start_sync` checks)."""
    job = SyncJob(
        integration_id=integration.id,
        object_type=object_type,
        direction=direction,
        status="pending",
        only_failed=only_failed,
        triggered_by_user_id=user.id if user else None,
    )
    db.session.add(job)
    db.session.flush()
    job_id = str(job.id)
    after_commit(lambda: enqueue(RUN_SYNC, job_id, queue="bulk"))
    return job


# --- the job --------------------------------------------------------------------


def run_sync(job_id: str) -> None:
    """The RQ job: run sync job ``job_id`` to its end (completed, with errors, failed, …).

    Does nothing unless it can claim the job: pending, or running under a claim
    whose heartbeat is older than the lease (its worker died). A claimed job
    continues from its committed cursor and counts.
    """
    claimed = _claim(uuid.UUID(job_id))
    if claimed is None:
        return
    job, token = claimed
    integration = db.session.get(Integration, job.integration_id)
    log.info(
        "sync job %s (run %s, from record %s): %s %s for %s",
        job_id,
        job.runs,
        job.processed,
        job.direction,
        job.object_type,
        integration.name,
    )
    try:
        run = SyncRun(
            job,
            integration,
            connector_for(integration),
            scope=list_scope(integration),
            claim_token=token,
            counted=job.succeeded,
        )
        cancelled = False
        for direction in ("out", "in") if job.direction == "two_way" else (job.direction,):
            if direction == "out":
                cancelled = push_all(run)
            elif job.object_type in run.connector.pulled_orders:
                cancelled = pull_work_orders(run)
            else:
                cancelled = pull_all(run)
            if cancelled:
                break
        _finish(job, integration, token, "cancelled" if cancelled else None)
    except ClaimLost as exc:
        log.warning("sync job %s: %s; this worker stops", job_id, exc)
    except ConnectorError as exc:
        db.session.rollback()
        log.warning("sync job %s stopped: %s", job_id, exc.message)
        _finish(job, integration, token, "failed", exc.message)
    except Exception as exc:
        db.session.rollback()
        log.exception("sync job %s crashed", job_id)
        _finish(job, integration, token, "failed", f"unexpected error ({type(exc).__name__})")


def _claim(job_id: uuid.UUID) -> tuple[SyncJob, uuid.UUID] | None:
    """Take the job up under a new claim token (committed), or None when it is not ours to run."""
    now = utcnow()
    stale = now - timedelta(seconds=float(current_app.config["SYNC_LEASE_SECONDS"]))
    token = uuid.uuid4()
    result = db.session.execute(
        sa.update(SyncJob)
        .where(
            SyncJob.id == job_id,
            sa.or_(
                SyncJob.status == "pending",
                sa.and_(
                    SyncJob.status == "running",
                    sa.or_(SyncJob.heartbeat_at.is_(None), SyncJob.heartbeat_at < stale),
                ),
            ),
        )
        .values(
            status="running",
            claim_token=token,
            heartbeat_at=now,
            runs=SyncJob.runs + 1,
            started_at=sa.func.coalesce(SyncJob.started_at, now),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return None
    job = db.session.get(SyncJob, job_id, populate_existing=True)
    if job.processed or job.cursor:
        # The records done before this run; the job page names the next one
        # ("200 done: resumed at record 201").
        job.resumed_at_record = job.processed
    commit()
    return job, token


def _finish(
    job: SyncJob,
    integration: Integration,
    token: uuid.UUID,
    status: str | None,
    error: str | None = None,
):
    if not holds_claim(job.id, token):
        db.session.rollback()
        log.warning("sync job %s was taken over by another worker; not finishing it", job.id)
        return
    now = utcnow()
    if status is None:
        if job.failed and not job.succeeded:
            status, error = "failed", f"all {job.failed} records failed"
        else:
            status = "completed_with_errors" if job.failed else "completed"
    job.status = status
    job.error = error
    job.finished_at = now
    job.claim_token = None
    integration.last_sync_at = now
    if status == "completed":
        integration.last_success_at = now
    elif status != "cancelled":
        integration.last_error_at = now
        integration.last_error_message = (error or f"{job.failed} records failed")[:2000]
    commit()
    log.info(
        "sync job %s %s: %s/%s processed, %s failed, %s archived",
        job.id,
        status,
        job.processed,
        job.total_records,
        job.failed,
        job.archived,
    )


# --- resuming ---------------------------------------------------------------------------


def resume_sync(job: SyncJob) -> SyncJob:
    """Queue a failed job again, to continue from its last committed batch (no commit).

    Raises :class:`SyncRefused` when it did not fail, or another sync of the
    same object is under way.
    """
    if job.status != "failed":
        raise SyncRefused({"job": "only a failed sync can be resumed"})
    busy = db.session.scalar(
        sa.select(SyncJob.id).where(
            SyncJob.integration_id == job.integration_id,
            SyncJob.object_type == job.object_type,
            SyncJob.status.in_(ACTIVE_STATUSES),
        )
    )
    if busy is not None:
        raise SyncRefused({"object_type": f"a sync of {job.object_type} is already running"})
    job.status = "pending"
    job.error = None
    job.finished_at = None
    job.cancel_requested = False
    job_id = str(job.id)
    after_commit(lambda: enqueue(RUN_SYNC, job_id, queue="bulk"))
    return job


def resume_stalled_syncs() -> list[str]:
    """Periodic job: queue again the running syncs whose worker stopped beating; their ids.

    The claim in :func:`run_sync` makes a job queued twice harmless.
    """
    stale = utcnow() - timedelta(seconds=float(current_app.config["SYNC_LEASE_SECONDS"]))
    stalled = [
        str(job_id)
        for job_id in db.session.scalars(
            sa.select(SyncJob.id).where(
                SyncJob.status == "running",
                sa.or_(SyncJob.heartbeat_at.is_(None), SyncJob.heartbeat_at < stale),
            )
        )
    ]
    db.session.rollback()
    for job_id in stalled:
        enqueue(RUN_SYNC, job_id, queue="bulk")
    if stalled:
        log.warning("re-queued %d stalled sync jobs: %s", len(stalled), ", ".join(stalled))
    return stalled


# --- scheduled syncs --------------------------------------------------------------------


def run_scheduled_syncs(now: datetime | None = None) -> list[str]:
    """Periodic job: start the syncs due by each integration's frequency; their ids."""
    now = now or utcnow()
    started: list[SyncJob] = []
    integrations = db.session.scalars(
        sa.select(Integration).where(
            Integration.status == "active",
            Integration.sync_frequency.in_(SCHEDULE_INTERVALS),
        )
    ).all()
    for integration in integrations:
        last = integration.last_sync_at
        if last is not None and now - last < SCHEDULE_INTERVALS[integration.sync_frequency]:
            continue
        busy = db.session.scalar(
            sa.select(SyncJob.id).where(
                SyncJob.integration_id == integration.id, SyncJob.status.in_(ACTIVE_STATUSES)
            )
        )
        if busy is not None:
            continue
        started.extend(_scheduled_jobs(integration))
    commit()
    return [str(job.id) for job in started]


def _scheduled_jobs(integration: Integration) -> list[SyncJob]:
    direction = DIRECTIONS.get(integration.sync_direction, "two_way")
    try:
        connector = connector_for(integration)
    except ConnectorError as exc:
        log.warning("scheduled sync of %s skipped: %s", integration.name, exc.message)
        return []
    jobs = []
    for object_type in connector.objects:
        kind = kind_of(object_type)
        if kind is None:
            continue
        if object_type in connector.pulled_orders:
            if direction != "out":
                jobs.append(queue_sync_job(integration, object_type, "in", None, False))
            continue
        object_direction = direction if kind == "contact" else "out"
        if direction == "in" and kind != "contact":
            continue
        jobs.append(queue_sync_job(integration, object_type, object_direction, None, False))
    return jobs


# --- reading, for the pages -----------------------------------------------------------


def find_integration(integration_id: uuid.UUID) -> Integration | None:
    return db.session.get(Integration, integration_id)


def sync_history(integration: Integration, limit: int = 20) -> list[SyncJob]:
    return list(
        db.session.scalars(
            sa.select(SyncJob)
            .where(SyncJob.integration_id == integration.id)
            .order_by(SyncJob.created_at.desc())
            .limit(limit)
        )
    )


def sync_job(integration: Integration, job_id: str) -> SyncJob | None:
    """The integration's sync job ``job_id``, or None (unknown, malformed or another's)."""
    try:
        job = db.session.get(SyncJob, uuid.UUID(str(job_id)))
    except ValueError:
        return None
    return job if job is not None and job.integration_id == integration.id else None


def job_errors(job: SyncJob, limit: int = 200) -> list[SyncRecord]:
    """The records this job left failed, with their errors."""
    return list(
        db.session.scalars(
            sa.select(SyncRecord)
            .where(SyncRecord.last_sync_job_id == job.id, SyncRecord.status == "failed")
            .order_by(SyncRecord.updated_at, SyncRecord.local_id)
            .limit(limit)
        )
    )


def outstanding_count(integration: Integration, object_type: str) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count(SyncRecord.id)).where(
                SyncRecord.integration_id == integration.id,
                SyncRecord.object_type == object_type,
                SyncRecord.status.in_(OUTSTANDING),
            )
        )
        or 0
    )
