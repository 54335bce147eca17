"""Work orders on the way back: our job completed → their work order closed.

When an order that came from a work order (:mod:`app.integrations.work_orders.intake`)
is completed, the status hook queues :func:`close_work_order` for after the
commit. The job uploads the technician's photos (the pictures taken with the
phone, kept on the order's conversation by :mod:`app.orders.mobile.photos`) to the work
order as attachments, then closes it, each in the provider's own format (its
connector's ``attach_photo`` / ``close_work_order``).

Each step is written down as soon as the provider answered: a photo as a
``work_order_photos`` row, the close as ``closed_at``. A job that failed half
way (RQ retries it on the default queue's schedule) therefore uploads only the
photos still missing and never closes twice. ROVIDA's uploads also carry an
``Idempotency-Key``, so even an upload whose answer was lost is not repeated.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import sqlalchemy as sa

from app.conversations.attachments.storage import stored_file
from app.integrations.connectors import ConnectorError, connector_for
from app.integrations.connectors.property import PhotoUpload, WorkOrderConnector
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.models import (
    CommunicationMessage,
    CommunicationThread,
    Integration,
    Order,
    OrderStatusTransition,
    WorkOrderLink,
    WorkOrderPhoto,
)
from app.platform.models.enums import OrderStatus
from app.platform.transactions import after_commit, commit

log = logging.getLogger(__name__)

# Named through the group, as app.integrations.sync names RUN_SYNC.
CLOSE_WORK_ORDER = "app.integrations.work_orders.close_work_order"
# What app.orders.mobile.photos writes on a technician's photo.
TECHNICIAN_UPLOAD = "technician_upload"


def on_status_change(order: Order, transition: OrderStatusTransition) -> None:
    """Status hook: a completed order's work order is closed by a job after the commit."""
    if transition.to_status != OrderStatus.COMPLETED.value:
        return
    link = db.session.scalar(sa.select(WorkOrderLink).where(WorkOrderLink.order_id == order.id))
    if link is None or link.closed_at is not None:
        return
    link_id = str(link.id)
    after_commit(lambda: enqueue(CLOSE_WORK_ORDER, link_id))


def close_work_order(link_id: str) -> None:
    """The job: upload the photos not yet at the provider, then close the work order.

    A temporary refusal (timeout, 429, 5xx) is raised so RQ tries again; a
    definite one is kept on the link (``last_error``) and not retried.
    """
    link = db.session.get(WorkOrderLink, uuid.UUID(link_id))
    if link is None or link.closed_at is not None:
        return
    integration = db.session.get(Integration, link.integration_id)
    order = db.session.get(Order, link.order_id)
    link.close_attempts += 1
    commit()
    try:
        if integration is None or integration.status != "active":
            raise ConnectorError("the integration is not active")
        connector = connector_for(integration)
        if not isinstance(connector, WorkOrderConnector):
            raise ConnectorError(f"{integration.provider} has no work orders to close")
        _upload_photos(connector, link, order)
        connector.close_work_order(link.remote_id, _resolution(order))
    except ConnectorError as exc:
        db.session.rollback()
        link.last_error = exc.message[:2000]
        commit()
        log.warning(
            "closing work order %s (link %s) failed: %s", link.remote_id, link_id, exc.message
        )
        if exc.retryable:
            raise
        return
    link.closed_at = utcnow()
    link.remote_status = "closed"
    link.last_error = None
    commit()
    log.info("work order %s closed for order %s", link.remote_id, order.order_number)


def _upload_photos(connector: WorkOrderConnector, link: WorkOrderLink, order: Order) -> None:
    done = set(
        db.session.scalars(
            sa.select(WorkOrderPhoto.photo_path).where(WorkOrderPhoto.work_order_id == link.id)
        )
    )
    for path, photo in order_photos(order):
        if path in done:
            continue
        remote_id = connector.attach_photo(
            link.remote_id, photo, idempotency_key=f"switchboard-{link.id}-{path}"
        )
        db.session.add(WorkOrderPhoto(work_order_id=link.id, photo_path=path, remote_id=remote_id))
        # Written at once: a retry after a later failure skips this photo.
        commit()
        done.add(path)


def order_photos(order: Order) -> Iterator[tuple[str, PhotoUpload]]:
    """The technician's photos of ``order``, oldest first, with their stored path."""
    notes = db.session.scalars(
        sa.select(CommunicationMessage)
        .join(CommunicationThread, CommunicationThread.id == CommunicationMessage.thread_id)
        .where(CommunicationThread.order_id == order.id)
        .order_by(CommunicationMessage.created_at, CommunicationMessage.id)
    )
    for note in notes:
        for entry in note.attachments or []:
            if not isinstance(entry, dict) or entry.get("source") != TECHNICIAN_UPLOAD:
                continue
            path = stored_file(entry)
            if path is None:
                log.warning(
                    "photo %s of order %s is missing", entry.get("path"), order.order_number
                )
                continue
            yield (
                entry["path"],
                PhotoUpload(
                    filename=str(entry.get("filename") or path.name),
                    mime_type=str(entry.get("mime_type") or "application/octet-stream"),
                    data=path.read_bytes(),
                    caption=(note.message_content or "")[:500] or None,
                ),
            )


def _resolution(order: Order) -> str:
    day = order.completed_at.date().isoformat() if order.completed_at else "today"
    return f"Completed by ChargeCars, job {order.order_number}, on {day}."
