"""The planning core: propose a month's visits, or the best slots for one more.

Plain values in, plain values out (:mod:`.model`); no Flask, no database. Travel comes
from the ``matrix_for`` the caller passes (a :class:`~app.orders.planning.travel.TravelMatrix`
of the places it is given); the routes from VROOM (:mod:`.search`).
"""

from app.orders.planning.routing.insertion import cheapest_insertion
from app.orders.planning.routing.model import (
    NO_PLACE,
    NO_SECOND_TECHNICIAN,
    NO_SKILL,
    NO_TIME,
    REASONS,
    TIME_LIMIT,
    Job,
    Pinned,
    Proposal,
    ProposedVisit,
    Shift,
    Slot,
    planned_jobs,
)
from app.orders.planning.routing.solver import propose

__all__ = [
    "NO_PLACE",
    "NO_SECOND_TECHNICIAN",
    "NO_SKILL",
    "NO_TIME",
    "REASONS",
    "TIME_LIMIT",
    "Job",
    "Pinned",
    "Proposal",
    "ProposedVisit",
    "Shift",
    "Slot",
    "cheapest_insertion",
    "planned_jobs",
    "propose",
]
