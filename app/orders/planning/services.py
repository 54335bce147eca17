"""The visit plan's owner: plan, re-plan and take back an order's visit.

Every change names the plan version the planner saw. One conditional UPDATE
(``version = seen + 1 WHERE version = seen``; for a first plan, the INSERT
under ``visits``' unique order id) takes it, so of two planners saving at the
same moment one wins and the other is told the plan changed under them
(:class:`PlanChanged`) before anything else is written. What a change causes
is written in the same transaction, and goes out only if it commits:

- the order's status: ``approved`` → ``scheduled`` through the status engine
  (the partner's ``visit_scheduled``; back to ``approved`` when taken back);
- a moved visit of a scheduled order: the partner's ``visit_rescheduled``
  (:mod:`app.orders.planning.callbacks`), with reason ``customer`` when the
  customer moved it on their own page (``by_customer``);
- the customer's message: one :class:`~app.platform.models.VisitNotice` per plan version
  (unique), sent by a job queued after the commit (:mod:`app.orders.planning.notices`);
- :class:`~app.orders.core.planning.VisitPlanned`, published by ``plan_visit``: the
  technicians' push, and anything else that follows visits.

Nothing here commits; the caller commits with :func:`app.platform.transactions.commit`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, time

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.orders.core import visits as core_visits
from app.orders.core.planning import plan_visit
from app.orders.core.status_engine import change_entity_status
from app.orders.core.visits import MOVED_BY_CUSTOMER

# Handed on: the planning pages fill a new plan's materials from it.
from app.orders.core.visits import default_materials as default_materials
from app.orders.planning.callbacks import record_rescheduled, record_scheduled, record_taken_back
from app.orders.planning.rules import Problem, problems_with
from app.platform.database import hold_advisory_lock, utcnow
from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.labels import label
from app.platform.models import AuditLog, Order, User, Visit, VisitNotice, VisitTechnician
from app.platform.models.enums import OrderStatus
from app.platform.transactions import after_commit

PLANNABLE_STATUSES = (OrderStatus.APPROVED, OrderStatus.SCHEDULED)
# The status engine's hooks read this: the planning message replaces the
# customer's "installation planned" milestone notice (app.orders.core.milestones).
STATUS_CONTEXT = {"via": "planning", "customer_notice": "planning"}
PLANNED, MOVED, CANCELLED = "planned", "moved", "cancelled"


@dataclass(frozen=True)
class PlanRequest:
    """A planner's plan, checked for form (:mod:`app.orders.planning.forms`), not yet for fit."""

    day: date
    window_start: time
    window_end: time
    technician_ids: tuple[uuid.UUID, ...]  # the lead first
    duration_minutes: int
    materials: str | None
    technician_notes: str | None
    seen_version: int  # 0: the planner saw no plan
    override: bool = False
    # Which of the order's visits; None: its current one (its only one, mostly).
    visit_number: int | None = None


class PlanRefused(Exception):
    """The plan does not fit; ``problems`` say why (soft ones may be overridden)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems

    @property
    def only_soft(self) -> bool:
        return all(problem.soft for problem in self.problems)


class PlanChanged(Exception):
    """Someone else changed the plan since the planner loaded it.

    Its text is read when shown, not when raised: it is raised inside a failed
    transaction, where looking up the reader's language would fail too.
    """

    def __init__(self) -> None:
        super().__init__(
            _l("Someone else changed this plan in the meantime. Reload the page and try again.")
        )

    def __str__(self) -> str:
        return str(self.args[0])


def visit_of(order: Order, number: int | None = None) -> Visit | None:
    """Visit ``number`` of ``order``; without a number its current one (the first
    not completed, else the last); None when there is none yet."""
    if number is not None:
        return db.session.scalar(
            sa.select(Visit).where(Visit.order_id == order.id, Visit.number == number)
        )
    visits = db.session.scalars(
        sa.select(Visit).where(Visit.order_id == order.id).order_by(Visit.number)
    ).all()
    return next((v for v in visits if v.completed_at is None), visits[-1] if visits else None)


def current_number(order: Order) -> int:
    """The number of the order's current visit (1 before anyone planned)."""
    visit = visit_of(order)
    return visit.number if visit is not None else 1


def add_visit(order: Order, purpose: str, actor: User) -> Visit:
    """Give ``order`` one visit more, not yet planned (:func:`app.orders.core.visits.add_visit`);
    raises PlanRefused when the order is done or not plannable."""
    try:
        return core_visits.add_visit(order, purpose, actor)
    except core_visits.VisitNotAdded as exc:
        raise PlanRefused([Problem("status", str(exc))]) from exc


