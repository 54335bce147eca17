"""The reminder the day before a visit, on the customer's channel, sent once.

:func:`remind_visits` runs every quarter of an hour. From ``VISIT_REMINDER_TIME``
(Amsterdam time) on the day before, each customer with a visit tomorrow is
reminded: on WhatsApp when that is where they are, through the approved
template ``visit_reminder`` with a "Bevestigen" and a "Verzetten" button; by
e-mail otherwise (:func:`app.conversations.channels.email.reminders.remind_by_email`,
which keeps its own once-per-visit-and-date mark).

A customer is on WhatsApp when their conversation about the order runs there,
or, with no such conversation yet, when they have a phone number and no e-mail
address (with both, the e-mail reminder they always had still goes). A visit
without a row of its own (a synced work order) has nothing for a button to
name, so it is reminded by e-mail; so is one the template cannot be filled in
for (nobody on the visit yet).

A WhatsApp reminder is claimed before it is written: a :class:`VisitReminder`
row unique on (visit, visit date), inserted with ON CONFLICT DO NOTHING in the
transaction that writes the message. Two workers both reaching a visit (the
orders' row locks are skipped, not waited for, so this is rare) write one.

From ``VISIT_CONFIRM_BY`` on, a WhatsApp reminder of a visit still planned for
tomorrow and not answered becomes one task on the customer's conversation for
the desk (:func:`app.orders.visit_reminders.desk.flag_unanswered`).
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from app.conversations.channels.email.records import already_sent
from app.conversations.channels.email.reminders import (
    AMSTERDAM,
    orders_to_remind,
    remind_by_email,
    visits_on,
)
from app.conversations.channels.email.reminders import (
    TEMPLATE_KEY as EMAIL_TEMPLATE_KEY,
)
from app.conversations.channels.whatsapp.templates import template_parameters
from app.conversations.core import post_outbound
from app.conversations.message_templates.rendering import TemplateRenderError, render_for_thread
from app.conversations.message_templates.services import record_use
from app.conversations.message_templates.visit_moment import (
    TimeWindow,
    parse_time_window,
    visit_moment,
)
from app.orders.core.customer_links import customer_link_url
from app.orders.mobile.conversation import customer_thread, find_customer_thread
from app.orders.planning.notices import visit_variables
from app.orders.visit_reminders.desk import flag_unanswered
from app.orders.visit_reminders.settings import confirm_by, reminder_time
from app.platform.database import upsert_insert, utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationTemplate,
    CommunicationThread,
    Order,
    Visit,
    VisitReminder,
)
from app.platform.models.enums import ChannelType, TemplateChannelType
from app.platform.transactions import commit

log = logging.getLogger(__name__)

WHATSAPP, EMAIL = "whatsapp", "email"
# A row made when the customer confirmed on their own page (reminded by e-mail, which
# keeps no row): it holds the answer, and was no reminder of its own.
PAGE = "page"
# The approved template's name at Meta: its buttons are, in order, these two.
WHATSAPP_TEMPLATE = "visit_reminder"
CONFIRM, MOVE = "visit-confirm", "visit-move"


def remind_visits(now: datetime | None = None) -> int:
    """Job: remind tomorrow's customers once the reminder time has come, and hand
    unanswered reminders to the desk once the confirm-by time has; returns how
    many reminders were sent."""
    now = now or utcnow()
    local_now = now.astimezone(AMSTERDAM)
    tomorrow = local_now.date() + timedelta(days=1)
    sent = 0
    if local_now.time() >= reminder_time():
        sent = remind_customers(tomorrow)
    if local_now.time() >= confirm_by():
        flag_unanswered(tomorrow)
    return sent


def remind_customers(day: date) -> int:
    """Remind each customer of their visits on ``day`` not yet reminded of (commits)."""
    sent = 0
    # Without the approved template (switched off by an admin) everyone gets the e-mail.
    template = reminder_template()
    for order in db.session.scalars(orders_to_remind(day)).all():
        used = channel_used(order, day)
        thread = None
        if used != EMAIL and template is not None and order.visits:
            thread = whatsapp_thread(order)
        if thread is None:
            if used != WHATSAPP:
                sent += remind_by_email(order, day)
            continue
        sent += _remind_by_whatsapp(order, thread, template, day)
    commit()
    if sent:
        log.info("sent %d visit reminder(s) for %s", sent, day.isoformat())
    return sent


def channel_used(order: Order, day: date) -> str | None:
    """The channel the order's customer was already reminded on for ``day``, if any:
    a later run keeps to it, so a customer who starts writing on WhatsApp after
    the e-mail reminder (or the other way round) is not reminded twice."""
    on_whatsapp = db.session.scalar(
        sa.select(VisitReminder.id)
        .where(
            VisitReminder.order_id == order.id,
            VisitReminder.visit_date == day,
            VisitReminder.channel == WHATSAPP,
        )
        .limit(1)
    )
    if on_whatsapp is not None:
        return WHATSAPP
    if already_sent(order.id, EMAIL_TEMPLATE_KEY, visit_date=day.isoformat()):
        return EMAIL
    return None


def whatsapp_thread(order: Order) -> CommunicationThread | None:
    """The customer's WhatsApp conversation to remind them in, or None when they are
    reached by e-mail (see the module's docstring)."""
    thread = find_customer_thread(order)
    if thread is None:
        contact = order.end_customer
        if contact is None or not contact.phone or contact.email:
            return None
        thread = customer_thread(order)
    if thread is None or thread.channel is None:
        return None
    if thread.channel.channel_type != ChannelType.WHATSAPP_BUSINESS:
        return None
    return thread if thread.contact is not None and thread.contact.phone else None


def reminder_template() -> CommunicationTemplate | None:
    """Our mirror of Meta's approved ``visit_reminder`` (the migration adds it)."""
    return db.session.scalar(
        sa.select(CommunicationTemplate)
        .where(
            CommunicationTemplate.is_active.is_(True),
            CommunicationTemplate.whatsapp_template_name == WHATSAPP_TEMPLATE,
            CommunicationTemplate.channel_type.in_(
                (TemplateChannelType.WHATSAPP_BUSINESS, TemplateChannelType.ANY)
            ),
        )
        .order_by(CommunicationTemplate.created_at)
        .limit(1)
    )


def _remind_by_whatsapp(
    order: Order, thread: CommunicationThread, template: CommunicationTemplate, day: date
) -> int:
    sent = 0
    by_email = False
    for _number, visit in visits_on(order, day):
        if visit is None:
            by_email = True
            continue
        values = {
            **visit_variables(visit),
            "visit_moment": _moment(visit, day),
            "order_id": order.order_number,
            # The approved template's URL variable: the customer's own page.
            "customer_link": customer_link_url(order),
        }
        try:
            rendered = render_for_thread(template, thread, None, values)
        except TemplateRenderError as exc:
            # A visit without a technician yet, say: the e-mail says what is known.
            log.info("WhatsApp reminder for %s left to e-mail: %s", order.order_number, exc.message)
            by_email = True
            continue
        reminder_id = claim_reminder(order, visit, day)
        if reminder_id is None:
            continue  # reminded before, or by another worker just now
        message = post_outbound(
            thread,
            channel_id=thread.channel_id,
            body=rendered.body.strip(),
            recipient={"phone": thread.contact.phone, "name": thread.contact.display_name},
            template_id=template.id,
            automation="visit_reminder",
            extra={
                # An approved template goes any time, the 24-hour window open or not.
                "template_parameters": template_parameters(template, thread, None, values),
                "template_quick_replies": button_payloads(reminder_id),
                "order_id": str(order.id),
                "visit_reminder_id": str(reminder_id),
            },
        )
        record_use(template.id)
        db.session.get(VisitReminder, reminder_id).message_id = message.id
        sent += 1
    if by_email:
        # Its own once-per-visit-and-date mark keeps a later run from mailing again.
        sent += remind_by_email(order, day)
    return sent


def button_payloads(reminder_id: uuid.UUID) -> list[str]:
    """The payloads of "Bevestigen" and "Verzetten": they name the reminder (and so
    its visit and date) by an id no one can guess."""
    return [f"{CONFIRM}:{reminder_id}", f"{MOVE}:{reminder_id}"]


def claim_reminder(order: Order, visit: Visit, day: date, channel: str = WHATSAPP):
    """The row for ``visit`` on ``day``, inserted unless it exists (ON CONFLICT DO
    NOTHING on the unique visit and date); its id when this call made it, else None."""
    now = utcnow()
    return db.session.scalar(
        upsert_insert(VisitReminder, db.session.get_bind().dialect.name)
        .values(
            id=uuid.uuid4(),
            visit_id=visit.id,
            order_id=order.id,
            visit_date=day,
            channel=channel,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["visit_id", "visit_date"])
        .returning(VisitReminder.id)
    )


def _moment(visit: Visit, day: date) -> str:
    """ "morgen (01-12-2026) tussen 08:00 en 12:00": read the day before."""
    window = parse_time_window(visit.window_text)
    if window is None and visit.window_start and visit.window_end:
        start, end = f"{visit.window_start:%H:%M}", f"{visit.window_end:%H:%M}"
        window = TimeWindow(f"{start}-{end}", None, start, end, all_day=False)
    return visit_moment(day, window, day - timedelta(days=1)) or ""
