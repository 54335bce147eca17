"""Status taps held for an undo window: nothing of a tap happens before it closes.

A tap on the phone ("Started", "Completed", "On the way") is written as a
:class:`~app.platform.models.PendingVisitMove` with ``apply_at`` a few seconds ahead
(``VISIT_UNDO_SECONDS``) and nothing else: no status change, no partner
callback, no customer notice. Once the window has passed, :func:`apply_move`
(enqueued for that moment, and swept up by :func:`apply_due_moves` should the
job be lost) carries it out through :func:`app.orders.mobile.visits.apply_tap`, so the
status engine and its hooks run as for an immediate tap.

Undo and the job meet exactly once: each takes the row with one conditional
UPDATE on ``state`` (``pending`` → ``undone`` only before ``apply_at``,
``pending`` → ``applied`` only after it), and the job applies the tap in the
same transaction as its claim, so a failed apply leaves the move pending for
the next sweep. The row outlives the browser: closing the phone changes nothing.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app.orders.mobile.services import last_status_change, local_today
from app.orders.mobile.visits import TAP_LABELS, VisitActionRefused, apply_tap
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.i18n import language_of, select_locale
from app.platform.jobs.queues import get_queue
from app.platform.labels import label
from app.platform.models import Order, PendingVisitMove, User
from app.platform.models.orders import LOCK_TO_CHANGE
from app.platform.models.visits import APPLIED, PENDING, REFUSED, UNDONE
from app.platform.transactions import after_commit, commit

log = logging.getLogger(__name__)

APPLY_JOB = "app.orders.mobile.pending.apply_move"
# How long a finished move's outcome is still shown on its card.
OUTCOME_SHOWN = timedelta(minutes=10)
SWEEP_BATCH = 100


class MoveAlreadyWaiting(Exception):
    """The visit has a tap waiting out its undo window already."""


@dataclass(frozen=True)
class MoveState:
    """What a card shows about its visit's latest tap."""

    move_id: uuid.UUID
    tap: str
    state: str
    apply_at: datetime
    outcome: str | None

    @property
    def seconds_left(self) -> int:
        return max(int((self.apply_at - utcnow()).total_seconds() + 0.999), 0)


def undo_seconds() -> float:
    return float(current_app.config["VISIT_UNDO_SECONDS"])


def hold_tap(
    order: Order,
    technician: User,
    tap: str,
    expected_status: str,
    seconds: float,
    *,
    visit_number: int | None = None,
    return_purpose: str | None = None,
) -> PendingVisitMove:
    """Write the tap down to be applied in ``seconds`` and commit; its job is queued.

    ``visit_number`` is the visit the card showed: applied later, the tap still
    changes that visit or none (the order may have gone on to its next one).

    Raises :class:`MoveAlreadyWaiting` when another tap on the visit still waits
    (the partial unique index decides, not a look first).
    """
    move = PendingVisitMove(
        id=uuid.uuid4(),
        order_id=order.id,
        technician_id=technician.id,
        tap=tap,
        expected_status=expected_status,
        apply_at=utcnow() + timedelta(seconds=seconds),
        state=PENDING,
        language=select_locale() if has_request_context() else None,
        visit_number=visit_number,
        return_purpose=return_purpose,
    )
    db.session.add(move)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise MoveAlreadyWaiting from exc
    move_id = move.id
    after_commit(lambda: _enqueue_apply(move_id, seconds))
    commit()
    return move


def _enqueue_apply(move_id: uuid.UUID, delay: float) -> None:
    # A moment after the window closes, so the job never finds it still open.
    get_queue("default").enqueue_in(
        timedelta(seconds=delay + 0.5), APPLY_JOB, str(move_id), job_timeout=120
    )