def save_plan(
    order: Order,
    plan: PlanRequest,
    actor: User | None,
    today: date,
    *,
    by_customer: bool = False,
) -> Visit:
    """Plan or re-plan one of ``order``'s visits; raises PlanChanged, PlanRefused.

    ``by_customer``: the customer moved their visit on their own page, so no one
    of ours is the ``actor`` (None). The visit stays their planner's (the message
    to the customer goes out in that planner's name, as every planning message
    does), and the history and the partner are told it was the customer.
    """
    if actor is None and not by_customer:
        raise ValueError("a plan is saved by a planner unless the customer moved it")
    if order.status not in (*PLANNABLE_STATUSES, OrderStatus.IN_PROGRESS):
        raise PlanRefused([_status_problem(order)])
    number = plan.visit_number or current_number(order)
    visit = _claim(order, plan.seen_version, number)
    _check_plannable(order, visit)
    _take_turns_on_days(plan)
    technicians = _technicians(plan.technician_ids)
    problems = problems_with(
        order, plan.day, (plan.window_start, plan.window_end), technicians, today
    )
    if any(not p.soft for p in problems) or (problems and not plan.override):
        raise PlanRefused(problems)
    was_planned = visit.scheduled_date is not None
    before_window = (visit.window_start, visit.window_end)
    before_crew = tuple(visit.technician_ids)
    before = (before_crew[0] if before_crew else None, visit.scheduled_date)
    moved = was_planned and (
        visit.scheduled_date != plan.day or before_window != (plan.window_start, plan.window_end)
    )
    if was_planned and visit.scheduled_date != plan.day:
        visit.previous_date = visit.scheduled_date
    elif not was_planned:
        visit.previous_date = None
    visit.scheduled_date = plan.day
    visit.window_start, visit.window_end = plan.window_start, plan.window_end
    visit.duration_minutes = plan.duration_minutes
    visit.materials = plan.materials
    visit.technician_notes = plan.technician_notes
    visit.planned_at = utcnow()
    if actor is not None:
        visit.planned_by_user_id = actor.id
    is_current = _is_current(order, visit)
    _set_crew(visit, plan.technician_ids)
    plan_visit(
        order,
        technician_id=plan.technician_ids[0],
        scheduled_date=plan.day,
        window=(plan.window_start, plan.window_end),
        previous_window=before_window,
        technician_ids=tuple(plan.technician_ids),
        previous_technician_ids=before_crew,
        plan_version=visit.version,
        visit_number=visit.number,
        previous=None if is_current else before,
    )
    # The partner's callback reads the plan through the order: not the one loaded before.
    db.session.flush()
    db.session.expire(order, ["visits"])
    if order.status == OrderStatus.APPROVED and is_current:
        change_entity_status(
            order, OrderStatus.SCHEDULED, _reason(plan), dict(STATUS_CONTEXT), actor
        )
    elif moved:
        record_rescheduled(order, visit, by_customer=by_customer)
    elif not was_planned:
        # A later visit planned: the order's status stays, the partner hears of it.
        record_scheduled(order, visit)
    if not was_planned or moved:
        _queue_notice(visit, MOVED if moved else PLANNED, actor)
    _audit(order, visit, actor, MOVED_BY_CUSTOMER if by_customer else "VISIT_PLANNED")
    return visit


def _take_turns_on_days(plan: PlanRequest) -> None:
    """Two planners booking one technician on one day for two orders would each
    miss the other's visit in the double-booking check: they take turns per
    technician and day (in one order of keys, so two crews cannot deadlock)."""
    for technician_id in sorted(str(t) for t in plan.technician_ids):
        hold_advisory_lock(db.session, f"technician-day:{technician_id}:{plan.day.isoformat()}")


def cancel_plan(order: Order, seen_version: int, actor: User, number: int | None = None) -> Visit:
    """Take back one of ``order``'s visits (its current one without ``number``): no
    day, no technicians; the order back to approved when it was its current visit."""
    number = number or current_number(order)
    visit = _claim(order, seen_version, number)
    if visit.scheduled_date is None:
        return visit
    _check_plannable(order, visit)
    is_current = _is_current(order, visit)
    before = (visit.technician_ids[0] if visit.crew else None, visit.scheduled_date)
    before_window = (visit.window_start, visit.window_end)
    before_crew = tuple(visit.technician_ids)
    visit.previous_date = visit.scheduled_date
    visit.scheduled_date = None
    visit.window_start = visit.window_end = None
    visit.planned_at = utcnow()
    visit.planned_by_user_id = actor.id
    _set_crew(visit, ())
    plan_visit(
        order,
        technician_id=None,
        scheduled_date=None,
        window=(None, None),
        previous_window=before_window,
        technician_ids=(),
        previous_technician_ids=before_crew,
        cancelled=True,
        plan_version=visit.version,
        visit_number=visit.number,
        previous=None if is_current else before,
    )
    db.session.flush()
    db.session.expire(order, ["visits"])
    if order.status == OrderStatus.SCHEDULED and is_current:
        change_entity_status(
            order, OrderStatus.APPROVED, "Visit taken back", dict(STATUS_CONTEXT), actor
        )
    else:
        record_taken_back(order, visit)
    _queue_notice(visit, CANCELLED, actor)
    _audit(order, visit, actor, "VISIT_CANCELLED")
    return visit


