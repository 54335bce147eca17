"""What the customer's page shows of their order: only what they need, in their words.

The order number, its stage in plain words, the current (or next) visit's day,
window and technician's first name, what to prepare, the technician's expected
arrival once they are on the way, and, once done, the signed report's summary.
Never prices, internal notes, the partner, other customers or anyone's
surname and phone. Every text is in the page's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from babel.dates import format_date, format_time
from flask_babel import lazy_gettext as _l

from app.conversations.message_templates.visit_moment import further_visit_name
from app.orders.customer_page.arrival import Arrival, arrival
from app.orders.customer_page.confirming import confirm_state
from app.orders.customer_page.preparation import Preparation, preparations_for
from app.orders.mobile.services import AMSTERDAM, local_today
from app.orders.mobile.visits import visit_started
from app.platform.extensions import db
from app.platform.models import Order, User, Visit, VisitSignature
from app.platform.models.enums import OrderStatus

# How often the page asks again while the technician is on the way.
REFRESH_SECONDS = 45

# The stages a customer follows, in order; "on_hold" and "cancelled" stand apart.
STEPS = ("received", "scheduled", "on_the_way", "installed")
STAGE_WORDS = {
    "received": _l("Received"),
    "scheduling": _l("Being scheduled"),
    "scheduled": _l("Scheduled"),
    "on_the_way": _l("Technician on the way"),
    "working": _l("Technician at work"),
    "installed": _l("Installed"),
    "on_hold": _l("On hold"),
    "cancelled": _l("Cancelled"),
}
# Where each stage stands on the customer's steps.
STEP_OF = {
    "received": "received",
    "scheduling": "received",
    "scheduled": "scheduled",
    "on_the_way": "on_the_way",
    "working": "on_the_way",
    "installed": "installed",
}


@dataclass(frozen=True)
class Step:
    key: str
    words: object
    state: str  # "done", "current" or "ahead"


@dataclass(frozen=True)
class VisitView:
    """The visit the customer waits for, in words."""

    day: str | None
    window: str | None
    technician: str | None
    # "second visit" for a later visit of the order; None for the first.
    which: str | None


@dataclass(frozen=True)
class Report:
    """The signed report: what was installed, who signed and when."""

    items: list[str]
    signer_name: str | None
    signed_at: str | None
    finished_on: str | None


@dataclass(frozen=True)
class CustomerPage:
    order_number: str
    stage: str
    stage_words: object
    steps: list[Step]
    visit: VisitView | None
    preparations: list[Preparation]
    arrival_since: str | None
    expected_arrival: str | None
    report: Report | None
    language: str
    # Seconds between the page's own refreshes: on the visit's day, while the
    # technician may set off, is on the way or at work; None otherwise.
    refresh_seconds: int | None
    # "ask" while tomorrow's visit may be confirmed, "confirmed" once it is
    # (app.orders.customer_page.confirming), None otherwise.
    confirm: str | None = None


def customer_language(order: Order) -> str:
    """The customer's language for the page: English if they chose or write it, else Dutch."""
    contact = order.end_customer
    if contact is None:
        return "nl"
    if (contact.locale or "").startswith("en") or contact.detected_language == "en":
        return "en"
    return "nl"


def customer_page(order: Order, language: str, now: datetime | None = None) -> CustomerPage:
    """The page of ``order`` in ``language`` ("nl" or "en")."""
    visit = order.visit
    today = local_today(now)
    on_way = (
        arrival(order, visit, today)
        if _ahead(order, visit) and _day(order, visit) == today
        else None
    )
    stage = _stage(order, visit, on_way)
    done = stage == "installed"
    changing = _day(order, visit) == today and stage in ("scheduled", "on_the_way", "working")
    return CustomerPage(
        order_number=order.order_number,
        stage=stage,
        stage_words=STAGE_WORDS[stage],
        steps=_steps(stage),
        visit=None if done or stage == "cancelled" else _visit_view(order, visit, language),
        preparations=preparations_for(order, visit) if _ahead(order, visit) else [],
        arrival_since=_clock(on_way.since, language) if on_way else None,
        expected_arrival=_expected(on_way, language),
        report=_report(order, language) if done else None,
        language=language,
        refresh_seconds=REFRESH_SECONDS if changing else None,
        confirm=confirm_state(order, visit, now) if stage == "scheduled" else None,
    )