def undo_move(move_id: uuid.UUID, technician: User) -> bool:
    """Call off the technician's waiting tap; False when its window has closed."""
    undone = db.session.execute(
        sa.update(PendingVisitMove)
        .where(
            PendingVisitMove.id == move_id,
            PendingVisitMove.technician_id == technician.id,
            PendingVisitMove.state == PENDING,
            PendingVisitMove.apply_at > utcnow(),
        )
        .values(state=UNDONE, finished_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    commit()
    return undone == 1


def apply_move(move_id: str) -> str | None:
    """Carry out one held tap once its window has passed; exactly once however called."""
    claimed = db.session.execute(
        sa.update(PendingVisitMove)
        .where(
            PendingVisitMove.id == uuid.UUID(move_id),
            PendingVisitMove.state == PENDING,
            PendingVisitMove.apply_at <= utcnow(),
        )
        .values(state=APPLIED, finished_at=utcnow(), updated_at=utcnow())
        .returning(
            PendingVisitMove.order_id,
            PendingVisitMove.technician_id,
            PendingVisitMove.tap,
            PendingVisitMove.expected_status,
            PendingVisitMove.language,
            PendingVisitMove.visit_number,
            PendingVisitMove.return_purpose,
        )
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:
        db.session.rollback()
        return None
    order_id, technician_id, tap, expected_status, language, visit_number, purpose = claimed
    order = db.session.get(Order, order_id, with_for_update=LOCK_TO_CHANGE)
    technician = db.session.get(User, technician_id)
    # Written now, outside the technician's request: the card's message (and
    # whatever the tap writes as it would have in their request) is in the
    # language of the page they tapped on, not the app's default.
    with force_locale(language or language_of(technician)):
        return _carry_out(
            move_id,
            order,
            technician,
            tap,
            expected_status,
            visit_number=visit_number,
            return_purpose=purpose,
        )


def _carry_out(
    move_id: str,
    order: Order,
    technician: User,
    tap: str,
    expected_status: str,
    *,
    visit_number: int | None = None,
    return_purpose: str | None = None,
) -> str:
    """Apply a claimed move in the open transaction and commit; REFUSED or APPLIED."""
    order_id = order.id
    try:
        if order.status.value != expected_status:
            raise VisitActionRefused(stale_refusal(order))
        outcome = apply_tap(
            order,
            technician,
            tap,
            local_today(),
            visit_number=visit_number,
            return_purpose=return_purpose,
        )
    except VisitActionRefused as exc:
        db.session.rollback()
        _finish(move_id, REFUSED, str(exc))
        log.info("held tap %s on order %s refused: %s", move_id, order_id, exc)
        return REFUSED
    notice = outcome.notice
    if outcome.customer_problem:
        notice += " " + _(
            "The customer was not told: %(problem)s", problem=outcome.customer_problem
        )
    _set_outcome(move_id, notice)
    # The claim, the status move, its hooks and the outcome commit together.
    commit()
    return APPLIED


def _set_outcome(move_id: str, outcome: str) -> None:
    db.session.execute(
        sa.update(PendingVisitMove)
        .where(PendingVisitMove.id == uuid.UUID(move_id))
        .values(outcome=outcome)
        .execution_options(synchronize_session=False)
    )


def _finish(move_id: str, state: str, outcome: str) -> None:
    """Mark a claimed move refused (its claim was rolled back with the refused apply)."""
    db.session.execute(
        sa.update(PendingVisitMove)
        .where(PendingVisitMove.id == uuid.UUID(move_id), PendingVisitMove.state == PENDING)
        .values(state=state, outcome=outcome, finished_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    commit()


def apply_due_moves() -> int:
    """Periodic sweep: apply every move whose window passed (its job may be lost)."""
    due = db.session.scalars(
        sa.select(PendingVisitMove.id)
        .where(PendingVisitMove.state == PENDING, PendingVisitMove.apply_at <= utcnow())
        .order_by(PendingVisitMove.apply_at)
        .limit(SWEEP_BATCH)
    ).all()
    db.session.rollback()
    return sum(1 for move_id in due if apply_move(str(move_id)) is not None)


def settle_due_move(order_id: uuid.UUID) -> str | None:
    """Carry out the visit's held tap now if its window has closed; None if none was due.

    The card the phone fetches when its countdown ends calls this, so the tap goes
    through then, not whenever a busy worker reaches its job (a periodic job of a
    minute ahead of it left "Started: saved in 0 s" on the card for 11 s and more).
    The job and the sweep still run for a phone that was closed; the claim in
    :func:`apply_move` lets only one of them carry it out.
    """
    due = db.session.scalar(
        sa.select(PendingVisitMove.id).where(
            PendingVisitMove.order_id == order_id,
            PendingVisitMove.state == PENDING,
            PendingVisitMove.apply_at <= utcnow(),
        )
    )
    db.session.rollback()
    return apply_move(str(due)) if due is not None else None


def waiting_move(order_id: uuid.UUID) -> PendingVisitMove | None:
    """The visit's tap still waiting to go through (its window open or just closed)."""
    return db.session.scalar(
        sa.select(PendingVisitMove).where(
            PendingVisitMove.order_id == order_id, PendingVisitMove.state == PENDING
        )
    )


def latest_moves(order_ids: list[uuid.UUID]) -> dict[uuid.UUID, MoveState]:
    """Each order's waiting tap, else its latest tap finished in the last minutes."""
    if not order_ids:
        return {}
    rows = db.session.scalars(
        sa.select(PendingVisitMove)
        .where(
            PendingVisitMove.order_id.in_(order_ids),
            sa.or_(
                PendingVisitMove.state == PENDING,
                sa.and_(
                    PendingVisitMove.state.in_((APPLIED, REFUSED)),
                    PendingVisitMove.finished_at > utcnow() - OUTCOME_SHOWN,
                ),
            ),
        )
        .order_by(PendingVisitMove.created_at)
    ).all()
    latest = {}
    for row in rows:
        latest[row.order_id] = MoveState(row.id, row.tap, row.state, row.apply_at, row.outcome)
    return latest


def stale_refusal(order: Order) -> str:
    """ "Not changed: the visit is already 'completed' (changed by Sarah at 14:20)."

    Who and when come from the status history (the move to the current status);
    a move by no person (a partner's API, an automation) gives only the time.
    """
    who, when = last_status_change(order)
    status = label(order.status, "order")
    if who and when:
        return _(
            "Not changed: the visit is already '%(status)s' (changed by %(name)s at %(time)s).",
            status=status,
            name=who,
            time=when,
        )
    if when:
        return _(
            "Not changed: the visit is already '%(status)s' (changed at %(time)s).",
            status=status,
            time=when,
        )
    return _("Not changed: the visit is already '%(status)s'.", status=status)


def still_waiting_refusal(move: PendingVisitMove) -> str:
    """Why a tap replayed from the offline queue is not done while an earlier one waits."""
    tap = TAP_LABELS.get(move.tap)
    return _(
        "Not changed: an earlier update of this visit (%(tap)s) is still waiting to go"
        " through; tap again once it has.",
        tap=str(tap) if tap else move.tap,
    )
