"""Finding a partner's own orders for its order API: one, or a page of them.

A key sees its own partner's orders only (not those of sub-partners below
it), and only those of its mode: a test key its test orders, a live key the
real ones. Pages are keyset pages on ``(updated_at, id)``,
newest first, so a reconciliation walking them while orders change neither
skips nor repeats an order that did not move.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import Order, Organization, PartnerIntegration
from app.platform.models.enums import OrderStatus
from app.platform.typed_dates import LAST_YEAR, DateRefused, parse_moment

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
# ``<microseconds since 1970>_<order id hex>``: the last order of a page. The
# partner passes it back as given; every string of this form reads as a place.
CURSOR_PATTERN = r"^[0-9]{1,16}_[0-9a-f]{32}$"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class QueryInvalid(Exception):
    """A filter the API cannot read; ``fields`` names each."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


@dataclass(frozen=True)
class OrderFilter:
    statuses: tuple[OrderStatus, ...] = ()
    updated_since: datetime | None = None
    limit: int = DEFAULT_LIMIT
    after: tuple[datetime, uuid.UUID] | None = None


def parse_filter(args, integration: PartnerIntegration) -> OrderFilter:
    """The list's query string as a filter; :class:`QueryInvalid` names each bad one."""
    errors: dict[str, str] = {}
    statuses: tuple[OrderStatus, ...] = ()
    since = None
    limit = DEFAULT_LIMIT
    after = None
    if args.get("status"):
        try:
            statuses = statuses_named(args["status"], integration)
        except ValueError as exc:
            errors["status"] = str(exc)
    if args.get("updated_since") is not None:
        since = _moment(args["updated_since"])
        if since is None:
            errors["updated_since"] = "must be an ISO 8601 time, e.g. 2026-06-01T10:30:00Z"
    if args.get("limit") is not None:
        raw = args["limit"]
        if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= MAX_LIMIT:
            errors["limit"] = f"must be a whole number from 1 to {MAX_LIMIT}"
        else:
            limit = int(raw)
    if args.get("cursor"):
        after = _decode_cursor(args["cursor"])
        if after is None:
            errors["cursor"] = "is not a next_cursor this API gave"
    if errors:
        raise QueryInvalid(errors)
    return OrderFilter(statuses, since, limit, after)


def statuses_named(value: str, integration: PartnerIntegration) -> tuple[OrderStatus, ...]:
    """Our statuses for a comma-separated list of ours or the partner's own words.

    A word of the partner's ``chargecars_to_partner`` mapping stands for every
    status of ours it maps (two of ours may share one word of theirs).
    """
    mapping = (integration.status_mapping or {}).get("chargecars_to_partner") or {}
    found: list[OrderStatus] = []
    for word in (part.strip() for part in value.split(",")):
        if not word:
            continue
        ours = [OrderStatus(s) for s, theirs in mapping.items() if theirs == word]
        if word in OrderStatus.values():
            ours.append(OrderStatus(word))
        if not ours:
            known = sorted(set(OrderStatus.values()) | set(mapping.values()))
            raise ValueError(f"unknown status {word!r}; one of {', '.join(known)}")
        found.extend(ours)
    return tuple(dict.fromkeys(found))


def partner_orders(partner: Organization, is_test: bool, wanted: OrderFilter) -> list[Order]:
    """One page (``wanted.limit`` + 1 rows, to tell whether another follows)."""
    query = sa.select(Order).where(
        Order.partner_organization_id == partner.id, Order.is_test.is_(is_test)
    )
    if wanted.statuses:
        query = query.where(Order.status.in_(wanted.statuses))
    if wanted.updated_since is not None:
        query = query.where(Order.updated_at >= wanted.updated_since)
    if wanted.after is not None:
        moment, order_id = wanted.after
        query = query.where(sa.tuple_(Order.updated_at, Order.id) < sa.tuple_(moment, order_id))
    query = query.order_by(Order.updated_at.desc(), Order.id.desc()).limit(wanted.limit + 1)
    return list(db.session.scalars(query))


def partner_order(partner: Organization, is_test: bool, partner_order_id: str) -> Order | None:
    """The partner's order by its own id, in the key's mode; None otherwise."""
    return db.session.scalar(
        sa.select(Order).where(
            Order.partner_organization_id == partner.id,
            Order.partner_order_id == partner_order_id,
            Order.is_test.is_(is_test),
        )
    )


def encode_cursor(order: Order) -> str:
    micros = (order.updated_at - EPOCH) // timedelta(microseconds=1)
    return f"{micros}_{order.id.hex}"


def _decode_cursor(value: str) -> tuple[datetime, uuid.UUID] | None:
    if not re.fullmatch(CURSOR_PATTERN, value):
        return None
    micros, order_id = value.split("_")
    return EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(order_id)


def _moment(value) -> datetime | None:
    """An ISO 8601 time as aware UTC (a time without zone is read as UTC).

    Read by :mod:`app.platform.typed_dates`, but as a filter: a time before its first year
    lists every order (as a time before the first order did), one after its last
    year lists none. None when it is not a time at all.
    """
    if not isinstance(value, str):
        return None
    text = value.strip().upper()
    # An unencoded "+02:00" in a query string arrives as " 02:00".
    for candidate in (text, text[:-6] + "+" + text[-5:] if text[-6:-5] == " " else text):
        try:
            return parse_moment(candidate, timezone.utc)
        except DateRefused as exc:
            if exc.reason == "too_early":
                return EPOCH
            if exc.reason == "too_late":
                return datetime(LAST_YEAR + 1, 1, 1, tzinfo=timezone.utc)
    return None
