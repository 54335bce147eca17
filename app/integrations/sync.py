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
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app

from app.database import utcnow
from app.extensions import db
from app.integrations.connectors import Connector, ConnectorError, connector_for
from app.integrations.mappings import (
    KIND_MODELS,
    MappingError,
    MappingSpec,
    build_inbound,
    build_outbound,
    kind_of,
    local_values,
    mappings_for,
)
from app.integrations.registry import get_provider
from app.jobs.queues import enqueue
from app.models import (
    Contact,
    Integration,
    Order,
    OrderStatusTransition,
    Payment,
    SyncJob,
    SyncRecord,
    User,
)
from app.models.enums import OrderStatus
from app.transactions import after_commit, commit

log = logging.getLogger(__name__)

RUN_SYNC = "app.integrations.sync.run_sync"
ACTIVE_STATUSES = ("pending", "running")
FINAL_STATUSES = ("completed", "completed_with_errors", "failed", "cancelled")
# Records a re-run picks up: failed last time, or queued by a hook and not yet tried.
OUTSTANDING = ("failed", "pending")
DIRECTIONS = {"in": "in", "out": "out", "two_way": "two_way"}
# The integration's own setting names, accepted too.
DIRECTIONS.update({"one_way_in": "in", "one_way_out": "out"})
MAX_ATTEMPTS = 3
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


class PaymentNotApplicable(ValueError):
    """A payment event that names no order we know."""


# --- starting and stopping ---------------------------------------------------------


def start_sync(
    integration: Integration,
    object_type: str,
    direction: str,
    user: User | None,
    only_failed: bool = False,
) -> SyncJob:
    """Write a pending sync job and queue it for after the commit (no commit).

    The caller ends the transaction with :func:`app.transactions.commit`.
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
    return _queue_job(integration, object_type, direction, user, only_failed)


def cancel_sync(job: SyncJob) -> bool:
    """Ask a pending or running job to stop (no commit); False when it already ended.

    A running job stops between batches: what it already synced stays synced.
    """
    if job.status not in ACTIVE_STATUSES:
        return False
    job.cancel_requested = True
    return True


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
        objects = connector_for(integration).objects
    except ConnectorError as exc:
        objects = ()
        errors["integration"] = exc.message
    kind = kind_of(object_type)
    if object_type not in objects or kind is None:
        errors["object_type"] = "must be one of " + ", ".join(
            o for o in objects if kind_of(o) is not None
        )
    elif wanted in ("in", "two_way") and kind != "contact":
        errors["direction"] = f"{object_type} can only be synced out"
    if only_failed and wanted != "out":
        errors["only_failed"] = "re-running failed records applies to outbound syncs"
    if errors:
        raise SyncRefused(errors)
    return wanted


def _queue_job(
    integration: Integration,
    object_type: str,
    direction: str,
    user: User | None,
    only_failed: bool,
) -> SyncJob:
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


@dataclass
class _Run:
    job: SyncJob
    integration: Integration
    connector: Connector
    # Per object type, the mappings read once for the run.
    specs: dict[str, list[MappingSpec]] = field(default_factory=dict)

    # SyncRecords met in this run: a batch is not flushed until its commit, so
    # a record pushed earlier in the batch is found here, not by a query.
    states: dict[tuple[str, str], SyncRecord] = field(default_factory=dict)

    def state(self, object_type: str, local_id: str) -> SyncRecord:
        key = (object_type, local_id)
        if key not in self.states:
            self.states[key] = _sync_record(self.integration, object_type, local_id)
        return self.states[key]

    def mappings(self, object_type: str) -> list[MappingSpec]:
        if object_type not in self.specs:
            self.specs[object_type] = mappings_for(self.integration, object_type)
        return self.specs[object_type]

    def object_for(self, kind: str) -> str | None:
        """This provider's object holding records of ``kind`` (its customers, its invoices)."""
        preferred = {"contact": "customers", "order": "invoices", "payment": "payments"}
        objects = self.connector.objects
        if preferred.get(kind) in objects:
            return preferred[kind]
        return next((o for o in objects if kind_of(o) == kind), None)


