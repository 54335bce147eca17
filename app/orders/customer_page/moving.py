"""The customer moves their own visit on their page, or asks the desk to call them back.

Until the cut-off (``CUSTOMER_MOVE_CUTOFF_WORKING_DAYS`` working days before the
visit: weekdays that are no public holiday, the planner's own calendar) the page
offers the visit's best slots as the desk finds them while a customer is on the
phone (:func:`~app.orders.planning.slots.finding.best_slots`: the technicians'
skills, hours, days off and routes), on days as far ahead as the cut-off, the
customer's part-of-day wish kept and their first wished date let go (they are
moving away from it). A slot goes to the customer as a signed choice, so the
form can name only a slot we offered this order, and is saved by the plan's own
save (:func:`~app.orders.planning.slots.choosing.plan_slot`): the same rules, one
message, the partner's ``visit_rescheduled`` (reason ``customer``), the
technician's push and calendar. The plan version the page showed comes back with
it, so a slot taken meanwhile or a second tap of the same button saves nothing twice.

After the cut-off, or with no slot to offer, the customer asks to be called back:
one task on their conversation for the desk, not two for one request.

Nothing here commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, time, timedelta

import sqlalchemy as sa
from babel.dates import format_date
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from app.orders.mobile.conversation import customer_thread
from app.orders.mobile.services import local_today
from app.orders.planning.hours import public_holidays
from app.orders.planning.services import begun, visit_of
from app.orders.planning.slots.choosing import SlotChoice, plan_slot
from app.orders.planning.slots.finding import best_slots
from app.platform.database import hold_advisory_lock, utcnow
from app.platform.extensions import db
from app.platform.i18n import default_language
from app.platform.models import InternalTask, Order, Visit
from app.platform.models.enums import OrderStatus, Priority, TaskStatus, TaskType

# Slots the customer is offered at most: enough to choose, few enough to read on a phone.
MOST_SLOTS = 6
# Asked of the slot finder before same-time slots of other technicians fall away.
SLOTS_ASKED = 40
# The parts of day a customer may ask to be called in, in their words.
CALLBACK_TIMES = {
    "morning": _l("Morning"),
    "afternoon": _l("Afternoon"),
    "evening": _l("Evening"),
}
NOTE_LENGTH = 500
# A second tap of "call me back" within this is the same request, not a new task.
CALLBACK_REPEAT_SECONDS = 60
_SALT = "customer-move-slot"


class MoveRefused(Exception):
    """The form named no slot we offered this visit (``field``: which part)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class MoveClosed(Exception):
    """The visit can no longer be moved by the customer (the cut-off passed, or it is not
    planned, or its work began)."""


@dataclass(frozen=True)
class MoveSlot:
    """One slot as the customer reads it: a day and a window, never who or how far."""

    choice: str  # the signed slot the form posts back
    day: date
    start: time
    end: time
    day_words: str
    window: str


@dataclass
class MoveOptions:
    """What the move page offers: slots while the visit may move, else a call back."""

    movable: bool
    version: int
    slots: list[MoveSlot] = field(default_factory=list)

    @property
    def call_back_only(self) -> bool:
        return not self.movable or not self.slots


def working_days_between(today: date, day: date) -> int:
    """The working days (Mon–Fri, public holidays aside) strictly after ``today``
    and before ``day``."""
    between = [today + timedelta(days=n) for n in range(1, (day - today).days)]
    holidays = public_holidays(between) if between else set()
    return sum(1 for d in between if d.weekday() < 5 and d not in holidays)


def before_cutoff(day: date, today: date) -> bool:
    """Whether ``day`` is still far enough ahead for the customer to move a visit on it
    (or to it): the cut-off's working days lie between today and then."""
    cutoff = current_app.config["CUSTOMER_MOVE_CUTOFF_WORKING_DAYS"]
    return day > today and working_days_between(today, day) >= cutoff


