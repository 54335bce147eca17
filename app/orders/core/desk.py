"""The order desk (``/orders``): every live order by stage, filtered, searched, paged.

The tabs and what each holds are in :mod:`app.orders.core.stages`; this module reads
the desk's filters (refusing a bad value by its field), finds orders by what a
person types (:mod:`app.orders.core.search`) and pages them by key: a cursor holds
the last row's sort value and id, so page 40 costs what page 1 costs and no order
repeats or goes missing when orders arrive between pages. A tab counts to 999
("999+"); for a name more than 5,000 customers share, to 100 ("100+"), as a
broad search's counts in Gmail or Zammad: finding each tab's thousand among a
million orders took half of the 100 ms the page may take.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.orders.core.search import FoundOrders, find_orders
from app.orders.core.stages import (
    ALL,
    BY_NAME,
    NO_DAY,
    Stage,
    live_orders,
    stage_clause,
    stage_counts,
    visit_day,
)
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.labels import label
from app.platform.models import Order, Organization, User, Visit, VisitTechnician
from app.platform.models.enums import OrderSource, OrganizationType, Role
from app.platform.security.bodies import loads as load_json
from app.platform.typed_dates import DateRefused, cursor_moment, parse_day

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
PAGE_SIZE = 50
# What a tab counts to for a name many customers share (see desk_page).
BROAD_SEARCH_COUNT_CAP = 100
MAX_QUERY = 200
# A period of creation up to this long is sorted, not walked, on tabs sorted otherwise.
SHORT_PERIOD = timedelta(days=366)
POSTCODE_AREA = re.compile(r"\d{2,4}")
FIELD_LABELS = {
    "tab": _l("Tab"),
    "partner": _l("Partner"),
    "intake": _l("Intake"),
    "area": _l("Postcode area"),
    "technician": _l("Technician"),
    "created_from": _l("Created from"),
    "created_to": _l("Created until"),
    "q": _l("Search"),
    "cursor": _l("Page"),
}


class DeskRefused(ValueError):
    """A filter value the desk does not take; ``field`` names which, ``message`` says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    @property
    def text(self) -> str:
        """ "Postcode area: …" in the reader's language."""
        return f"{FIELD_LABELS[self.field]}: {self.message}"


def local_today(now: datetime | None = None) -> date:
    """Today where the desk works (Amsterdam), not in UTC."""
    return (now or utcnow()).astimezone(AMSTERDAM).date()


@dataclass
class DeskQuery:
    stage: str = "review"
    q: str | None = None
    partner_id: uuid.UUID | None = None
    source: OrderSource | None = None
    area: str | None = None
    technician_id: uuid.UUID | None = None
    created_from: date | None = None
    created_to: date | None = None
    _found: tuple[str | None, FoundOrders] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> "DeskQuery":
        """The desk's query-string arguments, each checked; :class:`DeskRefused` names a bad one."""
        q = (args.get("q") or "").strip() or None
        if q and len(q) > MAX_QUERY:
            raise DeskRefused("q", _("at most %(count)s characters.", count=MAX_QUERY))
        # A search looks through every stage unless a tab is asked for.
        stage = args.get("tab") or ("all" if q else "review")
        if stage not in BY_NAME:
            raise DeskRefused("tab", _("not a tab of the order desk."))
        query = cls(stage=stage, q=q)
        query.partner_id = _known_id(args, "partner", _partner_exists)
        query.technician_id = _known_id(args, "technician", _user_exists)
        if args.get("intake"):
            try:
                query.source = OrderSource(args["intake"])
            except ValueError:
                raise DeskRefused("intake", _("not an intake of orders.")) from None
        area = (args.get("area") or "").strip()
        if area and not POSTCODE_AREA.fullmatch(area):
            raise DeskRefused("area", _("enter the first 2 to 4 digits of a postcode."))
        query.area = area or None
        for name in ("created_from", "created_to"):
            try:
                setattr(query, name, parse_day(args.get(name)))
            except DateRefused as exc:
                raise DeskRefused(name, str(exc)) from None
        if query.created_from and query.created_to and query.created_to < query.created_from:
            raise DeskRefused("created_to", _("must not lie before the first day."))
        return query

    @property
    def found(self) -> FoundOrders:
        """What the search finds (asked once: a broad name is told from a count)."""
        if self._found is None or self._found[0] != self.q:
            self._found = (self.q, find_orders(self.q or ""))
        return self._found[1]

    def as_args(self, **changes) -> dict[str, str]:
        """The non-default values (with ``changes``), for links that keep the view."""
        values = {
            "tab": self.stage,
            "q": self.q,
            "partner": str(self.partner_id) if self.partner_id else None,
            "intake": self.source.value if self.source else None,
            "area": self.area,
            "technician": str(self.technician_id) if self.technician_id else None,
            "created_from": self.created_from.isoformat() if self.created_from else None,
            "created_to": self.created_to.isoformat() if self.created_to else None,
        }
        values.update(changes)
        return {key: value for key, value in values.items() if value}

    @property
    def narrowed(self) -> int:
        """How many filters are in use (the fold of filters opens when any is)."""
        return sum(
            value is not None
            for value in (
                self.partner_id,
                self.source,
                self.area,
                self.technician_id,
                self.created_from,
                self.created_to,
            )
        )


