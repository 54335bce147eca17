"""Outbound sync: pushing local records to a provider, and each record's standing.

A run's :class:`SyncRun` holds the job, its connector and the mappings read once;
:func:`push_all` works through the job's records a batch per commit. Each
record's :class:`SyncRecord` keeps its remote id, so the next push updates
instead of creating, and the last error when a push failed. Linked records
(an invoice's customer, a payment's invoice) are pushed first when missing.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any

import sqlalchemy as sa

from app.integrations.connectors import ConnectorError
from app.integrations.sync.mapping_defaults import KIND_MODELS, kind_of, local_values
from app.integrations.sync.mappings import MappingError, build_outbound
from app.integrations.sync.records import (
    MAX_ATTEMPTS,
    OUTSTANDING,
    SyncRun,
    backoff,
    cancel_requested,
    is_uuid,
    mark_failed,
)
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Order, SyncRecord
from app.platform.models.enums import OrderStatus


def _batches(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- outbound -----------------------------------------------------------------------


def push_all(run: SyncRun) -> bool:
    """Push the job's records out, a batch per commit; True when cancelled.

    A resumed job skips the records its committed batches already pushed (their
    sync state names this job), so none is pushed twice.
    """
    job = run.job
    kind = kind_of(job.object_type)
    ids = _outbound_ids(run, kind)
    if job.processed:
        done = set(
            db.session.scalars(
                sa.select(SyncRecord.local_id).where(
                    SyncRecord.last_sync_job_id == job.id,
                    SyncRecord.object_type == job.object_type,
                )
            )
        )
        ids = [i for i in ids if i not in done]
    job.total_records = job.processed + len(ids)
    run.commit_batch()
    model = KIND_MODELS[kind]
    for batch in _batches(ids, max(1, run.integration.batch_size or 100)):
        if cancel_requested(job):
            return True
        # Nothing is written while the provider is being called: the batch's rows
        # go in at its commit, so no lock is held across the HTTP calls and a
        # cancel (or anything else touching these rows) never waits on them.
        with db.session.no_autoflush:
            _push_batch(run, kind, model, batch)
        run.commit_batch()
        run.states.clear()
    return False


def _push_batch(run: SyncRun, kind: str, model, batch: list[str]) -> None:
    job = run.job
    loaded = {
        str(r.id): r
        for r in db.session.scalars(
            sa.select(model).where(model.id.in_([uuid.UUID(i) for i in batch]))
        )
    }
    for local_id in batch:
        record = loaded.get(local_id)
        if record is None:
            state = run.state(job.object_type, local_id)
            mark_failed(state, job, "the local record no longer exists")
            ok = False
        else:
            ok = _push_one(run, job.object_type, kind, record) is not None
        job.processed += 1
        job.succeeded += ok
        job.failed += not ok


def _outbound_ids(run: SyncRun, kind: str) -> list[str]:
    job = run.job
    if job.only_failed:
        ids = db.session.scalars(
            sa.select(SyncRecord.local_id)
            .where(
                SyncRecord.integration_id == run.integration.id,
                SyncRecord.object_type == job.object_type,
                SyncRecord.status.in_(OUTSTANDING),
            )
            .order_by(SyncRecord.created_at, SyncRecord.local_id)
        ).all()
        return [i for i in ids if is_uuid(i)]
    model = KIND_MODELS[kind]
    query = sa.select(model.id).order_by(model.created_at, model.id)
    if kind == "order":
        # A partner's sandbox orders are nobody's business but the partner's.
        query = query.where(Order.is_test.is_(False))
    if kind == "order" and job.object_type == "invoices":
        # Only finished work is invoiced.
        query = query.where(Order.status == OrderStatus.COMPLETED)
    return [str(i) for i in db.session.scalars(query)]


def _push_one(run: SyncRun, object_type: str, kind: str, record: Any) -> str | None:
    """Create or update ``record`` at the provider; its remote id, or None (error kept)."""
    state = run.state(object_type, str(record.id))
    state.attempts = 0
    try:
        values = local_values(kind, record, _linked_remote_ids(run, kind, record))
        payload = build_outbound(run.mappings(object_type), values)
    except MappingError as exc:
        return mark_failed(state, run.job, str(exc))
    except ConnectorError as exc:
        if exc.auth_failed:
            raise
        return mark_failed(state, run.job, exc.message)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        state.attempts = attempt
        try:
            if state.remote_id:
                run.connector.update_remote(object_type, state.remote_id, payload)
            else:
                state.remote_id = run.connector.create_remote(
                    object_type,
                    payload,
                    idempotency_key=f"switchboard-{state.integration_id}-{object_type}-"
                    f"{state.local_id}-{_digest(payload)}",
                )
        except ConnectorError as exc:
            if exc.auth_failed:
                raise
            if exc.retryable and attempt < MAX_ATTEMPTS:
                time.sleep(backoff(attempt, exc.retry_after))
                continue
            return mark_failed(state, run.job, exc.message)
        state.status = "synced"
        state.last_error = None
        state.synced_at = utcnow()
        state.last_sync_job_id = run.job.id
        return state.remote_id
    return None  # pragma: no cover - the loop always returns


def _linked_remote_ids(run: SyncRun, kind: str, record: Any) -> dict[str, Any]:
    """Remote ids a payload names: an invoice's customer, a payment's invoice and customer.

    A linked record not yet at the provider is pushed first, so a completed
    order's invoice never waits for a separate customer sync.
    """
    if kind == "order":
        customer = record.account_contact or record.end_customer
        return {"order.customer_remote_id": _ensure_remote(run, "contact", customer)}
    if kind == "payment":
        order = db.session.get(Order, record.order_id)
        customer = (order.account_contact or order.end_customer) if order else None
        return {
            "payment.customer_remote_id": _ensure_remote(run, "contact", customer),
            "payment.invoice_remote_id": _ensure_remote(run, "order", order),
        }
    return {}


def _ensure_remote(run: SyncRun, kind: str, record: Any) -> str | None:
    if record is None:
        return None
    object_type = run.object_for(kind)
    if object_type is None:
        return None
    state = run.state(object_type, str(record.id))
    if state.remote_id and state.status == "synced":
        return state.remote_id
    remote_id = _push_one(run, object_type, kind, record)
    if remote_id is None:
        raise ConnectorError(f"the linked {object_type} record failed: {state.last_error}")
    return remote_id


def _digest(payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