def run_sync(job_id: str) -> None:
    """The RQ job: run sync job ``job_id`` to its end (completed, with errors, failed, …)."""
    job = db.session.get(SyncJob, uuid.UUID(job_id))
    if job is None or job.status in FINAL_STATUSES:
        return
    integration = db.session.get(Integration, job.integration_id)
    job.status = "running"
    job.started_at = job.started_at or utcnow()
    db.session.commit()
    log.info("sync job %s: %s %s for %s", job_id, job.direction, job.object_type, integration.name)
    try:
        run = _Run(job, integration, connector_for(integration))
        cancelled = False
        for direction in ("out", "in") if job.direction == "two_way" else (job.direction,):
            cancelled = _push_all(run) if direction == "out" else _pull_all(run)
            if cancelled:
                break
        _finish(job, integration, "cancelled" if cancelled else None)
    except ConnectorError as exc:
        db.session.rollback()
        log.warning("sync job %s stopped: %s", job_id, exc.message)
        _finish(job, integration, "failed", exc.message)
    except Exception as exc:
        db.session.rollback()
        log.exception("sync job %s crashed", job_id)
        _finish(job, integration, "failed", f"unexpected error ({type(exc).__name__})")


def _cancel_requested(job: SyncJob) -> bool:
    # A fresh read: the cancel comes from a web request's own transaction.
    return bool(db.session.scalar(sa.select(SyncJob.cancel_requested).where(SyncJob.id == job.id)))


def _finish(job: SyncJob, integration: Integration, status: str | None, error: str | None = None):
    now = utcnow()
    if status is None:
        if job.failed and not job.succeeded:
            status, error = "failed", f"all {job.failed} records failed"
        else:
            status = "completed_with_errors" if job.failed else "completed"
    job.status = status
    job.error = error
    job.finished_at = now
    integration.last_sync_at = now
    integration.records_synced = (integration.records_synced or 0) + job.succeeded
    if status == "completed":
        integration.last_success_at = now
    elif status != "cancelled":
        integration.last_error_at = now
        integration.last_error_message = (error or f"{job.failed} records failed")[:2000]
    db.session.commit()
    log.info(
        "sync job %s %s: %s/%s processed, %s failed",
        job.id,
        status,
        job.processed,
        job.total_records,
        job.failed,
    )


