"""Claims kept alive while their callbacks are in flight.

A claim on a delivery lasts ``DELIVERY_LEASE_SECONDS``: one older than that
means its worker died mid-call, and another worker sends the callback again
(:func:`app.orders.deliveries.jobs.abandoned`). A live worker whose send is merely
slow must not look dead: a partner answering after nine seconds, a claim
waiting in the pool's queue behind a full round, a worker starved of CPU. Taken
over, its callback would go out twice, and each take-over counts an attempt, so
a slow partner's callback could even be given up while it was being delivered.

So while a worker has callbacks in flight, a :class:`ClaimKeeper` renews their
claims every third of the lease, on a connection of its own. Only a dead
worker's claims run out. A renewal names the attempt it holds (the claim's
``attempt_count``): a claim settled or taken over meanwhile is left alone.
"""

from __future__ import annotations

import logging
import threading
import uuid

import sqlalchemy as sa
from flask import current_app

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import OutboundDelivery
from app.platform.models.enums import OutboundState

log = logging.getLogger(__name__)


class ClaimKeeper:
    """Renews this worker's claims in flight until the ``with`` block ends."""

    def __init__(self, lease_seconds: float) -> None:
        self._app = current_app._get_current_object()
        self._every = max(lease_seconds / 3, 0.05)
        self._held: dict[uuid.UUID, int] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="delivery-claims", daemon=True)

    def hold(self, delivery_id: uuid.UUID, attempt_number: int) -> None:
        with self._lock:
            self._held[delivery_id] = attempt_number

    def release(self, delivery_id: uuid.UUID) -> None:
        with self._lock:
            self._held.pop(delivery_id, None)

    def __enter__(self) -> ClaimKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopped.wait(self._every):
            with self._lock:
                held = list(self._held.items())
            if not held:
                continue
            try:
                self._renew(held)
            except Exception:  # a missed renewal risks a repeat send, not a lost one
                log.exception("could not renew %d delivery claims", len(held))

    def _renew(self, held: list[tuple[uuid.UUID, int]]) -> None:
        # Rows locked right now are being settled (or claimed) by their own
        # transaction: skipped, never waited for, so a renewal cannot deadlock
        # with a round's settling UPDATE that locks the same rows in another order.
        ours = (
            sa.select(OutboundDelivery.id)
            .where(
                sa.tuple_(OutboundDelivery.id, OutboundDelivery.attempt_count).in_(held),
                OutboundDelivery.state == OutboundState.IN_PROGRESS,
            )
            .with_for_update(skip_locked=True)
        )
        with self._app.app_context(), db.engine.begin() as connection:
            connection.execute(
                sa.update(OutboundDelivery)
                .where(OutboundDelivery.id.in_(ours.scalar_subquery()))
                .values(claimed_at=utcnow())
            )
