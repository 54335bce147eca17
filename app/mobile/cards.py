"""The phone view's cards: each visit with what is shown and offered on it, and the day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from app.mobile.conversation import find_order_thread
from app.mobile.quick_replies import QuickReply, quick_replies_for, quick_reply_templates
from app.mobile.services import access_note, maps_link, preference_lines, tasks_for, visits_for
from app.mobile.visits import available_taps, on_the_way_since
from app.models import CommunicationTemplate, CommunicationThread, InternalTask, Order, User
from app.orders.services import may_change_status


@dataclass
class Visit:
    order: Order
    thread: CommunicationThread | None
    address: str | None
    maps_url: str | None
    access_note: str | None
    preferences: list[tuple[str, str]]
    taps: list[str]
    on_the_way_at: datetime | None
    may_act: bool
    quick_replies: list[QuickReply] = field(default_factory=list)


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
    on_the_way_at: datetime | None,
    templates: list[CommunicationTemplate],
) -> Visit:
    """One visit card, from what the page looked up once for all cards."""
    address = order.installation_address.one_line() if order.installation_address else ""
    thread = find_order_thread(order)
    may_act = may_change_status(technician, order)
    return Visit(
        order=order,
        thread=thread,
        address=address or None,
        maps_url=maps_link(address) if address else None,
        access_note=access_note(order),
        preferences=preference_lines(order),
        taps=available_taps(order, on_the_way_at) if may_act else [],
        on_the_way_at=on_the_way_at,
        may_act=may_act,
        quick_replies=(
            quick_replies_for(order, thread, technician, day, templates) if may_act else []
        ),
    )


def visit_card(order: Order, technician: User, day: date) -> Visit:
    """One visit card on its own (the answer to a tap on it)."""
    return build_visit(
        order,
        technician,
        day,
        on_the_way_at=on_the_way_since([order.id], day).get(order.id),
        templates=quick_reply_templates(),
    )


def technician_day(technician: User, day: date) -> Day:
    """Today's visits of ``technician`` as cards, and their tasks due today or overdue."""
    orders = visits_for(technician.id, day)
    templates = quick_reply_templates()
    departed = on_the_way_since([order.id for order in orders], day)
    visits = [
        build_visit(
            order, technician, day, on_the_way_at=departed.get(order.id), templates=templates
        )
        for order in orders
    ]
    return Day(day=day, visits=visits, tasks=tasks_for(technician.id, day))
