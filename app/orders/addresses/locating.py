"""Addresses without coordinates are looked up again, now and then.

An order whose address PDOK did not confirm at intake (PDOK was down, or the
address was kept as typed) has no place on the map, so no route can count the drive
to it. Every few minutes the oldest few of them on live orders are asked of PDOK
again; one it finds gets its coordinates, one it does not know is asked again after
``RETRY_AFTER``, and the order page says it has no place until then.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from app.orders.addresses.pdok import MISMATCH, UNAVAILABLE, VALID, check_address
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Address, Order
from app.platform.models.enums import OrderStatus
from app.platform.transactions import commit

log = logging.getLogger(__name__)

BATCH = 25
RETRY_AFTER = timedelta(hours=12)
# Orders still to visit: a completed or cancelled one needs no route.
LIVE = (
    OrderStatus.NEW,
    OrderStatus.QUOTE_SENT,
    OrderStatus.APPROVED,
    OrderStatus.SCHEDULED,
    OrderStatus.IN_PROGRESS,
    OrderStatus.ON_HOLD,
)


def locate_waiting_addresses(batch: int = BATCH) -> int:
    """Ask PDOK where the oldest unlocated addresses of live orders are; returns how
    many got coordinates. Rows are claimed with ``SKIP LOCKED``, so two workers
    running it at once take different addresses."""
    now = utcnow()
    waiting = db.session.scalars(
        sa.select(Address)
        .where(
            Address.latitude.is_(None),
            sa.or_(
                Address.location_checked_at.is_(None),
                Address.location_checked_at < now - RETRY_AFTER,
            ),
            Address.id.in_(
                sa.select(Order.installation_address_id).where(Order.status.in_(LIVE))
            ),
        )
        .order_by(Address.location_checked_at.asc().nulls_first())
        .limit(batch)
        .with_for_update(skip_locked=True)
    ).all()
    located = 0
    for address in waiting:
        if not address.postal_code or not address.house_number:
            address.location_checked_at = now
            continue
        check = check_address(
            address.postal_code, address.house_number, address.house_number_addition
        )
        if check.outcome == UNAVAILABLE:
            # PDOK is down: ask again next run, without marking the rest as asked.
            log.warning("PDOK unavailable; %s addresses left to locate", len(waiting) - located)
            break
        address.location_checked_at = now
        if check.outcome in (VALID, MISMATCH) and check.latitude is not None:
            address.latitude = check.latitude
            address.longitude = check.longitude
            located += 1
    commit()
    return located
