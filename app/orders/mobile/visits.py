"""One-tap visit updates: on the way, started, completed.

"Started" and "Completed" are order statuses and go through the status engine,
so its hooks follow in the same transaction (the partner's signed callback,
Make.com scenarios, commissions, the customer's milestone notice). A visit
still ``scheduled`` when "Completed" is tapped passes through ``in_progress``
first, as the lifecycle requires; a partner hears both moves.

"On the way" is no order status. It is kept as a visit event: a system line on
the order's conversation, an ``AuditLog`` row (``VISIT_ON_THE_WAY``), and a
message to the customer through the normal send path
(:func:`app.conversations.workspace.services.compose_reply`): the active template named
``technician_on_the_way`` (by template name or approved WhatsApp name) when
there is one, else a short Dutch text, either with the customer's link to
their order's page, which shows the expected arrival. Each channel the customer can be reached
on is tried in turn, so a closed WhatsApp window falls back to e-mail; when
none can carry it the event is still recorded and the technician is told why.
It counts once per visit day: the message is claimed in the database first
(:mod:`app.orders.core.visit_notices`), so a second tap, an offline replay, a held
tap applied by another worker, a quick reply or the JSON API sending the same
template never tells the customer twice.

Nothing here commits; the caller commits with :func:`app.platform.transactions.commit`
so what the hooks queued goes out only after the commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.orders.core.customer_links import customer_link_url
from app.orders.core.status_engine import IllegalTransition, change_entity_status
from app.orders.core.visit_notices import (
    ON_THE_WAY_TEMPLATE,
    claim_visit_notice,
    record_notice_message,
)
from app.orders.core.visits import VisitNotAdded, add_visit, finish_visit
from app.orders.mobile.conversation import (
    active_template,
    customer_thread,
    no_customer_thread_reason,
    order_thread,
    record_visit_event,
    tell_customer,
)
from app.orders.mobile.services import AMSTERDAM
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.labels import label
from app.platform.models import AuditLog, CommunicationMessage, Order, User, Visit
from app.platform.models.enums import OrderStatus
from app.platform.models.planning import VISIT_PURPOSES
from app.platform.system_texts import label as system_label
from app.platform.system_texts import text

ON_THE_WAY, STARTED, COMPLETED = "on_the_way", "started", "completed"
TAPS = (ON_THE_WAY, STARTED, COMPLETED)
TAP_LABELS = {ON_THE_WAY: _l("On the way"), STARTED: _l("Started"), COMPLETED: _l("Completed")}
ON_THE_WAY_ACTION = "VISIT_ON_THE_WAY"
DEFAULT_ON_THE_WAY_TEXT = (
    "Goedendag {name}, onze monteur {technician} is nu onderweg naar u voor de installatie "
    "van order {order}. Wanneer de monteur ongeveer aankomt, ziet u hier: {link}\n\n"
    "Tot zo! Groet, ChargeCars"
)
CONTEXT = {"via": "mobile"}
# What the order's partner reads about a tap's move (in the partner API's
# English); the technician's name and what they typed stay with us.
PARTNER_NOTES = {
    OrderStatus.IN_PROGRESS: "Installation started",
    OrderStatus.COMPLETED: "Installation completed",
}


class VisitActionRefused(Exception):
    """The tap does not fit where the visit stands; the message says why."""


@dataclass
class VisitOutcome:
    notice: str
    # Why the customer was not told, when they should have been.
    customer_problem: str | None = None


def visit_started(order: Order, visit: Visit | None) -> bool:
    """Whether the visit's work has begun: its start tapped, or (a first visit, or an
    order without visit rows) its order under way, as before visits kept their own."""
    if visit is not None and visit.started_at is not None:
        return True
    first = visit is None or visit.number == 1
    return first and order.status in (OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)


def is_current(order: Order, visit: Visit | None) -> bool:
    """Whether ``visit`` is the one its order is at (the first not completed)."""
    current = order.visit
    return visit is None or (current is not None and current.id == visit.id)


def available_taps(
    order: Order, on_the_way_at: datetime | None, visit: Visit | None = None
) -> list[str]:
    """The taps that make sense now on the card of ``visit``, for the buttons shown.

    A visit done, or one after a visit not yet done, offers none; a later visit of
    an order under way (its second day) starts as a first one does.
    """
    if visit is not None and (visit.completed_at is not None or not is_current(order, visit)):
        return []
    ahead = order.status == OrderStatus.SCHEDULED or (
        order.status == OrderStatus.IN_PROGRESS and not visit_started(order, visit)
    )
    if ahead:
        return [ON_THE_WAY, STARTED, COMPLETED] if on_the_way_at is None else [STARTED, COMPLETED]
    if order.status == OrderStatus.IN_PROGRESS:
        return [COMPLETED]
    return []


def needs_confirmation(order: Order, tap: str) -> bool:
    """ "Completed" is asked about first: it tells the partner and the customer, and
    from ``scheduled`` it skips "Started" as well."""
    return tap == COMPLETED and order.status in (OrderStatus.SCHEDULED, OrderStatus.IN_PROGRESS)


def apply_tap(
    order: Order,
    actor: User,
    tap: str,
    day: date,
    *,
    visit_number: int | None = None,
    return_purpose: str | None = None,
) -> VisitOutcome:
    """Carry out one tap on ``order`` (locked by the caller); raises VisitActionRefused.

    ``visit_number`` is the visit the card showed (None: the order's current one);
    ``return_purpose`` a "Completed" that needs a return visit, and why.
    """
    visit = visit_to_change(order, visit_number)
    if tap == ON_THE_WAY:
        return mark_on_the_way(order, actor, day, visit)
    if tap == STARTED:
        return start_visit(order, actor, visit)
    if tap == COMPLETED:
        return complete_visit(order, actor, visit, return_purpose)
    choices = ", ".join(str(tap_label) for tap_label in TAP_LABELS.values())
    raise VisitActionRefused(_("Unknown update; choose one of %(choices)s.", choices=choices))


def visit_to_change(order: Order, number: int | None) -> Visit | None:
    """The visit a tap is about: number ``number`` (the order's current one without),
    refused when it is done or an earlier one is not."""
    if number is None:
        return order.visit
    visit = next((v for v in order.visits if v.number == number), None)
    if visit is None:
        raise VisitActionRefused(
            _("%(order)s has no visit %(number)s.", order=order.order_number, number=number)
        )
    if visit.completed_at is not None:
        raise VisitActionRefused(
            _(
                "Not changed: visit %(number)s of %(order)s is already completed.",
                number=number,
                order=order.order_number,
            )
        )
    if not is_current(order, visit):
        raise VisitActionRefused(
            _(
                "Not changed: visit %(earlier)s of %(order)s is not completed yet.",
                earlier=order.visit.number,
                order=order.order_number,
            )
        )
    return visit


def start_visit(order: Order, actor: User, visit: Visit | None = None) -> VisitOutcome:
    """The visit begins: the order goes under way at its first visit's start; a later
    visit's start (a second day) changes no status and tells no partner."""
    if order.status == OrderStatus.IN_PROGRESS and visit_started(order, visit):
        raise VisitActionRefused(_refusal(order, STARTED, order.status))
    if order.status != OrderStatus.IN_PROGRESS:
        _move(order, OrderStatus.IN_PROGRESS, actor, STARTED, "Visit started on site")
    if visit is not None:
        visit.started_at = visit.started_at or utcnow()
    record_visit_event(
        order_thread(order), order, actor, STARTED, text("visit.started", actor=actor.name)
    )
    return VisitOutcome(_("%(order)s: visit started.", order=order.order_number))


def complete_visit(
    order: Order, actor: User, visit: Visit | None = None, return_purpose: str | None = None
) -> VisitOutcome:
    """The visit is done. The order completes with its last visit; before a later one
    (planned already, or the return visit asked for here, not yet planned) it stays
    under way, its day and technician become that visit's and the partner hears
    ``visit_completed``."""
    if order.status not in (OrderStatus.SCHEDULED, OrderStatus.IN_PROGRESS):
        raise VisitActionRefused(_refusal(order, COMPLETED, order.status))
    if return_purpose is not None:
        visit = _add_return_visit(order, actor, visit, return_purpose)
    if order.status == OrderStatus.SCHEDULED:
        _move(order, OrderStatus.IN_PROGRESS, actor, COMPLETED, "Visit started on site")
    following = finish_visit(order, visit) if visit is not None else None
    if following is None:
        _move(order, OrderStatus.COMPLETED, actor, COMPLETED, "Visit completed on site")
        line = text("visit.completed", actor=actor.name)
        notice = _("%(order)s: visit completed.", order=order.order_number)
    elif return_purpose is not None:
        line = text(
            "visit.completed_return",
            actor=actor.name,
            number=visit.number,
            purpose=system_label("visit_purpose", return_purpose),
        )
        notice = _(
            "%(order)s: visit %(number)s completed; the planner will plan the return visit.",
            order=order.order_number,
            number=visit.number,
        )
    else:
        line = text(
            "visit.completed_one", actor=actor.name, number=visit.number, next=following.number
        )
        notice = _(
            "%(order)s: visit %(number)s completed; the order goes on with visit %(next)s.",
            order=order.order_number,
            number=visit.number,
            next=following.number,
        )
    record_visit_event(order_thread(order), order, actor, COMPLETED, line)
    return VisitOutcome(notice)


def _add_return_visit(order: Order, actor: User, visit: Visit | None, purpose: str) -> Visit | None:
    """Add the unplanned visit the technician asks for; the visit being completed (the
    first one, made now, for an order planned without visit rows)."""
    if purpose not in VISIT_PURPOSES:
        raise VisitActionRefused(_("Choose why a return visit is needed."))
    try:
        add_visit(order, purpose, actor)
    except VisitNotAdded as exc:
        raise VisitActionRefused(
            _(
                "No return visit added to %(order)s: %(problem)s",
                order=order.order_number,
                problem=exc,
            )
        ) from exc
    return visit if visit is not None else order.visit


def _refusal(order: Order, tap: str, status: OrderStatus) -> str:
    return _(
        "Can't mark %(order)s %(tap)s: the order is %(status)s.",
        order=order.order_number,
        tap=str(TAP_LABELS[tap]).lower(),
        status=label(status, "order"),
    )


def _move(order: Order, to_status: OrderStatus, actor: User, tap: str, reason: str) -> None:
    try:
        change_entity_status(
            order, to_status, reason, CONTEXT, actor, partner_note=PARTNER_NOTES.get(to_status)
        )
    except IllegalTransition as exc:
        raise VisitActionRefused(_refusal(order, tap, exc.from_status)) from exc


def on_the_way_since(order_ids: list[uuid.UUID], day: date) -> dict[uuid.UUID, datetime]:
    """When each order's technician set off on ``day`` (order id → time), if they did."""
    if not order_ids:
        return {}
    start = datetime.combine(day, time.min, AMSTERDAM)
    rows = db.session.execute(
        sa.select(AuditLog.record_id, sa.func.min(AuditLog.created_at))
        .where(
            AuditLog.table_name == "orders",
            AuditLog.action == ON_THE_WAY_ACTION,
            AuditLog.record_id.in_(order_ids),
            AuditLog.created_at >= start,
        )
        .group_by(AuditLog.record_id)
    ).all()
    return dict(rows)


def mark_on_the_way(
    order: Order, actor: User, day: date, visit: Visit | None = None
) -> VisitOutcome:
    # Before the visit starts: the first (the order scheduled) or a later one (a
    # second day of an order under way).
    ahead = order.status == OrderStatus.IN_PROGRESS and not visit_started(order, visit)
    if order.status != OrderStatus.SCHEDULED and not ahead:
        raise VisitActionRefused(
            _(
                "Can't mark %(order)s on the way: the order is %(status)s, not scheduled.",
                order=order.order_number,
                status=label(order.status, "order"),
            )
        )
    # The claim, not a look at earlier taps, decides: a second tap, its offline
    # replay or a held tap another worker applies finds the row taken.
    notice_id = claim_visit_notice(order.id, day, ON_THE_WAY)
    if notice_id is None and on_the_way_since([order.id], day):
        return VisitOutcome(
            _("%(order)s: already marked on the way today.", order=order.order_number)
        )
    thread = order_thread(order)
    if notice_id is None:
        # A quick reply or the JSON API told the customer already: the tap is
        # still recorded, so the card moves on, but nothing is sent again.
        message, channel_name, problem = None, None, None
        line = text("visit.on_the_way_already_told", actor=actor.name)
    else:
        message, channel_name, problem = _tell_customer(order, customer_thread(order), actor)
        if message:
            record_notice_message(notice_id, message.id)
            line = text("visit.on_the_way_told", actor=actor.name, channel=channel_name)
        else:
            line = text("visit.on_the_way_not_told", actor=actor.name, problem=problem)
    record_visit_event(thread, order, actor, ON_THE_WAY, line)
    db.session.add(
        AuditLog(
            table_name="orders",
            record_id=order.id,
            action=ON_THE_WAY_ACTION,
            changed_by_user_id=actor.id,
            changes={
                "event": ON_THE_WAY,
                "thread_id": str(thread.id),
                "customer_message_id": str(message.id) if message else None,
                "customer_not_told": problem,
            },
        )
    )
    db.session.flush()
    if message:
        notice = _(
            "%(order)s: on the way, customer told by %(channel)s.",
            order=order.order_number,
            channel=channel_name,
        )
    elif notice_id is None:
        notice = _(
            "%(order)s: on the way; the customer was told so today already.",
            order=order.order_number,
        )
    else:
        notice = _("%(order)s: on the way.", order=order.order_number)
    return VisitOutcome(notice, customer_problem=problem)


def _tell_customer(
    order: Order, thread, actor: User
) -> tuple[CommunicationMessage | None, str | None, str | None]:
    """Send the on-the-way message on the first channel that can carry it, in the
    conversation with the visit's customer (``thread``; None when there is none:
    nothing is sent, and the visit's record says why)."""
    if thread is None:
        return None, None, no_customer_thread_reason(order)
    contact = thread.contact
    link = customer_link_url(order)
    text = DEFAULT_ON_THE_WAY_TEXT.format(
        name=(contact.first_name or contact.display_name) if contact else "",
        technician=actor.name,
        order=order.order_number,
        link=link,
    )
    message, channel, problem = tell_customer(
        thread,
        actor,
        template=active_template(ON_THE_WAY_TEMPLATE),
        text=text,
        subject=f"Uw monteur is onderweg ({order.order_number})",
        variables={
            "technician_name": actor.name,
            "technician_phone": actor.phone or "",
            "customer_link": link,
        },
    )
    return message, channel.channel_name if channel else None, problem
