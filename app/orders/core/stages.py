"""The order desk's tabs: which orders each stage of an order's life holds.

Written once here, for the desk's list (``/orders``), its counts, and whatever
later counts the same work (a live badge on the menu item). Every live order
is in exactly one tab; test orders (``is_test``, a partner's sandbox) in none.

- ``review``: ``new`` or ``quote_sent`` and flagged ``needs_review`` — an intake
  found something a person must check before it can be approved;
- ``new``: ``new`` or ``quote_sent``, not flagged — waiting to be approved;
- ``to_plan``: ``approved`` — approved, no visit planned yet (planning moves it
  to ``scheduled``, taking the visit back moves it here again);
- ``planned_week``: ``scheduled`` with the visit on or before this week's Sunday
  (days already past included: a visit that did not start still needs a look),
  or without a day;
- ``planned_later``: ``scheduled`` with the visit after this week;
- ``in_progress``: ``in_progress`` — the technician is on site;
- ``completed``: ``completed`` — done, to invoice;
- ``closed``: ``on_hold`` and ``cancelled``.

Waiting work is listed oldest first (by when the order came in), planned work by
visit day, completed work by when it was completed, paused and cancelled orders
most recently changed first. Each order key ends in the order's id, so keyset
paging is exact.

Each stage has its own partial index on its sort key and the id (migrations 0069
and 0070, the model's ``__table_args__``): a tab's page is a range of one index, however
many orders the other stages hold, and its count stops after ``COUNT_CAP`` + 1
entries (the tab then reads "999+", as the inbox's do): counted exactly, the
completed tab alone would visit 850,000 entries at a million orders on every
visit of the desk, and nobody acts on the difference between 850,112 and 850,113.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.platform.extensions import db
from app.platform.models import Order
from app.platform.models.enums import OrderStatus

S = OrderStatus
WAITING = (S.NEW, S.QUOTE_SENT)
# A visit without a day sorts before every dated one: it needs a look first.
NO_DAY = date(2000, 1, 1)
# Counted up to this many; above it a tab reads "999+" (:func:`count_label`).
COUNT_CAP = 999


@dataclass(frozen=True)
class Stage:
    name: str
    label: object  # a lazy string
    statuses: tuple[OrderStatus, ...]
    # What the tab sorts by (then the order's id); ascending unless ``newest_first``.
    sort: str
    newest_first: bool = False


STAGES: tuple[Stage, ...] = (
    Stage("review", _l("To review"), WAITING, "created_at"),
    Stage("new", _l("New"), WAITING, "created_at"),
    Stage("to_plan", _l("To plan"), (S.APPROVED,), "created_at"),
    Stage("planned_week", _l("Planned this week"), (S.SCHEDULED,), "scheduled_date"),
    Stage("planned_later", _l("Planned later"), (S.SCHEDULED,), "scheduled_date"),
    Stage("in_progress", _l("In progress"), (S.IN_PROGRESS,), "created_at"),
    Stage("completed", _l("Completed"), (S.COMPLETED,), "completed_at"),
    Stage("closed", _l("On hold and cancelled"), (S.ON_HOLD, S.CANCELLED), "updated_at", True),
)
# Not a stage: what a search looks through unless a tab is asked for, newest first.
ALL = Stage("all", _l("All"), tuple(OrderStatus), "created_at", True)
BY_NAME = {stage.name: stage for stage in (*STAGES, ALL)}
# Where work waits for a person: a later live badge counts these.
NEEDS_A_PERSON = ("review", "new")


def week_end(today: date) -> date:
    """The Sunday of ``today``'s week: the last day "planned this week" holds."""
    return today + timedelta(days=6 - today.weekday())


def visit_day() -> sa.ColumnElement:
    """The planned tabs' sort key: the visit day, ``NO_DAY`` for none (as indexed)."""
    # A literal, not a parameter: the index is on this very expression, and a
    # statement prepared with a parameter there could not use it.
    return sa.func.coalesce(Order.scheduled_date, sa.literal(NO_DAY, literal_execute=True))