def movable_visit(order: Order, today: date) -> Visit | None:
    """The order's current visit if its customer may move it today, else None."""
    visit = visit_of(order)
    if visit is None or visit.scheduled_date is None or visit.completed_at is not None:
        return None
    if order.status not in (OrderStatus.SCHEDULED, OrderStatus.IN_PROGRESS):
        return None
    if begun(order, visit) or not before_cutoff(visit.scheduled_date, today):
        return None
    return visit


def move_options(order: Order, language: str, today: date) -> MoveOptions:
    """The slots offered to move the order's current visit to, in ``language``."""
    visit = movable_visit(order, today)
    if visit is None:
        current = visit_of(order)
        return MoveOptions(False, current.version if current is not None else 0)
    cutoff = current_app.config["CUSTOMER_MOVE_CUTOFF_WORKING_DAYS"]
    # The customer chooses among as many working days as the desk would, after the cut-off.
    days = current_app.config["PLANNING_SLOT_DAYS"] + cutoff
    best = best_slots(
        order, today, days, number=visit.number, limit=SLOTS_ASKED, keep_preferred_date=False
    )
    now_at = (visit.scheduled_date, visit.window_start, visit.window_end)
    seen: set[tuple] = set()
    chosen = []
    for slot in best.slots:  # cheapest first: the routes' own choice
        when = (slot.day, slot.start, slot.end)
        if when == now_at or when in seen or not before_cutoff(slot.day, today):
            continue
        seen.add(when)
        chosen.append(slot)
        if len(chosen) == MOST_SLOTS:
            break
    chosen.sort(key=lambda slot: (slot.day, slot.start))
    slots = [
        MoveSlot(
            choice=_signed(order, visit, slot.day, slot.start, slot.end, slot.technician_ids),
            day=slot.day,
            start=slot.start,
            end=slot.end,
            day_words=day_words(slot.day, language, with_year=False),
            window=window_words(slot.start, slot.end),
        )
        for slot in chosen
    ]
    return MoveOptions(True, best.seen_version, slots)


def day_words(day: date, language: str, with_year: bool = True) -> str:
    """A day as the customer's page writes it: "dinsdag 8 december 2026" (a slot in the
    coming weeks goes without the year, so it fits a phone's line)."""
    return format_date(day, "EEEE d MMMM y" if with_year else "EEEE d MMMM", locale=language)


def window_words(start: time, end: time) -> str:
    return f"{start:%H:%M} – {end:%H:%M}"


def appointment_words(visit: Visit | None, language: str) -> dict | None:
    """The visit's day and window in the customer's words (None while not planned)."""
    if visit is None or visit.scheduled_date is None:
        return None
    window = None
    if visit.window_start and visit.window_end:
        window = window_words(visit.window_start, visit.window_end)
    return {"day": day_words(visit.scheduled_date, language), "window": window}


def move_visit(order: Order, form, today: date) -> Visit:
    """Move the order's current visit to the slot the customer chose (``choice``, as
    offered, and ``version``, the plan they saw); raises :class:`MoveRefused` for a
    slot we did not offer, :class:`MoveClosed` after the cut-off, and what the plan's
    save raises (``PlanChanged``, ``PlanRefused``) for a slot taken meanwhile."""
    try:
        version = int(form.get("version") or "")
    except ValueError:
        raise MoveRefused("version", _("The form is incomplete; choose a slot again.")) from None
    chosen = _read(form.get("choice") or "")
    visit = movable_visit(order, today)
    if visit is None:
        raise MoveClosed()
    if chosen is None or chosen["order"] != str(order.id) or chosen["visit"] != visit.number:
        raise MoveRefused("choice", _("This is not one of the times we offered; choose again."))
    day = date.fromisoformat(chosen["day"])
    if not before_cutoff(day, today):
        raise MoveClosed()
    choice = SlotChoice(
        day=day,
        window_start=time.fromisoformat(chosen["start"]),
        window_end=time.fromisoformat(chosen["end"]),
        technician_ids=tuple(uuid.UUID(t) for t in chosen["technicians"]),
        seen_version=version,
        visit_number=visit.number,
    )
    return plan_slot(order, choice, None, today, by_customer=True)