def _day(order: Order, visit: Visit | None) -> date | None:
    """The visit's day; an order planned without visit rows (a synced work order) has its own."""
    return visit.scheduled_date if visit is not None else order.scheduled_date


def _ahead(order: Order, visit: Visit | None) -> bool:
    """Whether a planned visit is still to come (its work not begun)."""
    if _day(order, visit) is None or (visit is not None and visit.completed_at is not None):
        return False
    if order.status == OrderStatus.SCHEDULED:
        return True
    return order.status == OrderStatus.IN_PROGRESS and not visit_started(order, visit)


def _stage(order: Order, visit: Visit | None, on_way: Arrival | None) -> str:
    status = order.status
    if status == OrderStatus.COMPLETED:
        return "installed"
    if status in (OrderStatus.CANCELLED, OrderStatus.ON_HOLD):
        return status.value
    if on_way is not None:
        return "on_the_way"
    if _ahead(order, visit):
        return "scheduled"
    if status == OrderStatus.IN_PROGRESS:
        return "working"
    if status == OrderStatus.APPROVED:
        return "scheduling"
    return "received"


def _steps(stage: str) -> list[Step]:
    current = STEP_OF.get(stage)
    if current is None:
        return []
    at = STEPS.index(current)
    states = ["done" if i < at else "current" if i == at else "ahead" for i in range(len(STEPS))]
    if stage == "installed":
        states[-1] = "done"
    return [Step(key, STAGE_WORDS[key], state) for key, state in zip(STEPS, states, strict=True)]


def _visit_view(order: Order, visit: Visit | None, language: str) -> VisitView | None:
    day = _day(order, visit)
    if day is None:
        return None
    window = None
    if visit is not None and visit.window_start and visit.window_end:
        window = f"{visit.window_start:%H:%M} – {visit.window_end:%H:%M}"
    lead_id = (visit.technician_ids or [None])[0] if visit is not None else None
    lead_id = lead_id or order.assigned_technician_id
    number = visit.number if visit is not None else 1
    return VisitView(
        day=format_date(day, "EEEE d MMMM y", locale=language),
        window=window,
        technician=_first_name(db.session.get(User, lead_id) if lead_id else None),
        which=further_visit_name(number, language) if number > 1 else None,
    )


def _first_name(user: User | None) -> str | None:
    """The first word of the technician's name: the customer learns no surname."""
    if user is None or not user.name.strip():
        return None
    return user.name.split()[0]


def _clock(moment: datetime, language: str) -> str:
    return format_time(moment.astimezone(AMSTERDAM), "HH:mm", locale=language)


def _expected(on_way: Arrival | None, language: str) -> str | None:
    if on_way is None or on_way.expected is None:
        return None
    return _clock(on_way.expected, language)


def _report(order: Order, language: str) -> Report:
    """What the customer signed for: the order's lines (no prices), the last signature."""
    signature = db.session.scalar(
        sa.select(VisitSignature)
        .where(VisitSignature.order_id == order.id)
        .order_by(VisitSignature.visit_number.desc())
        .limit(1)
    )
    signed = signature.created_at.astimezone(AMSTERDAM) if signature else None
    finished = order.completed_at.astimezone(AMSTERDAM) if order.completed_at else None
    return Report(
        items=[f"{line.quantity}× {line.description}" for line in order.line_items],
        signer_name=signature.signer_name if signature else None,
        signed_at=(
            f"{format_date(signed, 'd MMMM y', locale=language)} {_clock(signed, language)}"
            if signed
            else None
        ),
        finished_on=format_date(finished, "d MMMM y", locale=language) if finished else None,
    )