def status_in(statuses: tuple[OrderStatus, ...]) -> sa.ColumnElement[bool]:
    """``status IN (…)`` written out, so a prepared statement still matches the partial index."""
    return Order.status.in_(
        sa.bindparam(
            "stage_statuses",
            [status.value for status in statuses],
            expanding=True,
            literal_execute=True,
            unique=True,
        )
    )


def stage_clause(name: str, today: date) -> sa.ColumnElement[bool]:
    """The WHERE clause of stage ``name`` (``today``: the desk's local day)."""
    stage = BY_NAME[name]
    if stage is ALL:
        return sa.true()
    clause = status_in(stage.statuses)
    if name == "review":
        return sa.and_(clause, Order.needs_review.is_(True))
    if name == "new":
        return sa.and_(clause, Order.needs_review.is_(False))
    # Planned this week: on or before Sunday, or without a day (NO_DAY lies before every week).
    if name == "planned_week":
        return sa.and_(clause, visit_day() <= week_end(today))
    if name == "planned_later":
        return sa.and_(clause, visit_day() > week_end(today))
    return clause


def stage_of(order: Order, today: date) -> str:
    """The tab ``order`` is in (the same rules as :func:`stage_clause`, in Python)."""
    status = order.status
    if status in WAITING:
        return "review" if order.needs_review else "new"
    if status == S.SCHEDULED:
        later = order.scheduled_date is not None and order.scheduled_date > week_end(today)
        return "planned_later" if later else "planned_week"
    return next(stage.name for stage in STAGES if status in stage.statuses)


def live_orders() -> sa.ColumnElement[bool]:
    """Orders the desk sees: never a partner's test order."""
    return Order.is_test.is_(False)


def count_label(count: int, cap: int | None = None) -> str:
    """A count as a tab shows it: exact up to ``cap`` (``COUNT_CAP``), then "999+"."""
    cap = COUNT_CAP if cap is None else cap
    return f"{cap}+" if count > cap else str(count)


def stage_counts(
    today: date,
    *conditions: sa.ColumnElement[bool],
    few: bool = False,
    walk: Callable[[Stage], list] | None = None,
    cap: int | None = None,
) -> dict[str, int]:
    """How many live orders each stage holds (narrowed by ``conditions``), in one query.

    Each count stops at ``cap`` (``COUNT_CAP``) + 1: the LIMIT under it ends the scan of
    the stage's index there (show it with :func:`count_label`). Conditions that
    find ``few`` orders by their own keys (a search, a postcode area) are counted
    in one pass over those, instead of being found again for each stage.
    ``walk`` gives a stage's order, for conditions tested entry by entry (a
    broad name search): each count then walks its stage's index alone, where
    PostgreSQL would read the completed orders' table from its start, or the
    planned ones' scattered over it.
    """
    cap = COUNT_CAP if cap is None else cap
    if few:
        tallies = [
            sa.func.count().filter(stage_clause(stage.name, today)).label(stage.name)
            for stage in STAGES
        ]
        row = db.session.execute(
            sa.select(*tallies).select_from(Order).where(live_orders(), *conditions)
        ).one()
        return {stage.name: int(getattr(row, stage.name) or 0) for stage in STAGES}
    columns = []
    for stage in STAGES:
        matching = (
            sa.select(sa.literal(1))
            .select_from(Order)
            .where(live_orders(), stage_clause(stage.name, today), *conditions)
            .order_by(*(walk(stage) if walk else ()))
            .limit(cap + 1)
            .subquery()
        )
        columns.append(
            sa.select(sa.func.count()).select_from(matching).scalar_subquery().label(stage.name)
        )
    row = db.session.execute(sa.select(*columns)).one()
    return {stage.name: int(getattr(row, stage.name) or 0) for stage in STAGES}