def _known_id(args: Mapping[str, str], name: str, exists) -> uuid.UUID | None:
    if not args.get(name):
        return None
    try:
        ident = uuid.UUID(args[name])
    except ValueError:
        raise DeskRefused(name, _("not one of the choices.")) from None
    if not exists(ident):
        raise DeskRefused(name, _("not one of the choices."))
    return ident


def _partner_exists(ident: uuid.UUID) -> bool:
    return (
        db.session.scalar(
            sa.select(sa.literal(True)).where(
                Organization.id == ident, Organization.organization_type == OrganizationType.PARTNER
            )
        )
        is not None
    )


def _user_exists(ident: uuid.UUID) -> bool:
    return db.session.get(User, ident) is not None


def filter_conditions(query: DeskQuery) -> list[sa.ColumnElement[bool]]:
    """The WHERE conditions of the query's filters and search (not its tab)."""
    conditions: list[sa.ColumnElement[bool]] = [live_orders()]
    if query.q:
        conditions.append(query.found.clause)
    if query.partner_id:
        conditions.append(Order.partner_organization_id == query.partner_id)
    if query.source:
        conditions.append(Order.source == query.source)
    if query.area:
        conditions.append(_postcode_area(query.area))
    if query.technician_id:
        # The lead is on the order itself (kept in step by planning, see
        # app.platform.models.planning.VisitTechnician), carried in every tab's index. The
        # rest of the crew, the helpers, are few and have an index of their own:
        # gathering every visit a technician was ever on (46,000 at a million
        # orders) cost more than the whole page. A common table expression: the
        # tabs' counts ask for it once per tab and PostgreSQL gathers it once.
        helping = (
            sa.select(Visit.order_id)
            .join(VisitTechnician, VisitTechnician.visit_id == Visit.id)
            .where(
                VisitTechnician.technician_id == query.technician_id,
                VisitTechnician.is_lead.is_(False),
            )
            .cte("technician_helping")
        )
        conditions.append(
            sa.or_(
                Order.assigned_technician_id == query.technician_id,
                Order.id.in_(sa.select(helping.c.order_id)),
            )
        )
    if query.created_from:
        conditions.append(Order.created_at >= _local_midnight(query.created_from))
    if query.created_to:
        conditions.append(Order.created_at < _local_midnight(query.created_to + timedelta(days=1)))
    return conditions


def _postcode_area(area: str) -> sa.ColumnElement[bool]:
    """Postcodes starting with ``area`` (2 to 4 digits), as a range of an index.

    Read from the order's copy of its installation postcode, which the tabs'
    indexes carry. ``LIKE '35%'`` reads every order: a btree serves a prefix match only under
    the C collation. A postcode is kept as four digits and two capitals
    (``normalise_postal_code``), so "35" is the range from "35" up to (not
    including) "36". (A LIKE beside the range would change no answer, but
    PostgreSQL would take the two for independent and expect 1 % of the rows.)
    """
    clause = Order.installation_postcode >= area
    if area.strip("9"):
        following = str(int(area) + 1).zfill(len(area))
        clause = sa.and_(clause, Order.installation_postcode < following)
    return clause


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), AMSTERDAM).astimezone(ZoneInfo("UTC"))


# Each sort key: its SQL expression, its value on a loaded order, and how a cursor reads it back.
SORT_KEYS = {
    "created_at": (Order.created_at, lambda o: o.created_at, cursor_moment),
    "updated_at": (Order.updated_at, lambda o: o.updated_at, cursor_moment),
    # Completed by the status engine; an order made as completed (an import) has no moment.
    "completed_at": (
        sa.func.coalesce(Order.completed_at, Order.updated_at),
        lambda o: o.completed_at or o.updated_at,
        cursor_moment,
    ),
    "scheduled_date": (
        visit_day(),
        lambda o: o.scheduled_date or NO_DAY,
        lambda text: date.fromisoformat(str(text)),
    ),
}


def _short_period(query: DeskQuery, today: date) -> bool:
    """Whether the query asks for orders created within at most ``SHORT_PERIOD``."""
    if query.created_from is None:
        return False
    return (query.created_to or today) - query.created_from <= SHORT_PERIOD


