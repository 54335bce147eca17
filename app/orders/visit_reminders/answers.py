"""The customer's tap on a reminder's button: "Bevestigen" or "Verzetten".

Meta hands a template's quick-reply tap back as a ``button`` message whose
payload is the one we sent (:func:`app.orders.visit_reminders.sending.button_payloads`);
an interactive reply carries it as its id. The message itself stays in the
conversation like any other; this reads it after the commit that stored it.

The reminder row is taken under a lock (after its order's, as every writer of
a visit locks the order first), so a second tap, or Meta's retry of the same
one, finds the answer given and changes nothing. A tap on a reminder whose
visit has since moved to another day, been started or cancelled gets a polite
answer and changes nothing.
"""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from app.conversations.core import post_outbound
from app.conversations.languages import customer_language
from app.orders.core.customer_links import customer_link_url
from app.orders.deliveries.partner_callbacks import on_visit_event
from app.orders.deliveries.partner_events import VISIT_CONFIRMED
from app.orders.deliveries.payloads import visit_details
from app.orders.visit_reminders.desk import DESK_LANGUAGE, hand_to_desk
from app.orders.visit_reminders.sending import CONFIRM, MOVE
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, Order, Visit, VisitReminder
from app.platform.models.enums import OrderStatus, TaskType
from app.platform.models.orders import LOCK_TO_CHANGE
from app.platform.transactions import commit

log = logging.getLogger(__name__)

# What the customer reads back, in their language (Dutch unless they write in English).
ANSWERS = {
    "confirmed": {"nl": "Dank u, tot morgen!", "en": "Thank you, see you tomorrow!"},
    # With the link to their page's move: another moment where the cut-off allows one,
    # else the times the desk may call them.
    "move": {
        "nl": "Dank u. Onze planner neemt contact met u op om een andere dag af te spreken. "
        "Op uw pagina kiest u zelf een ander moment of geeft u door wanneer we u het best "
        "kunnen bellen: {link}",
        "en": "Thank you. Our planner will contact you to agree on another day. On your "
        "page you can pick another moment yourself, or tell us when best to call you: {link}",
    },
    "stale": {
        "nl": "Dank u voor uw antwoord. Deze afspraak is inmiddels gewijzigd; u heeft "
        "daarover een apart bericht van ons gekregen.",
        "en": "Thank you for your answer. This appointment has changed since; we sent "
        "you a separate message about it.",
    },
}


def reminder_answer(metadata: dict) -> tuple[str, uuid.UUID] | None:
    """("visit-confirm" or "visit-move", the reminder's id) from a message's metadata,
    or None when it is no answer to a reminder."""
    payload = metadata.get("button_payload") or metadata.get("reply_id")
    kind, _sep, ident = str(payload or "").partition(":")
    if kind not in (CONFIRM, MOVE):
        return None
    try:
        return kind, uuid.UUID(ident)
    except ValueError:
        return None


def take_answer(message_id: uuid.UUID) -> str | None:
    """Apply the customer's answer in message ``message_id`` (commits); what became of
    it (confirmed, move, already, stale, not_theirs, unknown), None for no answer."""
    message = db.session.get(CommunicationMessage, message_id)
    answer = reminder_answer(message.extra or {}) if message is not None else None
    if answer is None:
        return None
    kind, reminder_id = answer
    order_id = db.session.scalar(
        sa.select(VisitReminder.order_id).where(VisitReminder.id == reminder_id)
    )
    if order_id is None:
        return "unknown"
    order = db.session.scalar(
        sa.select(Order).where(Order.id == order_id).with_for_update(**LOCK_TO_CHANGE)
    )
    reminder = db.session.scalar(
        sa.select(VisitReminder).where(VisitReminder.id == reminder_id).with_for_update()
    )
    thread = message.thread
    if thread.contact_id is None or thread.contact_id != order.end_customer_contact_id:
        # Only the reminded customer answers for their visit.
        log.warning("reminder %s answered from another conversation", reminder_id)
        db.session.rollback()
        return "not_theirs"
    visit = db.session.get(Visit, reminder.visit_id)
    if not still_planned(order, visit, reminder):
        _reply(thread, "stale")
        commit()
        return "stale"
    if kind == CONFIRM:
        outcome = _confirm(order, visit, reminder, thread)
    else:
        outcome = _ask_to_move(reminder, thread)
    commit()
    return outcome


def still_planned(order: Order, visit: Visit, reminder: VisitReminder) -> bool:
    """Whether the visit is still to come on the day ``reminder`` is about."""
    return (
        order.status not in (OrderStatus.CANCELLED, OrderStatus.COMPLETED)
        and visit.scheduled_date == reminder.visit_date
        and visit.started_at is None
        and visit.completed_at is None
    )


def _confirm(order: Order, visit: Visit, reminder: VisitReminder, thread) -> str:
    if not confirm_visit(order, visit, reminder):
        return "already"
    _reply(thread, "confirmed")
    return "confirmed"


def confirm_visit(order: Order, visit: Visit, reminder: VisitReminder) -> bool:
    """Mark the visit confirmed for ``reminder``'s day and tell the partner, once;
    False when it already was. The reminder row is locked by the caller. No commit."""
    if reminder.confirmed_at is not None:
        return False
    reminder.confirmed_at = utcnow()
    on_visit_event(
        order, VISIT_CONFIRMED, visit_details(order, visit), "Visit confirmed by the customer"
    )
    return True


def _ask_to_move(reminder: VisitReminder, thread) -> str:
    if reminder.move_requested_at is not None:
        return "already"
    reminder.move_requested_at = utcnow()
    order = db.session.get(Order, reminder.order_id)
    _reply(thread, "move", link=f"{customer_link_url(order)}/move")
    request_move_from_desk(reminder)
    return "move"


def request_move_from_desk(reminder: VisitReminder) -> None:
    """ "Verzetten": the desk agrees on another day with the customer. The customer's
    own move on their page will take this over. No commit."""
    with force_locale(DESK_LANGUAGE):
        title = _("Customer wants to move the visit")
        description = _(
            "The customer tapped Verzetten on the reminder for tomorrow's visit. "
            "Agree on another day with them and move the visit."
        )
    hand_to_desk(reminder, title, description, TaskType.SCHEDULE_VISIT)


def _reply(thread, answer: str, link: str = "") -> None:
    contact = thread.contact
    language = customer_language(contact)
    texts = ANSWERS[answer]
    post_outbound(
        thread,
        channel_id=thread.channel_id,
        body=texts.get(language, texts["nl"]).replace("{link}", link),
        recipient={"phone": contact.phone, "name": contact.display_name},
        automation="visit_reminder",
        # Their tap just opened WhatsApp's 24-hour window: free text goes.
        answers_customer=True,
    )
