"""The customer's message about their visit: planned, moved or taken back, once each.

:func:`app.orders.planning.services.save_plan` writes a :class:`~app.platform.models.VisitNotice`
(unique per visit and plan version) and queues :func:`send_visit_notice` after
the commit. The job takes the notice under a row lock and marks it sent in the
transaction that writes the message, so a job run twice sends once. A notice
for a version already replaced is skipped: the customer hears of the newest
plan (its own notice follows), not of one that no longer holds.

The message goes through the conversation's owner like "on the way"
(:mod:`app.orders.mobile.visits`): the active template named after the notice
(``visit_planned``, ``visit_moved``, ``visit_cancelled``) on the first channel
that reaches the customer, else a Dutch text of the same words.
"""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa

from app.conversations.message_templates.visit_moment import (
    PLAN_NOTICE_TEMPLATES,
    TimeWindow,
    visit_moment,
)
from app.orders.mobile.conversation import (
    active_template,
    customer_thread,
    no_customer_thread_reason,
    tell_customer,
)
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Order, User, Visit, VisitNotice
from app.platform.transactions import commit

log = logging.getLogger(__name__)

# Used when the template is missing or switched off (the migration adds them).
DEFAULT_TEXTS = {
    "planned": (
        "Installatie van uw laadpaal ingepland ({order})",
        "Beste {name},\n\nDe installatie van uw laadpaal (order {order}) is ingepland "
        "{moment}. Past dit niet? Laat het ons weten door op dit bericht te antwoorden.\n\n"
        "Met vriendelijke groet,\nChargeCars",
    ),
    "moved": (
        "Nieuwe afspraak voor uw laadpaal ({order})",
        "Beste {name},\n\nDe afspraak voor de installatie van uw laadpaal (order {order}) is "
        "verplaatst. De monteur komt nu {moment}. Past dit niet? Laat het ons weten door op dit "
        "bericht te antwoorden.\n\nMet vriendelijke groet,\nChargeCars",
    ),
    "cancelled": (
        "Uw installatie-afspraak is vervallen ({order})",
        "Beste {name},\n\nDe afspraak voor de installatie van uw laadpaal (order {order}) is "
        "vervallen. We nemen contact met u op voor een nieuwe datum.\n\nMet vriendelijke groet,"
        "\nChargeCars",
    ),
}


def send_visit_notice(notice_id: str) -> str:
    """Send one notice (job); returns what became of it: sent, skipped or not_told."""
    notice = db.session.scalar(
        sa.select(VisitNotice).where(VisitNotice.id == uuid.UUID(notice_id)).with_for_update()
    )
    if notice is None or notice.sent_at is not None or notice.problem:
        db.session.rollback()
        return "skipped"
    visit = db.session.get(Visit, notice.visit_id)
    if visit.version != notice.version:
        notice.problem = "replaced by a newer plan before it was sent"
        commit()
        return "skipped"
    order = db.session.get(Order, visit.order_id)
    author = db.session.get(User, notice.actor_user_id) if notice.actor_user_id else None
    thread = customer_thread(order)
    message, problem = _send(notice, visit, order, thread, author)
    notice.sent_at = utcnow() if message else None
    notice.message_id = message.id if message else None
    notice.problem = problem
    commit()
    if problem:
        log.info("visit notice %s for %s not sent: %s", notice_id, order.order_number, problem)
        return "not_told"
    return "sent"


def _send(notice: VisitNotice, visit: Visit, order: Order, thread, author: User | None):
    if thread is None:
        return None, no_customer_thread_reason(order)
    contact = thread.contact
    if author is None:
        return None, "the planner's account no longer exists"
    day = visit.scheduled_date.strftime("%d-%m-%Y") if visit.scheduled_date else ""
    window = f"{visit.window_start:%H:%M} en {visit.window_end:%H:%M}" if visit.window_start else ""
    moment = _moment(visit)
    subject, body = DEFAULT_TEXTS[notice.kind]
    words = {"name": contact.display_name, "order": order.order_number}
    message, _channel, problem = tell_customer(
        thread,
        author,
        template=active_template(PLAN_NOTICE_TEMPLATES[notice.kind]),
        text=body.format(moment=moment, **words),
        subject=subject.format(**words),
        # The plan just saved, not what the order said before it (an admin's own
        # wording may still name the date and hours apart).
        variables={
            "visit_moment": moment,
            "visit_date": day,
            "visit_time": window,
            "order_id": order.order_number,
        },
    )
    return message, problem


def _moment(visit: Visit) -> str:
    """ "op 01-12-2026 tussen 08:00 en 12:00"; "op 01-12-2026" for a plan without hours."""
    window = None
    if visit.window_start and visit.window_end:
        start, end = f"{visit.window_start:%H:%M}", f"{visit.window_end:%H:%M}"
        window = TimeWindow(f"{start}-{end}", None, start, end, all_day=False)
    # The date itself, never "vandaag": a notice may be read days later (an e-mail).
    return visit_moment(visit.scheduled_date, window, None) or ""