def _order_by(stage: Stage, *, period: bool = False) -> list:
    key = SORT_KEYS[stage.sort][0]
    if period and stage.sort != "created_at":
        # A short period of creation on a tab sorted by something else: its orders
        # are found by when they came in, then sorted (a year of completed orders,
        # 75,000 at a million: 40 ms). Walking the tab's index in its order instead,
        # PostgreSQL expects the period's orders spread over it, but a recent
        # month's completed orders are all at its end: 850,000 entries in, half a
        # second. (A long period, or one without a first day, is better walked: its
        # orders come early in the walk and sorting them all would cost more.)
        # The key is wrapped only so no index offers its order; the order is the same.
        key = sa.func.coalesce(key, key)
    if stage.newest_first:
        return [key.desc(), Order.id.desc()]
    return [key, Order.id]


def encode_cursor(stage: Stage, order: Order) -> str:
    value = SORT_KEYS[stage.sort][1](order)
    key = [stage.name, value.isoformat(), str(order.id)]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def cursor_clause(stage: Stage, cursor: str) -> sa.ColumnElement[bool]:
    """The rows after ``cursor`` in ``stage``'s order; :class:`DeskRefused` for a strange one."""
    expression, _value, read = SORT_KEYS[stage.sort]
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = load_json(base64.urlsafe_b64decode(padded.encode()))
        if key[0] != stage.name:
            raise ValueError("a cursor of another tab")
        value, ident = read(key[1]), uuid.UUID(key[2])
    except (ValueError, TypeError, IndexError, KeyError, binascii.Error, UnicodeDecodeError):
        raise DeskRefused("cursor", _("not a page this desk handed out.")) from None
    if stage.newest_first:
        return sa.tuple_(expression, Order.id) < sa.tuple_(value, ident)
    return sa.tuple_(expression, Order.id) > sa.tuple_(value, ident)


@dataclass
class DeskPage:
    query: DeskQuery
    orders: list[Order]
    next_cursor: str | None
    counts: dict[str, int] = field(default_factory=dict)
    # Above it a tab reads "100+" (a name many customers share); None: "999+".
    count_cap: int | None = None


def desk_page(
    query: DeskQuery,
    *,
    cursor: str | None = None,
    limit: int | None = None,
    today: date | None = None,
) -> DeskPage:
    """One page of ``query``'s tab, and (for a first page) every tab's count."""
    today = today or local_today()
    limit = limit or PAGE_SIZE
    stage = BY_NAME[query.stage]
    conditions = filter_conditions(query)
    if stage is not ALL:
        conditions.append(stage_clause(stage.name, today))
    if cursor:
        conditions.append(cursor_clause(stage, cursor))
    order_by = _order_by(stage, period=_short_period(query, today))
    # The page's orders are chosen first, from the index, and only they are then
    # joined to their customer, partner and address: with the joins in the same
    # statement, PostgreSQL joined every order a search found before sorting
    # ("Maud Bos": 500 orders with their customers and addresses, for 51 shown).
    page = sa.select(Order.id).where(*conditions).order_by(*order_by).limit(limit + 1)
    statement = (
        sa.select(Order)
        .where(Order.id.in_(page))
        .options(
            so.joinedload(Order.end_customer),
            so.joinedload(Order.partner_organization),
            so.joinedload(Order.installation_address),
            so.selectinload(Order.visits).selectinload(Visit.crew),
        )
        .order_by(*_order_by(stage))
    )
    found = list(db.session.scalars(statement).unique())
    orders = found[:limit]
    next_cursor = encode_cursor(stage, orders[-1]) if len(found) > limit and orders else None
    broad = bool(query.q) and not query.found.few
    # A name many customers share ("Bos": 20,600 orders at a million) is counted
    # by walking each tab until its cap's worth of them: to 1,000 that is 50,000
    # entries in the completed tab alone, and the counts took 50 ms of the 100 the
    # page may take. Up to 100 they take 30, and the tab reads "100+", as the
    # counts of a broad search do in Gmail or Zammad.
    cap = BROAD_SEARCH_COUNT_CAP if broad else None
    counts = (
        {}
        if cursor
        else stage_counts(
            today,
            *filter_conditions(query),
            few=bool((query.q and query.found.few) or query.area),
            walk=_order_by if broad else None,
            cap=cap,
        )
    )
    return DeskPage(query, orders, next_cursor, counts, count_cap=cap)


def desk_choices() -> dict[str, list[tuple[str, str]]]:
    """The filters' choices: intakes, and partners and technicians by name."""
    partners = db.session.execute(
        sa.select(Organization.id, Organization.name)
        .where(Organization.organization_type == OrganizationType.PARTNER)
        .order_by(Organization.name)
    ).all()
    technicians = db.session.execute(
        sa.select(User.id, User.name)
        .where(User.role.in_((Role.TECHNICIAN, Role.TEAM_LEAD)), User.is_active_account.is_(True))
        .order_by(User.name)
    ).all()
    return {
        "intake": [(source.value, label(source, "order_source")) for source in OrderSource],
        "partner": [(str(i), name) for i, name in partners],
        "technician": [(str(i), name) for i, name in technicians],
    }
