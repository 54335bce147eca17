"""Making a proposal: a planner asks, a job solves, the board shows it.

:func:`request_proposal` writes a queued :class:`~app.platform.models.PlanProposal`
and queues :func:`make_proposal` once it commits. The job claims the proposal with
a conditional UPDATE (queued, or running under a heartbeat older than
``PLANNING_LEASE_SECONDS``: its worker died), so a job delivered twice solves once
and a job lost with its worker is taken over by the next one asked. Its steps
commit their progress as they go; the visits are written in the same transaction
that marks the proposal ready, under the claim token, so a worker that lost its
claim writes nothing.
"""

from __future__ import annotations

import logging
import time as clock
import uuid
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app

from app.orders.mobile.services import local_today
from app.orders.planning.proposals.gathering import PlanningInput, planning_input, visit_of_key
from app.orders.planning.routing import propose
from app.orders.planning.routing.solver import plan_greedily
from app.orders.planning.travel import travel_matrix
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.models import PlanProposal, ProposalVisit, User
from app.platform.transactions import after_commit, commit

log = logging.getLogger(__name__)
MAKE_PROPOSAL = "app.orders.planning.proposals.making.make_proposal"
# Steps and the progress each starts at; solving runs from 30 to 90 by the clock.
GATHERING, TRAVEL, SOLVING, COMPARING, SAVING = (
    "gathering",
    "travel",
    "solving",
    "comparing",
    "saving",
)
STARTS_AT = {GATHERING: 5, TRAVEL: 15, SOLVING: 30, COMPARING: 90, SAVING: 95}
ACTIVE = ("queued", "running")


class ClaimLost(Exception):
    """Another worker took the proposal over: this one stops without writing."""


def request_proposal(first: date, last: date, free_planned: bool, actor: User) -> PlanProposal:
    """A queued proposal for ``first``..``last``, its job queued once the caller commits."""
    proposal = PlanProposal(
        first_day=first,
        last_day=last,
        freed_planned=free_planned,
        status="queued",
        progress=0,
        requested_by_user_id=actor.id,
    )
    db.session.add(proposal)
    db.session.flush()
    proposal_id = str(proposal.id)
    after_commit(lambda: enqueue(MAKE_PROPOSAL, proposal_id))
    return proposal


def proposal_days(monday: date, today: date) -> tuple[date, date]:
    """The days a proposal for the board's week covers unless the planner says otherwise:
    from today (or the week's Monday) to the Friday of the week after, two working weeks,
    since customers ask for dates a week or two ahead."""
    first = max(monday, today)
    if first > monday + timedelta(days=4):  # the week's working days are over
        monday += timedelta(days=7)
        first = monday
    return first, monday + timedelta(days=11)


def find_proposal(proposal_id: uuid.UUID | None) -> PlanProposal | None:
    return db.session.get(PlanProposal, proposal_id) if proposal_id else None


def stuck(proposal: PlanProposal) -> bool:
    """Whether a running proposal's worker stopped answering (it is asked again)."""
    if proposal.status != "running" or proposal.heartbeat_at is None:
        return proposal.status == "queued" and proposal.created_at < utcnow() - _lease()
    return proposal.heartbeat_at < utcnow() - _lease()


def ask_again(proposal: PlanProposal) -> None:
    """Queue the job once more for a proposal whose worker went away."""
    proposal_id = str(proposal.id)
    after_commit(lambda: enqueue(MAKE_PROPOSAL, proposal_id))


def make_proposal(proposal_id: str) -> None:
    """The job: solve proposal ``proposal_id`` and keep its visits (see the module docstring)."""
    token = _claim(uuid.UUID(proposal_id))
    if token is None:
        return
    proposal = db.session.get(PlanProposal, uuid.UUID(proposal_id))
    try:
        _make(proposal, token)
    except ClaimLost:
        db.session.rollback()
        log.warning("proposal %s was taken over by another worker", proposal_id)
    except Exception as exc:
        db.session.rollback()
        log.exception("proposal %s failed", proposal_id)
        _fail(proposal.id, token, f"unexpected error ({type(exc).__name__})")


