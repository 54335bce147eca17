"""Which records a sync left wrong, or right with a note, record by record.

A record's sync state (:class:`SyncRecord`) keeps its last error. A failed
record has one; so may a synced one, as a note: a HubSpot contact whose phone
is already another contact's is synced, but the phone stays with the other
contact (see :mod:`app.integrations.sync.inbound`) and the note says so. The API
lists both kinds, newest change first, a page at a time; the sync job's page
shows one job's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import Integration, SyncJob, SyncRecord

ProblemKind = Literal["failed", "notes"]
PROBLEM_PAGE_SIZE = 50
MAX_PROBLEM_PAGE_SIZE = 200


@dataclass(frozen=True)
class ProblemPage:
    records: list[SyncRecord]
    # The id to pass as the next page's ``before``; None on the last page.
    next_before: str | None


def _of_kind(kind: ProblemKind):
    if kind == "failed":
        return SyncRecord.status == "failed"
    return sa.and_(SyncRecord.status == "synced", SyncRecord.last_error.is_not(None))


def record_problems(
    integration: Integration,
    kind: ProblemKind,
    *,
    before: uuid.UUID | None = None,
    limit: int = PROBLEM_PAGE_SIZE,
    job: SyncJob | None = None,
) -> ProblemPage:
    """The integration's failed records (or synced ones with a note), newest change first.

    ``before`` is the previous page's ``next_before``; ``job`` narrows to the
    records that job touched last.
    """
    query = (
        sa.select(SyncRecord)
        .where(SyncRecord.integration_id == integration.id, _of_kind(kind))
        .order_by(SyncRecord.updated_at.desc(), SyncRecord.id.desc())
        .limit(limit + 1)
    )
    if job is not None:
        query = query.where(SyncRecord.last_sync_job_id == job.id)
    anchor = db.session.get(SyncRecord, before) if before else None
    if anchor is not None:
        query = query.where(
            sa.tuple_(SyncRecord.updated_at, SyncRecord.id)
            < sa.tuple_(anchor.updated_at, anchor.id)
        )
    rows = list(db.session.scalars(query))
    page = rows[:limit]
    return ProblemPage(page, str(page[-1].id) if len(rows) > limit else None)


def record_of(integration: Integration, record_id: uuid.UUID) -> SyncRecord | None:
    """One of the integration's sync records, or None (unknown, or another's)."""
    record = db.session.get(SyncRecord, record_id)
    if record is None or record.integration_id != integration.id:
        return None
    return record


def job_notes(job: SyncJob, limit: int = 200) -> list[SyncRecord]:
    """The records this job synced with a note (the job page lists them under its errors)."""
    return list(
        db.session.scalars(
            sa.select(SyncRecord)
            .where(SyncRecord.last_sync_job_id == job.id, _of_kind("notes"))
            .order_by(SyncRecord.updated_at, SyncRecord.local_id)
            .limit(limit)
        )
    )
