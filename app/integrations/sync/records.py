"""What pushing and pulling share: the run's context and each record's sync state.

A run holds its job under a claim (a token written when a worker took the job
up). Each batch commits through :meth:`SyncRun.commit_batch`, which first checks,
under a row lock, that the claim is still this run's: a worker that was thought
dead and replaced loses its batch instead of writing beside its successor.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app

from app.integrations.connectors import Connector, ListScope
from app.integrations.sync.mapping_defaults import MappingSpec, kind_of
from app.integrations.sync.mappings import mappings_for
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Integration, SyncJob, SyncRecord
from app.platform.transactions import commit

# Records a re-run picks up: failed last time, or queued by a hook and not yet tried.
OUTSTANDING = ("failed", "pending")
MAX_ATTEMPTS = 3
# A job's cursor once its last page is committed: a rerun lists nothing more.
LISTED_ALL = "<listed all>"


class ClaimLost(Exception):
    """Another worker took the job over (this one's heartbeat was too old)."""


# --- the run ------------------------------------------------------------------------


@dataclass
class SyncRun:
    job: SyncJob
    integration: Integration
    connector: Connector
    # What the lists ask for: the integration's sync settings.
    scope: ListScope = field(default_factory=ListScope)
    # This run's claim on the job (see :func:`app.integrations.sync.jobs.run_sync`).
    claim_token: uuid.UUID | None = None
    # The job's succeeded records already added to the integration's records_synced.
    counted: int = 0
    # Per object type, the mappings read once for the run.
    specs: dict[str, list[MappingSpec]] = field(default_factory=dict)

    # SyncRecords met in this run: a batch is not flushed until its commit, so
    # a record pushed earlier in the batch is found here, not by a query.
    states: dict[tuple[str, str], SyncRecord] = field(default_factory=dict)

    def state(self, object_type: str, local_id: str) -> SyncRecord:
        key = (object_type, local_id)
        if key not in self.states:
            self.states[key] = sync_record(self.integration, object_type, local_id)
        return self.states[key]

    def mappings(self, object_type: str) -> list[MappingSpec]:
        if object_type not in self.specs:
            self.specs[object_type] = mappings_for(self.integration, object_type)
        return self.specs[object_type]

    def commit_batch(self) -> None:
        """Commit the batch with the job's counts, cursor and a fresh heartbeat,
        if this run still holds the job; else roll it back and raise :class:`ClaimLost`."""
        if not holds_claim(self.job.id, self.claim_token):
            db.session.rollback()
            raise ClaimLost(f"sync job {self.job.id} was taken over by another worker")
        self.job.heartbeat_at = utcnow()
        # Counted with the batch that synced them, so a run that dies later (or
        # one that takes over) neither loses nor repeats them.
        added = self.job.succeeded - self.counted
        if added:
            db.session.execute(
                sa.update(Integration)
                .where(Integration.id == self.integration.id)
                .values(records_synced=sa.func.coalesce(Integration.records_synced, 0) + added)
                .execution_options(synchronize_session=False)
            )
        commit()
        self.counted = self.job.succeeded

    def object_for(self, kind: str) -> str | None:
        """This provider's object holding records of ``kind`` (its customers, its invoices)."""
        preferred = {"contact": "customers", "order": "invoices", "payment": "payments"}
        objects = self.connector.objects
        if preferred.get(kind) in objects:
            return preferred[kind]
        return next((o for o in objects if kind_of(o) == kind), None)


def holds_claim(job_id: uuid.UUID, token: uuid.UUID | None) -> bool:
    """Whether ``token`` is still the job's claim; locks the job's row until the commit."""
    holder = db.session.scalar(
        sa.select(SyncJob.claim_token).where(SyncJob.id == job_id).with_for_update()
    )
    return token is not None and holder == token


def cancel_requested(job: SyncJob) -> bool:
    # A fresh read: the cancel comes from a web request's own transaction.
    return bool(db.session.scalar(sa.select(SyncJob.cancel_requested).where(SyncJob.id == job.id)))


def sync_record(integration: Integration, object_type: str, local_id: str) -> SyncRecord:
    state = db.session.scalar(
        sa.select(SyncRecord).where(
            SyncRecord.integration_id == integration.id,
            SyncRecord.object_type == object_type,
            SyncRecord.local_id == local_id,
        )
    )
    if state is None:
        state = SyncRecord(
            integration_id=integration.id,
            object_type=object_type,
            local_id=local_id,
            status="pending",
            attempts=0,
        )
        db.session.add(state)
    return state


def mark_failed(state: SyncRecord, job: SyncJob, message: str) -> None:
    state.status = "failed"
    state.last_error = message[:2000]
    state.last_sync_job_id = job.id
    return None


def backoff(attempt: int, retry_after: float | None) -> float:
    base = float(current_app.config.get("SYNC_RETRY_BASE_SECONDS", 1.0))
    return max(retry_after or 0.0, base * (2 ** (attempt - 1)))


def as_uuid(value: str) -> uuid.UUID | None:
    """``value`` as a UUID, None when it is none (an id from a URL or a provider)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def is_uuid(value: str) -> bool:
    return as_uuid(value) is not None
