"""What the board draws of a proposal: ghost cards, its figures, what stayed unplanned."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.orders.planning.board import postcode_area
from app.orders.planning.proposals.gathering import NO_DAYS, PREFERS_LATER, visit_of_key
from app.orders.planning.proposals.making import SOLVING, STARTS_AT, stuck
from app.orders.planning.routing import (
    NO_PLACE,
    NO_SECOND_TECHNICIAN,
    NO_SKILL,
    NO_TIME,
    TIME_LIMIT,
)
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Order, PlanProposal, ProposalVisit

REASON_TEXTS = {
    NO_PLACE: _l("the address is not on the map"),
    NO_SKILL: _l("no technician has the skills it needs"),
    NO_TIME: _l("no room left in these days"),
    NO_SECOND_TECHNICIAN: _l("no second technician free at the same time"),
    TIME_LIMIT: _l("the search ran out of time before placing it"),
    PREFERS_LATER: _l("the customer prefers a later date"),
    NO_DAYS: _l("the visit before it is on or after the last of these days"),
}
STEP_TEXTS = {
    "gathering": _l("Gathering orders and working days"),
    "travel": _l("Measuring travel times"),
    "solving": _l("Searching for the shortest routes"),
    "comparing": _l("Comparing with planning by hand"),
    "saving": _l("Saving the proposal"),
}


@dataclass(frozen=True)
class Ghost:
    """One proposed visit as a card: the order, the window, the drive to it."""

    id: uuid.UUID
    order_number: str
    window: str
    drive_minutes: int
    area: str | None
    customer: str | None
    crew_size: int
    decision: str
    reason: str | None
    moved_from: date | None
    # Which of the order's visits, as the board's cards say it ("2/2").
    number: int = 1
    of: int = 1


@dataclass(frozen=True)
class Unplanned:
    order_number: str
    customer: str | None
    reason: str
    number: int = 1
    of: int = 1


@dataclass
class ProposalView:
    proposal: PlanProposal
    ghosts: dict[tuple[uuid.UUID, date], list[Ghost]] = field(default_factory=dict)
    unplanned: list[Unplanned] = field(default_factory=list)
    open_days: list[date] = field(default_factory=list)

    @property
    def id(self) -> uuid.UUID:
        return self.proposal.id

    @property
    def ready(self) -> bool:
        return self.proposal.status == "ready"

    @property
    def working(self) -> bool:
        return self.proposal.status in ("queued", "running")

    @property
    def stuck(self) -> bool:
        return stuck(self.proposal)

    @property
    def figures(self) -> dict:
        return self.proposal.summary or {}

    @property
    def travel_saved(self) -> int:
        figures = self.figures
        return max(0, figures.get("by_hand_travel_minutes", 0) - figures.get("travel_minutes", 0))

    @property
    def open_count(self) -> int:
        return sum(1 for cards in self.ghosts.values() for g in cards if g.decision == "proposed")

    @property
    def progress(self) -> int:
        return progress_of(self.proposal)

    @property
    def step_text(self) -> str:
        return str(STEP_TEXTS.get(self.proposal.step, _l("Waiting for a worker")))


def progress_of(proposal: PlanProposal, now: datetime | None = None) -> int:
    """The bar's value; while the solver searches, by the clock towards its time limit."""
    if proposal.step != SOLVING or proposal.heartbeat_at is None:
        return proposal.progress
    seconds = float(current_app.config["PLANNING_SOLVE_SECONDS"]) or 1.0
    left = (proposal.heartbeat_at - (now or utcnow())).total_seconds()
    done = min(max(1 - left / seconds, 0.0), 1.0)
    return STARTS_AT[SOLVING] + round(done * (90 - STARTS_AT[SOLVING]))


def proposal_view(proposal: PlanProposal) -> ProposalView:
    view = ProposalView(proposal)
    if proposal.status != "ready":
        return view
    visits = list(
        db.session.scalars(
            sa.select(ProposalVisit)
            .where(ProposalVisit.proposal_id == proposal.id)
            .order_by(ProposalVisit.day, ProposalVisit.window_start)
        )
    )
    orders = _orders({v.order_id for v in visits} | _unplanned_ids(proposal))
    cells: dict[tuple[uuid.UUID, date], list[Ghost]] = defaultdict(list)
    for visit in visits:
        if visit.decision == "accepted":
            continue  # planned now: the board shows its own card
        order = orders.get(visit.order_id)
        ghost = Ghost(
            id=visit.id,
            order_number=order.order_number if order else "?",
            window=visit.window_text,
            drive_minutes=visit.drive_minutes,
            area=_area(order),
            customer=_customer(order),
            crew_size=len(visit.technician_ids),
            decision=visit.decision,
            reason=visit.reason,
            moved_from=visit.was_day,
            number=visit.visit_number,
            of=_visit_count(order),
        )
        for technician_id in visit.technician_ids:
            cells[(uuid.UUID(str(technician_id)), visit.day)].append(ghost)
    view.ghosts = dict(cells)
    view.open_days = sorted({v.day for v in visits if v.decision == "proposed"})
    for key, reason in (proposal.summary or {}).get("unplanned", {}).items():
        order_id, number = visit_of_key(key)
        order = orders.get(order_id)
        if order is not None:
            text = str(REASON_TEXTS.get(reason, reason))
            view.unplanned.append(
                Unplanned(order.order_number, _customer(order), text, number, _visit_count(order))
            )
    view.unplanned.sort(key=lambda row: (row.order_number, row.number))
    return view


def _unplanned_ids(proposal: PlanProposal) -> set[uuid.UUID]:
    return {visit_of_key(key)[0] for key in (proposal.summary or {}).get("unplanned", {})}


def _visit_count(order: Order | None) -> int:
    return max(len(order.visits), 1) if order is not None else 1


def _orders(ids: set[uuid.UUID]) -> dict[uuid.UUID, Order]:
    if not ids:
        return {}
    rows = db.session.scalars(
        sa.select(Order)
        .options(
            so.joinedload(Order.installation_address),
            so.joinedload(Order.end_customer),
            so.selectinload(Order.visits),
        )
        .where(Order.id.in_(ids))
    )
    return {order.id: order for order in rows}


def _area(order: Order | None) -> str | None:
    if order is None or order.installation_address is None:
        return None
    return postcode_area(order.installation_address.postal_code)


def _customer(order: Order | None) -> str | None:
    return order.end_customer.display_name if order and order.end_customer else None