def _make(proposal: PlanProposal, token: uuid.UUID) -> None:
    config = current_app.config
    _step(proposal.id, token, GATHERING)
    asked = planning_input(
        proposal.first_day, proposal.last_day, local_today(), proposal.freed_planned
    )
    _step(proposal.id, token, TRAVEL)
    day = asked.days[0] if asked.days else proposal.first_day
    legs = {}

    def matrix_for(places):
        # One matrix per set of places: the solver and the comparison ask the same.
        key = tuple(sorted({place.key for place in places}))
        if key not in legs:
            legs[key] = travel_matrix(places, day)
        return legs[key]

    seconds = float(config["PLANNING_SOLVE_SECONDS"])
    _step(proposal.id, token, SOLVING, solve_seconds=seconds)
    started = clock.monotonic()
    solved = propose(asked.jobs, asked.shifts, matrix_for, time_limit_seconds=seconds)
    _step(proposal.id, token, COMPARING)
    by_hand = plan_greedily(asked.jobs, asked.shifts, matrix_for)
    _step(proposal.id, token, SAVING)
    _keep(proposal, token, asked, solved, by_hand, clock.monotonic() - started)


def _keep(proposal, token, asked: PlanningInput, solved, by_hand, seconds: float) -> None:
    """The visits and figures, written with the proposal marked ready, under the claim."""
    free = {job.key: job for job in asked.free_jobs}
    new_visits = [visit for visit in solved.visits if visit.job_key in free]
    planned_by_hand = sum(1 for visit in by_hand.visits if visit.job_key in free)
    unplanned = {**asked.set_aside, **{k: v for k, v in solved.unplanned.items() if k in free}}
    for visit in new_visits:
        job = free[visit.job_key]
        order_id, number = visit_of_key(visit.job_key)
        db.session.add(
            ProposalVisit(
                proposal_id=proposal.id,
                order_id=order_id,
                visit_number=number,
                technician_ids=[str(t) for t in visit.technician_ids],
                day=visit.day,
                window_start=visit.start,
                window_end=visit.end,
                duration_minutes=job.duration_minutes,
                drive_minutes=visit.drive_minutes_before,
                seen_version=asked.versions.get(visit.job_key, 0),
                was_day=asked.was_day.get(visit.job_key),
            )
        )
    summary = {
        "orders": len(free) + len(asked.set_aside),
        "planned": len(new_visits),
        "travel_minutes": solved.travel_minutes,
        "travel_km": round(solved.travel_km, 1),
        "by_hand_planned": planned_by_hand,
        "by_hand_travel_minutes": by_hand.travel_minutes,
        "unplanned": unplanned,
        "solve_seconds": round(seconds, 1),
    }
    finished = db.session.execute(
        sa.update(PlanProposal)
        .where(PlanProposal.id == proposal.id, PlanProposal.claim_token == token)
        .values(
            status="ready",
            progress=100,
            step=None,
            summary=summary,
            finished_at=utcnow(),
            heartbeat_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if finished != 1:
        raise ClaimLost()
    commit()
    log.info("proposal %s ready: %d visits proposed", proposal.id, len(new_visits))


def _claim(proposal_id: uuid.UUID) -> uuid.UUID | None:
    token = uuid.uuid4()
    taken = db.session.execute(
        sa.update(PlanProposal)
        .where(
            PlanProposal.id == proposal_id,
            sa.or_(
                PlanProposal.status == "queued",
                sa.and_(
                    PlanProposal.status == "running",
                    PlanProposal.heartbeat_at < utcnow() - _lease(),
                ),
            ),
        )
        .values(status="running", claim_token=token, heartbeat_at=utcnow(), progress=0)
        .execution_options(synchronize_session=False)
    ).rowcount
    commit()
    return token if taken == 1 else None


def _step(proposal_id, token, step: str, solve_seconds: float | None = None) -> None:
    values = {"step": step, "progress": STARTS_AT[step], "heartbeat_at": utcnow()}
    if solve_seconds is not None:
        # The solver answers nothing while it searches: the page moves the bar by the
        # clock, to this moment, and a heartbeat this far ahead keeps the claim.
        values["heartbeat_at"] = utcnow() + timedelta(seconds=solve_seconds)
    changed = db.session.execute(
        sa.update(PlanProposal)
        .where(PlanProposal.id == proposal_id, PlanProposal.claim_token == token)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    commit()
    if changed != 1:
        raise ClaimLost()


def _fail(proposal_id, token, error: str) -> None:
    db.session.execute(
        sa.update(PlanProposal)
        .where(PlanProposal.id == proposal_id, PlanProposal.claim_token == token)
        .values(status="failed", error=error[:500], finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    commit()


def _lease() -> timedelta:
    return timedelta(seconds=float(current_app.config["PLANNING_LEASE_SECONDS"]))
