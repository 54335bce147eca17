"""Live or test: what a partner key's mode decides, kept in one place.

A test key (``sbk_test_…``) makes test orders and sees only those; a live key
sees only live orders. Nothing else differs for the partner: the same URLs,
bodies, validation, errors and rate limits (counted apart per mode,
:mod:`app.orders.partners.access`). Test orders get their own number series
(``CC-TEST-2026-00001``), so the live series stays gap-free, their
``Idempotency-Key`` values are kept apart from the live ones, and their
customer links no contact (:mod:`app.orders.partners.intake`).
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from app.platform.database import hold_advisory_lock, utcnow
from app.platform.extensions import db
from app.platform.models import ApiToken, Order, Organization
from app.platform.models.enums import KeyMode

TEST_NUMBER_PREFIX = "CC-TEST-"


def token_is_test(token: ApiToken | None) -> bool:
    """Whether ``token`` is a test-mode key."""
    return token is not None and token.mode == KeyMode.TEST


def caller_is_test(caller) -> bool:
    """Whether a partner API caller (:class:`app.orders.partners.access.PartnerCaller`)
    uses a test key: its orders are test orders, and it sees no others."""
    return token_is_test(getattr(caller, "token", None))


def allocate_test_order_number(year: int | None = None) -> str:
    """The next ``CC-TEST-YYYY-NNNNN``.

    Test orders take turns on an advisory lock instead of the live counter row,
    so a test intake never holds up (or leaves a gap in) the live numbers.
    """
    year = year or utcnow().year
    prefix = f"{TEST_NUMBER_PREFIX}{year}-"
    hold_advisory_lock(db.session, f"test-order-number:{year}")
    last = db.session.scalar(
        sa.select(sa.func.max(Order.order_number)).where(Order.order_number.like(f"{prefix}%"))
    )
    value = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{value:05d}"


def idempotency_key_in_mode(key: str, is_test: bool) -> str:
    """The key as stored: a test request's key never replays a live answer.

    Hashed so the stored key stays within the column's 255 characters.
    """
    if not is_test:
        return key
    return "test:" + hashlib.sha256(key.encode()).hexdigest()


def order_in_mode(partner: Organization, partner_order_id: str, is_test: bool) -> Order | None:
    """The partner's order by its own id, among its test or its live orders only."""
    return db.session.scalar(
        sa.select(Order).where(
            Order.partner_organization_id == partner.id,
            Order.partner_order_id == partner_order_id,
            Order.is_test.is_(is_test),
        )
    )
