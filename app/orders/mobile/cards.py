"""The phone view's cards: each visit with what is shown and offered on it, and the day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from app.conversations.message_templates.visit_moment import TimeWindow
from app.orders.core.customer_photos import ReviewItem, review_items
from app.orders.core.visit_confirmations import confirmation_states
from app.orders.mobile.conversation import find_customer_thread, find_order_thread
from app.orders.mobile.pending import MoveState, latest_moves
from app.orders.mobile.quick_replies import (
    ETA_CHOICES,
    QuickReply,
    quick_replies_for,
    quick_reply_templates,
)
from app.orders.mobile.services import (
    access_note,
    maps_link,
    may_work_on,
    plan_change,
    plan_details,
    preference_lines,
    tasks_for,
    time_window,
    visit_line,
    visit_on,
    visits_for,
)
from app.orders.mobile.visits import available_taps, on_the_way_since, visit_started
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    CommunicationTemplate,
    CommunicationThread,
    InternalTask,
    Order,
    User,
)
from app.platform.models import Visit as VisitRow
from app.platform.models.enums import OrderStatus
from app.platform.models.visits import PENDING

# The visit is still ahead or under way: photos and messages to the customer
# belong to it. A completed (or cancelled, or put on hold) visit offers neither.
OPEN_VISIT = (OrderStatus.SCHEDULED, OrderStatus.IN_PROGRESS)


@dataclass
class Visit:
    order: Order
    # The order's visit this card is about (None for an order planned without
    # visit rows: its only visit is the order's day).
    row: VisitRow | None
    thread: CommunicationThread | None
    address: str | None
    maps_url: str | None
    access_note: str | None
    preferences: list[tuple[str, str]]
    taps: list[str]
    on_the_way_at: datetime | None
    may_act: bool
    # Scheduled or in progress: see OPEN_VISIT.
    is_open: bool = True
    window: TimeWindow | None = None
    quick_replies: list[QuickReply] = field(default_factory=list)
    # The latest tap: waiting out its undo window, or just applied / refused.
    move: MoveState | None = None
    # The technician's quick reply still held for Undo, if any.
    held_reply: CommunicationMessage | None = None
    eta_choices: tuple[int, ...] = ETA_CHOICES
    # The planner's: what to bring, notes, and "moved from …" after a change.
    materials: list[str] = field(default_factory=list)
    technician_notes: str | None = None
    plan_change: str | None = None
    # "Visit 2 of 2 · second day" for an order with more than one visit.
    visit_line: str | None = None
    # Not started yet ("on the way" is shown until it is).
    ahead: bool = False
    # This visit is done while its order goes on to a later one.
    done_before_order: bool = False
    # The customer's answer to the reminder the day before (confirmed, move_asked,
    # unconfirmed), or None (app.orders.core.visit_confirmations).
    confirmation: str | None = None
    # What the customer sent from their page before the visit (meter cupboard, …).
    customer_photos: list[ReviewItem] = field(default_factory=list)

    @property
    def waiting(self) -> MoveState | None:
        return self.move if self.move is not None and self.move.state == PENDING else None


@dataclass
class Day:
    day: date
    visits: list[Visit]
    tasks: list[InternalTask]


def build_visit(
    order: Order,
    technician: User,
    day: date,
    *,
    row: VisitRow | None = None,
    on_the_way_at: datetime | None,
    templates: list[CommunicationTemplate],
    move: MoveState | None = None,
) -> Visit:
    """One card for visit ``row`` of ``order``, from what the page looked up once for all cards."""
    address = order.installation_address.one_line() if order.installation_address else ""
    thread = find_order_thread(order)
    may_act = may_work_on(technician, order, row)
    waiting = move is not None and move.state == PENDING
    done = row is not None and row.completed_at is not None
    is_open = order.status in OPEN_VISIT and not done
    ahead = is_open and not visit_started(order, row)
    materials, technician_notes = plan_details(row)
    return Visit(
        order=order,
        row=row,
        thread=thread,
        address=address or None,
        maps_url=maps_link(address) if address else None,
        access_note=access_note(order),
        preferences=preference_lines(order),
        taps=available_taps(order, on_the_way_at, row) if may_act and not waiting else [],
        on_the_way_at=on_the_way_at,
        may_act=may_act,
        is_open=is_open,
        window=time_window(order, row),
        quick_replies=(
            quick_replies_for(order, find_customer_thread(order), technician, day, templates)
            if may_act and is_open
            else []
        ),
        move=move,
        held_reply=held_reply(thread, technician) if may_act else None,
        materials=materials,
        technician_notes=technician_notes,
        # "Newly planned" is news before the visit, not once it has started.
        plan_change=plan_change(row) if ahead else None,
        visit_line=visit_line(order, row),
        ahead=ahead,
        done_before_order=done and order.status != OrderStatus.COMPLETED,
        confirmation=confirmation_states([row]).get(row.id) if row is not None else None,
        customer_photos=[item for item in review_items(order) if item.photo is not None],
    )


def held_reply(thread: CommunicationThread | None, technician: User) -> CommunicationMessage | None:
    """The technician's latest reply on the thread still waiting out its Undo."""
    if thread is None:
        return None
    return db.session.scalar(
        sa.select(CommunicationMessage)
        .where(
            CommunicationMessage.thread_id == thread.id,
            CommunicationMessage.sender_user_id == technician.id,
            CommunicationMessage.send_held_until > utcnow(),
        )
        .order_by(CommunicationMessage.created_at.desc())
        .limit(1)
    )


def visit_card(order: Order, technician: User, day: date) -> Visit:
    """One visit card on its own (the answer to a tap on it): the order's visit on
    ``day`` that ``technician`` is on, else its current one."""
    return build_visit(
        order,
        technician,
        day,
        row=visit_on(order, technician.id, day),
        on_the_way_at=on_the_way_since([order.id], day).get(order.id),
        templates=quick_reply_templates(),
        move=latest_moves([order.id]).get(order.id),
    )


def technician_day(technician: User, day: date) -> Day:
    """Today's visits of ``technician`` as cards, and their tasks due today or overdue."""
    day_visits = visits_for(technician.id, day)
    templates = quick_reply_templates()
    order_ids = list(dict.fromkeys(item.order.id for item in day_visits))
    departed = on_the_way_since(order_ids, day)
    moves = latest_moves(order_ids)
    visits = [
        build_visit(
            item.order,
            technician,
            day,
            row=item.visit,
            on_the_way_at=departed.get(item.order.id),
            templates=templates,
            move=moves.get(item.order.id),
        )
        for item in day_visits
    ]
    return Day(day=day, visits=visits, tasks=tasks_for(technician.id, day))
