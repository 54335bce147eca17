"""Accepting a proposal: all of it, one day, or one visit, each visit saved on its own.

Every accepted visit goes through :func:`app.orders.planning.services.save_plan`,
the save of a hand-made plan, with the plan version the proposal saw: the
customer's message, the partner's callback, the technician's push and the
calendar event follow as they do for a plan made by hand, once each. Each visit
is its own transaction, so one refused visit does not hold back the others:

- a plan changed since the proposal was made (a colleague planned or moved the
  order by hand) is refused with that reason, and nothing of it is sent;
- a plan the rules refuse now (the day passed, a colleague booked the technician
  in the meantime, a day off was entered) is refused with the rules' reasons.

A proposal that moves visits already planned may put one where another of them is
now, and move that one on later in the day: saved in the order of the day, the
first would clash with the second's old place. A visit whose only problem is such a
clash, with a visit still to be accepted here, waits for it and is tried again once
a round has saved others; what still clashes when a round saves nothing (two visits
each waiting for the other's place) is refused with the clash as its reason.

A visit is taken for a decision by a conditional UPDATE (``decision = 'proposed'``),
so two planners accepting the same proposal save each visit once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from app.orders.planning.services import (
    PlanChanged,
    PlanRefused,
    PlanRequest,
    default_materials,
    save_plan,
    visit_of,
)
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Order, PlanProposal, ProposalVisit, User
from app.platform.transactions import commit

PROPOSED, ACCEPTED, REFUSED = "proposed", "accepted", "refused"


@dataclass
class Accepted:
    """What came of accepting: the order numbers saved, and those refused with why."""

    saved: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def note(self, number: str | None, refusal: str | None) -> None:
        """One visit's outcome; no number: a colleague decided it meanwhile."""
        if number is None:
            return
        if refusal is None:
            self.saved.append(number)
        else:
            self.refused.append((number, refusal))


def open_visits(proposal: PlanProposal, day: date | None = None, visit_id=None) -> list[uuid.UUID]:
    """The ids of the proposal's visits still to decide: all, one day's, or one."""
    query = sa.select(ProposalVisit.id).where(
        ProposalVisit.proposal_id == proposal.id, ProposalVisit.decision == PROPOSED
    )
    if day is not None:
        query = query.where(ProposalVisit.day == day)
    if visit_id is not None:
        query = query.where(ProposalVisit.id == visit_id)
    return list(db.session.scalars(query.order_by(ProposalVisit.day, ProposalVisit.window_start)))


def accept_visits(visit_ids: list[uuid.UUID], actor: User, today: date) -> Accepted:
    """Save each visit as a hand-made plan would be saved, one transaction each (a
    visit waiting for another's place tried again after it; see the module docstring)."""
    outcome = Accepted()
    numbers = _order_numbers(visit_ids)
    waiting = list(visit_ids)
    while waiting:
        # Who is still to be accepted here: their old places are about to be freed.
        pending = {numbers[visit_id] for visit_id in waiting}
        next_round = []
        for visit_id in waiting:
            make_way = frozenset(pending - {numbers[visit_id]})
            number, refusal, waits = _accept_one(visit_id, actor, today, make_way)
            if waits:
                next_round.append(visit_id)
            else:
                pending.discard(numbers[visit_id])
                outcome.note(number, refusal)
        if len(next_round) == len(waiting):
            # Nothing moved this round: nobody makes way any more.
            for visit_id in next_round:
                number, refusal, _waits = _accept_one(visit_id, actor, today, frozenset())
                outcome.note(number, refusal)
            break
        waiting = next_round
    return outcome


def _order_numbers(visit_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = db.session.execute(
        sa.select(ProposalVisit.id, Order.order_number)
        .join(Order, Order.id == ProposalVisit.order_id)
        .where(ProposalVisit.id.in_(visit_ids))
    ).all()
    return dict(rows)


def _accept_one(
    visit_id: uuid.UUID, actor: User, today: date, make_way: frozenset[str]
) -> tuple[str | None, str | None, bool]:
    """(order number, refusal, waits): number None when a colleague decided the visit;
    waits when its only problems are clashes with orders in ``make_way``."""
    if not _take(visit_id, actor, ACCEPTED):
        db.session.rollback()
        return None, None, False
    proposed = db.session.get(ProposalVisit, visit_id)
    order = db.session.get(Order, proposed.order_id)
    number = order.order_number
    try:
        save_plan(order, _plan(order, proposed), actor, today)
    except PlanChanged:
        # The failed transaction goes first: the refusal's words need the reader's language.
        db.session.rollback()
        refusal = _(
            "Someone changed the plan of %(order)s after this proposal was made; "
            "it was left as they planned it.",
            order=number,
        )
    except PlanRefused as exc:
        db.session.rollback()
        if make_way and all(p.other_order in make_way for p in exc.problems):
            return number, None, True
        refusal = "; ".join(str(problem.message) for problem in exc.problems)
    else:
        commit()
        return number, None, False
    _take(visit_id, actor, REFUSED, refusal)
    commit()
    return number, refusal, False


def _plan(order: Order, proposed: ProposalVisit) -> PlanRequest:
    """The proposed visit as a planner's plan of that visit (a later one named by its
    number, so visit 1 stays as it is)."""
    visit = visit_of(order, proposed.visit_number)
    kept = visit is not None and visit.materials is not None
    return PlanRequest(
        day=proposed.day,
        window_start=proposed.window_start,
        window_end=proposed.window_end,
        technician_ids=tuple(uuid.UUID(str(t)) for t in proposed.technician_ids),
        duration_minutes=proposed.duration_minutes,
        materials=visit.materials if kept else default_materials(order) or None,
        technician_notes=visit.technician_notes if visit is not None else None,
        seen_version=proposed.seen_version,
        visit_number=proposed.visit_number,
    )


def _take(visit_id: uuid.UUID, actor: User, decision: str, reason: str | None = None) -> bool:
    """Decide a visit still proposed; False when a colleague decided it first."""
    taken = db.session.execute(
        sa.update(ProposalVisit)
        .where(ProposalVisit.id == visit_id, ProposalVisit.decision == PROPOSED)
        .values(
            decision=decision,
            reason=reason[:500] if reason else None,
            decided_by_user_id=actor.id,
            decided_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    return taken == 1