def _batches(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- outbound -----------------------------------------------------------------------


def _push_all(run: _Run) -> bool:
    """Push the job's records out, a batch per commit; True when cancelled."""
    job = run.job
    kind = kind_of(job.object_type)
    ids = _outbound_ids(run, kind)
    job.total_records = len(ids)
    db.session.commit()
    model = KIND_MODELS[kind]
    for batch in _batches(ids, max(1, run.integration.batch_size or 100)):
        if _cancel_requested(job):
            return True
        # Nothing is written while the provider is being called: the batch's rows
        # go in at its commit, so no lock is held across the HTTP calls and a
        # cancel (or anything else touching these rows) never waits on them.
        with db.session.no_autoflush:
            _push_batch(run, kind, model, batch)
        db.session.commit()
        run.states.clear()
    return False


def _push_batch(run: _Run, kind: str, model, batch: list[str]) -> None:
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
            _mark_failed(state, job, "the local record no longer exists")
            ok = False
        else:
            ok = _push_one(run, job.object_type, kind, record) is not None
        job.processed += 1
        job.succeeded += ok
        job.failed += not ok


def _outbound_ids(run: _Run, kind: str) -> list[str]:
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
        return [i for i in ids if _is_uuid(i)]
    model = KIND_MODELS[kind]
    query = sa.select(model.id).order_by(model.created_at, model.id)
    if kind == "order" and job.object_type == "invoices":
        # Only finished work is invoiced.
        query = query.where(Order.status == OrderStatus.COMPLETED)
    return [str(i) for i in db.session.scalars(query)]


def _push_one(run: _Run, object_type: str, kind: str, record: Any) -> str | None:
    """Create or update ``record`` at the provider; its remote id, or None (error kept)."""
    state = run.state(object_type, str(record.id))
    state.attempts = 0
    try:
        values = local_values(kind, record, _linked_remote_ids(run, kind, record))
        payload = build_outbound(run.mappings(object_type), values)
    except MappingError as exc:
        return _mark_failed(state, run.job, str(exc))
    except ConnectorError as exc:
        if exc.auth_failed:
            raise
        return _mark_failed(state, run.job, exc.message)
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
                time.sleep(_backoff(attempt, exc.retry_after))
                continue
            return _mark_failed(state, run.job, exc.message)
        state.status = "synced"
        state.last_error = None
        state.synced_at = utcnow()
        state.last_sync_job_id = run.job.id
        return state.remote_id
    return None  # pragma: no cover - the loop always returns


def _linked_remote_ids(run: _Run, kind: str, record: Any) -> dict[str, Any]:
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


def _ensure_remote(run: _Run, kind: str, record: Any) -> str | None:
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


def _sync_record(integration: Integration, object_type: str, local_id: str) -> SyncRecord:
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


def _mark_failed(state: SyncRecord, job: SyncJob, message: str) -> None:
    state.status = "failed"
    state.last_error = message[:2000]
    state.last_sync_job_id = job.id
    return None


def _backoff(attempt: int, retry_after: float | None) -> float:
    base = float(current_app.config.get("SYNC_RETRY_BASE_SECONDS", 1.0))
    return max(retry_after or 0.0, base * (2 ** (attempt - 1)))


def _digest(payload: dict) -> str:
    canonical = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# --- inbound ------------------------------------------------------------------------


def _pull_all(run: _Run) -> bool:
    """Page through the provider's records into local contacts; True when cancelled."""
    job = run.job
    cursor = None
    while True:
        if _cancel_requested(job):
            return True
        records, cursor = _list_page(run, job.object_type, cursor)
        job.total_records += len(records)
        for remote in records:
            ok = _pull_one(run, job.object_type, remote)
            job.processed += 1
            job.succeeded += ok
            job.failed += not ok
        db.session.commit()
        if not cursor:
            return False


def _list_page(run: _Run, object_type: str, cursor: str | None):
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return run.connector.list_remote(object_type, cursor)
        except ConnectorError as exc:
            if not exc.retryable or attempt == MAX_ATTEMPTS:
                raise
            time.sleep(_backoff(attempt, exc.retry_after))
    raise AssertionError("unreachable")  # pragma: no cover


# Local field → Contact attribute, for inbound upserts.
CONTACT_ATTRIBUTES = {
    "contact.name": "display_name",
    "contact.first_name": "first_name",
    "contact.last_name": "last_name",
    "contact.email": "email",
    "contact.phone": "phone",
    "contact.job_title": "job_title",
}


def _pull_one(run: _Run, object_type: str, remote: dict) -> bool:
    """Upsert one remote record as a Contact: by remote id, then by e-mail."""
    remote_id = run.connector.remote_id_of(remote)
    if not remote_id:
        return False
    try:
        values = build_inbound(run.mappings(object_type), remote)
    except MappingError as exc:
        state = _sync_record(run.integration, object_type, f"remote:{remote_id}"[:64])
        state.remote_id = remote_id
        _mark_failed(state, run.job, str(exc))
        return False
    state = db.session.scalar(
        sa.select(SyncRecord).where(
            SyncRecord.integration_id == run.integration.id,
            SyncRecord.object_type == object_type,
            SyncRecord.remote_id == remote_id,
            SyncRecord.status == "synced",
        )
    )
    contact = db.session.get(Contact, uuid.UUID(state.local_id)) if state else None
    email = (values.get("contact.email") or "").strip().lower() or None
    if contact is None and email:
        contact = db.session.scalar(
            sa.select(Contact).where(sa.func.lower(Contact.email) == email).limit(1)
        )
    if contact is None:
        contact = Contact(display_name="")
        db.session.add(contact)
    for local_field, attribute in CONTACT_ATTRIBUTES.items():
        if values.get(local_field) not in (None, ""):
            setattr(contact, attribute, values[local_field])
    if not (contact.display_name or "").strip():
        names = " ".join(p for p in (contact.first_name, contact.last_name) if p)
        contact.display_name = names or contact.email or f"{object_type} {remote_id}"
    db.session.flush()
    state = state or _sync_record(run.integration, object_type, str(contact.id))
    state.remote_id = remote_id
    state.status = "synced"
    state.last_error = None
    state.attempts = 1
    state.synced_at = utcnow()
    state.last_sync_job_id = run.job.id
    return True


# --- seed 004's use cases -------------------------------------------------------------


def on_status_change(order: Order, transition: OrderStatusTransition) -> None:
    """Status hook: a completed order becomes an invoice in each accounting integration.

    Runs in the status change's transaction: it only writes a pending record and
    a job, and the job is queued once that transaction commits.
    """
    if transition.to_status != OrderStatus.COMPLETED.value:
        return
    for integration in _outbound_integrations("accounting", "invoices"):
        _queue_records(integration, "invoices", [str(order.id)])


def apply_payment_succeeded(integration: Integration, payment_intent: dict) -> Payment:
    """A Stripe ``payment_intent.succeeded``: record the Payment, mark the invoice paid.

    The order comes from ``metadata.order_id`` (or ``metadata.order_number``).
    Idempotent on the payment intent's id. Each accounting integration gets a
    payment linked to the order's invoice, pushed by a sync job queued after the
    caller commits with :func:`app.transactions.commit` (no commit here).
    Raises :class:`PaymentNotApplicable` when no order is named or found.
    """
    intent_id = str(payment_intent.get("id") or "")
    if not intent_id:
        raise PaymentNotApplicable("the payment intent has no id")
    existing = db.session.scalar(sa.select(Payment).where(Payment.external_reference == intent_id))
    if existing is not None:
        return existing
    order = _order_from_metadata(payment_intent.get("metadata") or {})
    cents = payment_intent.get("amount_received") or payment_intent.get("amount") or 0
    created = payment_intent.get("created")
    payment = Payment(
        order_id=order.id,
        amount=(Decimal(int(cents)) / 100).quantize(Decimal("0.01")),
        currency=str(payment_intent.get("currency") or order.currency or "eur").upper(),
        method="stripe",
        external_reference=intent_id,
        paid_at=datetime.fromtimestamp(int(created), timezone.utc) if created else utcnow(),
        raw=payment_intent,
    )
    db.session.add(payment)
    db.session.flush()
    stripe_state = _sync_record(integration, "payment_intents", str(payment.id))
    stripe_state.remote_id = intent_id
    stripe_state.status = "synced"
    stripe_state.synced_at = utcnow()
    for accounting in _outbound_integrations("accounting", "payments"):
        _queue_records(accounting, "payments", [str(payment.id)])
    return payment


def _order_from_metadata(metadata: dict) -> Order:
    order = None
    order_id = str(metadata.get("order_id") or "")
    if order_id and _is_uuid(order_id):
        order = db.session.get(Order, uuid.UUID(order_id))
    if order is None and metadata.get("order_number"):
        order = db.session.scalar(
            sa.select(Order).where(Order.order_number == str(metadata["order_number"]))
        )
    if order is None:
        raise PaymentNotApplicable("the payment's metadata names no known order")
    return order


def _outbound_integrations(category: str, object_type: str) -> list[Integration]:
    integrations = db.session.scalars(
        sa.select(Integration).where(
            Integration.status == "active",
            Integration.category == category,
            Integration.sync_direction != "one_way_in",
        )
    ).all()
    return [
        i
        for i in integrations
        if (provider := get_provider(i.provider)) and object_type in provider.objects
    ]


def _queue_records(integration: Integration, object_type: str, local_ids: list[str]) -> SyncJob:
    """Mark records pending and make sure a job will push them (no commit)."""
    for local_id in local_ids:
        state = _sync_record(integration, object_type, local_id)
        if state.status != "synced" or not state.remote_id:
            state.status = "pending"
    waiting = db.session.scalar(
        sa.select(SyncJob).where(
            SyncJob.integration_id == integration.id,
            SyncJob.object_type == object_type,
            SyncJob.status == "pending",
            SyncJob.only_failed.is_(True),
        )
    )
    # A job not started yet picks these up when it reads its records.
    return waiting or _queue_job(integration, object_type, "out", None, only_failed=True)


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
        objects = connector_for(integration).objects
    except ConnectorError as exc:
        log.warning("scheduled sync of %s skipped: %s", integration.name, exc.message)
        return []
    jobs = []
    for object_type in objects:
        kind = kind_of(object_type)
        if kind is None:
            continue
        object_direction = direction if kind == "contact" else "out"
        if direction == "in" and kind != "contact":
            continue
        jobs.append(_queue_job(integration, object_type, object_direction, None, False))
    return jobs


# --- reading, for the pages -----------------------------------------------------------


def sync_history(integration: Integration, limit: int = 20) -> list[SyncJob]:
    return list(
        db.session.scalars(
            sa.select(SyncJob)
            .where(SyncJob.integration_id == integration.id)
            .order_by(SyncJob.created_at.desc())
            .limit(limit)
        )
    )


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