def _check_plannable(order: Order, visit: Visit) -> None:
    """Approved and scheduled orders are planned; an order under way only its
    visits not yet started (a second day, a return visit). A visit done is done."""
    if visit.completed_at is not None:
        raise PlanRefused([_done_problem(visit)])
    if order.status in PLANNABLE_STATUSES:
        return
    if order.status == OrderStatus.IN_PROGRESS and not begun(order, visit):
        return
    raise PlanRefused([_status_problem(order)])


def begun(order: Order, visit: Visit) -> bool:
    """Whether the technician has started ``visit``. An order under way has at least
    begun its first visit, however it came to be under way (a status set by hand)."""
    if visit.started_at is not None or visit.completed_at is not None:
        return True
    return visit.number == 1 and order.status in (OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)


def _is_current(order: Order, visit: Visit) -> bool:
    current = visit_of(order)
    return current is None or current.id == visit.id


def _claim(order: Order, seen_version: int, number: int = 1) -> Visit:
    """Visit ``number`` of the order, its version taken from ``seen_version`` to the next one.

    On PostgreSQL a second planner's UPDATE (or INSERT) waits for the first
    one's transaction, then finds the version gone (or the (order, number) taken).
    """
    if number != 1 and visit_of(order, number) is None:
        # A later visit is added first (add_visit); a number no visit has is a
        # damaged form, never a new row.
        raise PlanRefused([Problem("visit", _("Visit: no such visit of this order"))])
    if seen_version == 0:
        visit = Visit(order_id=order.id, number=number, version=1)
        db.session.add(visit)
        try:
            # No savepoint: the caller rolls the whole change back on PlanChanged
            # (and SQLite would commit a savepoint opened outside a transaction).
            db.session.flush()
        except sa.exc.IntegrityError as exc:  # someone planned it first
            raise PlanChanged() from exc
        return visit
    taken = db.session.execute(
        sa.update(Visit)
        .where(Visit.order_id == order.id, Visit.number == number, Visit.version == seen_version)
        .values(version=seen_version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise PlanChanged()
    visit = visit_of(order, number)
    db.session.refresh(visit)
    return visit


def _technicians(ids: tuple[uuid.UUID, ...]) -> list[User]:
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}
    return [users[i] for i in ids if i in users]


def _set_crew(visit: Visit, technician_ids: tuple[uuid.UUID, ...]) -> None:
    # Changed in place: deleting and re-adding a kept technician would break the
    # unique (visit, technician) inside one flush.
    wanted = list(dict.fromkeys(technician_ids))
    for member in list(visit.crew):
        if member.technician_id not in wanted:
            visit.crew.remove(member)
    present = {member.technician_id: member for member in visit.crew}
    for position, technician_id in enumerate(wanted):
        member = present.get(technician_id)
        if member is None:
            member = VisitTechnician(technician_id=technician_id)
            visit.crew.append(member)
        member.is_lead = position == 0


def _queue_notice(visit: Visit, kind: str, actor: User | None) -> None:
    # The message's author: the actor, or for the customer's own move their planner.
    author_id = actor.id if actor is not None else visit.planned_by_user_id
    notice = VisitNotice(
        visit_id=visit.id, version=visit.version, kind=kind, actor_user_id=author_id
    )
    db.session.add(notice)
    db.session.flush()
    notice_id = str(notice.id)
    after_commit(lambda: enqueue("app.orders.planning.notices.send_visit_notice", notice_id))


def _reason(plan: PlanRequest) -> str:
    window = f"{plan.window_start:%H:%M}-{plan.window_end:%H:%M}"
    return f"Visit planned for {plan.day:%d-%m-%Y} {window}"


def _done_problem(visit: Visit) -> Problem:
    return Problem(
        "status", _("Visit %(number)s is done; it cannot be planned again.", number=visit.number)
    )


def _status_problem(order: Order) -> Problem:
    return Problem(
        "status",
        _(
            "Only approved or scheduled orders can be planned; this order is %(status)s.",
            status=label(order.status, "order"),
        ),
    )


def _audit(order: Order, visit: Visit, actor: User | None, action: str) -> None:
    db.session.add(
        AuditLog(
            table_name="orders",
            record_id=order.id,
            action=action,
            changed_by_user_id=actor.id if actor is not None else None,
            changes={
                "visit": visit.number,
                "version": visit.version,
                "date": visit.scheduled_date.isoformat() if visit.scheduled_date else None,
                "window": visit.window_text,
                "technician_ids": [str(i) for i in visit.technician_ids],
            },
        )
    )
