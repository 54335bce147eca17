"""Jobs that push to the technician's phone. They take ids and build the text
in the technician's language, from what the database holds when they run."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date

from flask_babel import force_locale
from flask_babel import gettext as _

from app.orders.mobile.push import PushMessage, push_enabled, push_to_user
from app.platform.extensions import db
from app.platform.i18n import language_of
from app.platform.models import CommunicationMessage, CommunicationThread, Order, User
from app.platform.ui import local_date

log = logging.getLogger(__name__)
EXCERPT_LENGTH = 140


def push_customer_message(message_id: str) -> int:
    """Push a customer's message to the technician of the order its conversation is about."""
    if not push_enabled():
        return 0
    message = db.session.get(CommunicationMessage, uuid.UUID(message_id))
    thread = db.session.get(CommunicationThread, message.thread_id) if message else None
    order = db.session.get(Order, thread.order_id) if thread and thread.order_id else None
    technician = (
        db.session.get(User, order.assigned_technician_id)
        if order and order.assigned_technician_id
        else None
    )
    if technician is None or not technician.is_active_account:
        log.info("push for message %s skipped: no technician to tell", message_id)
        return 0
    sender = message.sender_contact.display_name if message.sender_contact else None
    with force_locale(language_of(technician)):
        title = (
            _("%(order)s: message from %(name)s", order=order.order_number, name=sender)
            if sender
            else _("%(order)s: message from the customer", order=order.order_number)
        )
        body = _excerpt(message.message_content) or _("(no text)")
    return push_to_user(
        technician.id,
        f"message:{message.id}",
        PushMessage(
            title=title,
            body=body,
            # The phone conversation view of the visit.
            url=f"/m/visits/{order.id}/conversation",
            tag=f"order-{order.id}",
        ),
    )


def push_visit_planned(
    order_id: str, technician_id: str, change_key: str, visit_number: int | None = None
) -> int:
    """Push a visit given to the technician, or moved, if it is still theirs: its own
    day and window (the order's second day names the second day, not the order's).
    ``visit_number`` None: the order's current visit (a job queued before visits
    were numbered)."""
    if not push_enabled():
        return 0
    order = db.session.get(Order, uuid.UUID(order_id))
    technician = db.session.get(User, uuid.UUID(technician_id))
    plan = _plan_of(order, visit_number) if order is not None else None
    if technician is None or plan is None or technician.id not in plan.crew:
        log.info("push for visit %s skipped: no longer this technician's", order_id)
        return 0
    assigned = _kind(change_key) == "assigned"
    with force_locale(language_of(technician)):
        day = _day(plan.day)
        window = plan.window
        if plan.number > 1:
            title = (
                _("New visit %(visit)s: %(order)s", visit=plan.number, order=order.order_number)
                if assigned
                else _(
                    "Visit %(visit)s moved: %(order)s", visit=plan.number, order=order.order_number
                )
            )
        else:
            title = (
                _("New visit: %(order)s", order=order.order_number)
                if assigned
                else _("Visit moved: %(order)s", order=order.order_number)
            )
        if day and window:
            body = _("Planned for %(day)s, %(window)s.", day=day, window=window)
        elif day:
            body = _("Planned for %(day)s.", day=day)
        else:
            body = _("Not planned on a day yet.")
    return push_to_user(
        technician.id,
        f"visit:{order.id}:{change_key}",
        PushMessage(title=title, body=body, url=f"/m/#visit-{order.id}", tag=f"order-{order.id}"),
    )


def push_visit_withdrawn(
    order_id: str, technician_id: str, day: str, change_key: str, visit_number: int | None = None
) -> int:
    """Push that a visit is no longer the technician's, unless it is theirs again."""
    if not push_enabled():
        return 0
    order = db.session.get(Order, uuid.UUID(order_id))
    technician = db.session.get(User, uuid.UUID(technician_id))
    if order is None or technician is None:
        return 0
    plan = _plan_of(order, visit_number)
    if plan is not None and technician.id in plan.crew:
        log.info("withdrawal push for visit %s skipped: theirs again", order_id)
        return 0
    with force_locale(language_of(technician)):
        title = _("Visit off your day: %(order)s", order=order.order_number)
        body = _("No longer planned for you on %(day)s.", day=_day(date.fromisoformat(day)))
    return push_to_user(
        technician.id,
        f"visit:{order.id}:{change_key}",
        PushMessage(title=title, body=body, url="/m/", tag=f"order-{order.id}"),
    )


@dataclass(frozen=True)
class _Plan:
    """One of the order's visits as the push reads it when it runs."""

    number: int
    day: date | None
    window: str | None
    crew: tuple[uuid.UUID, ...]


def _plan_of(order: Order, number: int | None) -> _Plan | None:
    """Visit ``number`` of the order as planned now (None: its current visit); None
    when the order has no such visit. A visit's day and crew are its own; an order
    planned without a visit plan (a synced work order) has the order's day and lead."""
    current = order.visit
    visit = (
        current if number is None else next((v for v in order.visits if v.number == number), None)
    )
    if visit is None and number not in (None, 1):
        return None
    lead = (order.assigned_technician_id,) if order.assigned_technician_id else ()
    if visit is None or (visit is current and visit.scheduled_date is None):
        return _Plan(visit.number if visit else 1, order.scheduled_date, None, lead)
    crew = tuple(visit.technician_ids) or (lead if visit is current else ())
    return _Plan(visit.number, visit.scheduled_date, visit.window_text, crew)


def _kind(change_key: str) -> str:
    """ "assigned" or "moved": a later visit's key starts with its number ("visit2:")."""
    parts = change_key.split(":")
    return parts[1] if parts[0].startswith("visit") and len(parts) > 1 else parts[0]


def _day(value: date | None) -> str | None:
    return local_date(value, "%A %d %B") if value else None


def _excerpt(content: str | None) -> str:
    words = " ".join((content or "").split())
    return words if len(words) <= EXCERPT_LENGTH else words[: EXCERPT_LENGTH - 1] + "…"
