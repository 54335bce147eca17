"""A visit dragged on the board to another technician's cell or another day.

A move is a re-plan through :func:`~app.orders.planning.services.save_plan`, so it is
refused, warned about and told to the customer, the partner, the calendar and the
phone exactly as the plan dialog's save is. What the planner did not touch stays:
the window, the duration, what to bring and the notes. The technician whose cell the
card left is replaced by the one it was dropped on (the lead, when the card does not
say whose cell it came from); the rest of the crew stays, and a target already on
the crew is not added twice (dropped on a crew member's cell, that member leads).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from app.orders.planning.rules import Problem
from app.orders.planning.services import (
    PlanChanged,
    PlanRefused,
    PlanRequest,
    save_plan,
    visit_of,
)
from app.platform.extensions import db
from app.platform.models import Order, User, Visit
from app.platform.ui import local_date


@dataclass(frozen=True)
class MoveRequest:
    """Where a planner dropped a visit card, checked for form (:func:`parse_move`)."""

    technician_id: uuid.UUID
    day: date
    seen_version: int
    week: date  # the Monday of the board's week, where the planner goes back to
    taken_from: uuid.UUID | None = None  # whose cell the card left
    override: bool = False
    visit_number: int | None = None  # None: the order's current visit


class MoveInvalid(Exception):
    """The move names something that is not on the visit; ``errors`` by field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors.values()))
        self.errors = errors


def moved_crew(
    crew: tuple[uuid.UUID, ...], taken_from: uuid.UUID | None, target: uuid.UUID
) -> tuple[uuid.UUID, ...]:
    """The crew after the card left ``taken_from``'s cell (the lead's by default) for
    ``target``'s: that member replaced in their place, nobody twice."""
    if not crew:
        return (target,)
    source = taken_from if taken_from is not None else crew[0]
    replaced = [target if member == source else member for member in crew]
    return tuple(dict.fromkeys(replaced))


def move_visit(order: Order, move: MoveRequest, actor: User, today: date) -> Visit | None:
    """Re-plan ``order``'s visit where the card was dropped; None when that is where it
    already was. Raises what :func:`save_plan` raises, and :class:`MoveInvalid`."""
    visit = visit_of(order, move.visit_number)
    if visit is None or visit.scheduled_date is None or visit.window_start is None:
        raise PlanRefused(
            [
                Problem(
                    "no_window",
                    _(
                        "%(order)s has no planned time window to keep: plan it in its dialog.",
                        order=order.order_number,
                    ),
                )
            ]
        )
    if move.seen_version != visit.version:
        # save_plan's claim would refuse it too; here the crew below is not read
        # from a plan the planner never saw.
        raise PlanChanged()
    crew = tuple(visit.technician_ids)
    if move.taken_from is not None and move.taken_from not in crew:
        raise MoveInvalid(
            {"from_technician_id": _("From technician: not on this visit; reload the board.")}
        )
    technicians = moved_crew(crew, move.taken_from, move.technician_id)
    if move.day == visit.scheduled_date and technicians == crew:
        return None
    plan = PlanRequest(
        day=move.day,
        window_start=visit.window_start,
        window_end=visit.window_end,
        technician_ids=technicians,
        duration_minutes=visit.duration_minutes,
        materials=visit.materials,
        technician_notes=visit.technician_notes,
        seen_version=move.seen_version,
        override=move.override,
        visit_number=visit.number,
    )
    return save_plan(order, plan, actor, today)


def refusal_answer(refused: PlanRefused) -> dict:
    """The board's answer to a refused move: why, and whether "plan anyway" may follow."""
    reasons = [problem.message for problem in refused.problems]
    return {
        "success": False,
        "error": {
            "code": "plan_refused",
            "message": " ".join([_("This plan does not fit:"), *reasons]),
            "problems": [
                {"code": p.code, "message": p.message, "soft": p.soft} for p in refused.problems
            ],
            "may_override": refused.only_soft,
        },
    }


def moved_note(order: Order, visit: Visit) -> str:
    """What the board says after a move: where the visit is now."""
    lead = db.session.get(User, visit.technician_ids[0])
    return _(
        "%(order)s moved: %(name)s, %(day)s.",
        order=order.order_number,
        name=lead.name if lead else "—",
        day=local_date(visit.scheduled_date, "%A %d %B"),
    )
