"""Bulk e-mail to a named audience, one delivery job per recipient.

There are no mailing lists (and no marketing consent is recorded), so a
``list_id`` names an audience Switchboard can compute from its own data and has
a service reason to write to. Today that is ``customers_with_open_orders``:
end customers with an e-mail address and an order that is not completed or
cancelled (a planning change, a holiday closure). Adding an audience is one
entry in :data:`AUDIENCES`.

:func:`send_bulk` runs on the ``bulk`` queue: it walks the audience in batches
by contact id, records one pending mail per recipient, and queues each
delivery on the ``bulk`` queue, so single transactional mails on the
``deliveries`` queue never wait behind a mailing. Progress is kept in the job's
meta (``total``, ``queued``, ``cursor``); a retried job resumes after the last
batch it committed and skips anyone the batch already covered.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from rq import get_current_job

from app.conversations.channels.email.transactional import send_transactional
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread, Contact, Order
from app.platform.models.enums import OrderStatus
from app.platform.transactions import commit

log = logging.getLogger(__name__)

BATCH_SIZE = 200


@dataclass(frozen=True)
class Audience:
    description: str
    contacts: Callable[[], sa.Select]


def _customers_with_open_orders() -> sa.Select:
    open_orders = sa.select(Order.end_customer_contact_id).where(
        Order.status.not_in((OrderStatus.COMPLETED, OrderStatus.CANCELLED)),
        Order.end_customer_contact_id.is_not(None),
        Order.is_test.is_(False),  # a partner's sandbox order makes nobody a customer
    )
    return sa.select(Contact).where(
        Contact.id.in_(open_orders), Contact.email.is_not(None), Contact.email != ""
    )


AUDIENCES: dict[str, Audience] = {
    "customers_with_open_orders": Audience(
        "End customers with an order that is not completed or cancelled",
        _customers_with_open_orders,
    ),
}


def send_bulk(list_id: str, template_key: str, send_at: int | None, user_id: str | None) -> int:
    """Job: queue ``template_key`` for everyone in ``list_id``; returns how many were queued."""
    audience = AUDIENCES[list_id]
    job = get_current_job()
    meta = job.meta if job is not None else {}
    bulk_id = job.id if job is not None else uuid.uuid4().hex
    query = audience.contacts()
    meta.setdefault(
        "total", db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    )
    meta.setdefault("queued", 0)
    cursor = meta.get("cursor")
    while True:
        batch_query = query.order_by(Contact.id).limit(BATCH_SIZE)
        if cursor:
            batch_query = batch_query.where(Contact.id > uuid.UUID(cursor))
        batch = db.session.scalars(batch_query).all()
        if not batch:
            break
        covered = _already_covered(bulk_id, [c.id for c in batch])
        for contact in batch:
            if contact.id in covered:
                continue
            send_transactional(
                contact.email,
                template_key,
                {"customer_name": contact.display_name},
                ["bulk", list_id],
                send_at,
                contact=contact,
                subject=f"E-mail: {template_key}",
                sender_user_id=uuid.UUID(user_id) if user_id else None,
                extra={"bulk_id": bulk_id},
                queue="bulk",
            )
            meta["queued"] += 1
        commit()
        cursor = str(batch[-1].id)
        meta["cursor"] = cursor
        if job is not None:
            job.save_meta()
    log.info("bulk %s to %s: %d queued of %d", bulk_id, list_id, meta["queued"], meta["total"])
    return meta["queued"]


def _already_covered(bulk_id: str, contact_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Contacts of this batch that already have this mailing (a resumed job)."""
    rows = db.session.scalars(
        sa.select(CommunicationThread.contact_id)
        .join(CommunicationMessage, CommunicationMessage.thread_id == CommunicationThread.id)
        .where(
            CommunicationThread.contact_id.in_(contact_ids),
            CommunicationMessage.extra["bulk_id"].as_string() == bulk_id,
        )
    )
    return set(rows)
