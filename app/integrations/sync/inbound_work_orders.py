"""The inbound sync of ``work_orders``: paging through a property system's work orders.

Each record on a page becomes a dispatched order through
:func:`app.integrations.work_orders.take_work_order` (at most once per remote work
order); a record the connector cannot read is kept as the run's per-record error.
"""

from __future__ import annotations

import time

from app.integrations.connectors import ConnectorError
from app.integrations.connectors.property import WorkOrderConnector
from app.integrations.sync.records import (
    MAX_ATTEMPTS,
    SyncRun,
    backoff,
    cancel_requested,
    mark_failed,
    sync_record,
)
from app.integrations.work_orders import take_work_order
from app.platform.database import utcnow
from app.platform.transactions import commit


def pull_work_orders(run: SyncRun) -> bool:
    """Page through the work orders into dispatched orders; True when cancelled."""
    job = run.job
    connector = run.connector
    if not isinstance(connector, WorkOrderConnector):
        raise ConnectorError(f"{run.integration.provider} has no work orders to pull")
    cursor = None
    while True:
        if cancel_requested(job):
            return True
        records, cursor = _list_page(connector, job.object_type, cursor)
        job.total_records += len(records)
        commit()
        for record in records:
            ok = _take_record(run, connector, record)
            job.processed += 1
            job.succeeded += ok
            job.failed += not ok
            commit()
        if not cursor:
            return False


def _list_page(connector: WorkOrderConnector, object_type: str, cursor: str | None):
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return connector.list_remote(object_type, cursor)
        except ConnectorError as exc:
            if not exc.retryable or attempt == MAX_ATTEMPTS:
                raise
            time.sleep(backoff(attempt, exc.retry_after))
    raise AssertionError("unreachable")  # pragma: no cover


def _take_record(run: SyncRun, connector: WorkOrderConnector, record: dict) -> bool:
    object_type = run.job.object_type
    remote_id = connector.remote_id_of(record) or "?"
    try:
        work_order = connector.work_order_of(record)
    except ConnectorError as exc:
        # Kept as a per-record error of the run (GET /api/integrations/<id>/sync).
        state = sync_record(run.integration, object_type, f"remote:{remote_id}"[:64])
        state.remote_id = remote_id
        mark_failed(state, run.job, exc.message)
        return False
    order, _created = take_work_order(run.integration, work_order)
    if order is not None:
        state = sync_record(run.integration, object_type, str(order.id))
        state.remote_id = work_order.remote_id
        state.status = "synced"
        state.last_error = None
        state.attempts = 1
        state.synced_at = utcnow()
        state.last_sync_job_id = run.job.id
    return True