def already_there(order: Order, form) -> Visit | None:
    """The order's visit, if it already is at the slot in ``form``: a second tap of the
    same choice (its first saved it), to be answered as the first was."""
    chosen = _read(form.get("choice") or "")
    visit = visit_of(order)
    if chosen is None or visit is None or chosen["order"] != str(order.id):
        return None
    at = (
        visit.scheduled_date.isoformat() if visit.scheduled_date else None,
        f"{visit.window_start:%H:%M}" if visit.window_start else None,
        f"{visit.window_end:%H:%M}" if visit.window_end else None,
    )
    return visit if at == (chosen["day"], chosen["start"], chosen["end"]) else None


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=_SALT)


def _signed(order: Order, visit: Visit, day: date, start: time, end: time, crew) -> str:
    return _serializer().dumps(
        {
            "order": str(order.id),
            "visit": visit.number,
            "day": day.isoformat(),
            "start": f"{start:%H:%M}",
            "end": f"{end:%H:%M}",
            "technicians": [str(t) for t in crew],
        }
    )


def _read(choice: str) -> dict | None:
    try:
        chosen = _serializer().loads(choice)
    except BadSignature:
        return None
    return chosen if isinstance(chosen, dict) else None


# --- calling back ----------------------------------------------------------------


def parse_callback(form) -> tuple[tuple[list[str], str], dict[str, str]]:
    """The parts of day and the note the customer asked a call back for, or the errors
    by field name."""
    errors: dict[str, str] = {}
    times = [value for value in form.getlist("times") if value]
    if any(value not in CALLBACK_TIMES for value in times):
        errors["times"] = _("When to call: choose from the list")
    elif not times:
        errors["times"] = _("When to call: choose at least one part of the day")
    note = (form.get("note") or "").strip()
    if len(note) > NOTE_LENGTH:
        errors["note"] = _("Note: at most %(count)s characters", count=NOTE_LENGTH)
    ordered = [key for key in CALLBACK_TIMES if key in times]
    return (ordered, note), errors


def ask_callback(order: Order, times: list[str], note: str) -> InternalTask:
    """A task on the customer's conversation for the desk to call them back about their
    visit; the same request again within a minute is the task already made."""
    # Two taps at once take turns, so the second finds the first's task.
    hold_advisory_lock(db.session, f"customer-callback:{order.id}")
    # The desk reads the task: in the desk's language, not the customer's page's.
    desk = default_language()
    with force_locale(desk):
        wished = ", ".join(str(CALLBACK_TIMES[key]).lower() for key in times)
        title = _(
            "Customer asks for a call back about appointment %(order)s: prefers %(times)s",
            order=order.order_number,
            times=wished,
        )[:255]
        visit = visit_of(order)
        planned = (
            _(
                "Planned: %(day)s %(window)s.",
                day=day_words(visit.scheduled_date, desk),
                window=visit.window_text or "",
            )
            if visit is not None and visit.scheduled_date
            else ""
        )
        description = "\n\n".join(
            part
            for part in (planned, _("The customer wrote: %(note)s", note=note) if note else "")
            if part
        )
    since = utcnow() - timedelta(seconds=CALLBACK_REPEAT_SECONDS)
    same = db.session.scalar(
        sa.select(InternalTask).where(
            InternalTask.order_id == order.id,
            InternalTask.task_type == TaskType.CALLBACK,
            InternalTask.task_title == title,
            InternalTask.task_description == (description or None),
            InternalTask.created_at >= since,
        )
    )
    if same is not None:
        return same
    thread = customer_thread(order)
    task = InternalTask(
        task_title=title,
        task_description=description or None,
        task_type=TaskType.CALLBACK,
        priority=Priority.NORMAL,
        status=TaskStatus.OPEN,
        thread_id=thread.id if thread is not None else None,
        order_id=order.id,
        due_date=local_today(),
    )
    db.session.add(task)
    db.session.flush()
    return task
