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
that reaches the customer, else a Dutch text of the same words. Each carries
the customer's personal link to their order's page (``customer_link``). A notice about
a later visit of the order (a second day, a return visit) says so ("uw tweede
bezoek"): its templates are ``further_visit_planned`` and so on, else its own
Dutch text. Every visit variable is read from the notice's visit, never from
the order, whose day and technician are its current visit's.
"""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa

from app.conversations.message_templates.visit_moment import (
    PLAN_NOTICE_TEMPLATES,
    TimeWindow,
    further_visit_name,
    parse_time_window,
    visit_moment,
    window_words,
)
from app.orders.core.customer_links import customer_link_url
from app.orders.mobile.conversation import (
    active_template,
    customer_thread,
    no_customer_thread_reason,
    tell_customer,
)
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Order, User, Visit, VisitNotice
from app.platform.models.planning import METER_BOX, MISSING_PART, SECOND_DAY
from app.platform.transactions import commit

log = logging.getLogger(__name__)

# Every notice ends with the customer's link to their order's page.
CLOSING = "\n\nUw afspraak bekijken: {link}\n\nMet vriendelijke groet,\nChargeCars"
# Used when the template is missing or switched off (the migration adds them).
DEFAULT_TEXTS = {
    "planned": (
        "Installatie van uw laadpaal ingepland ({order})",
        "Beste {name},\n\nDe installatie van uw laadpaal (order {order}) is ingepland "
        "{moment}. Past dit niet? Laat het ons weten door op dit bericht te antwoorden." + CLOSING,
    ),
    "moved": (
        "Nieuwe afspraak voor uw laadpaal ({order})",
        "Beste {name},\n\nDe afspraak voor de installatie van uw laadpaal (order {order}) is "
        "verplaatst. De monteur komt nu {moment}. Past dit niet? Laat het ons weten door op dit "
        "bericht te antwoorden." + CLOSING,
    ),
    "cancelled": (
        "Uw installatie-afspraak is vervallen ({order})",
        "Beste {name},\n\nDe afspraak voor de installatie van uw laadpaal (order {order}) is "
        "vervallen. We nemen contact met u op voor een nieuwe datum." + CLOSING,
    ),
}
# A later visit (a second day, a return visit): the customer knows of the first.
FURTHER_TEXTS = {
    "planned": (
        "Uw {visit_name} ingepland ({order})",
        "Beste {name},\n\nVoor de installatie van uw laadpaal (order {order}) komt de monteur "
        "nog een keer langs{why}. Uw {visit_name} is ingepland {moment}. Past dit niet? Laat het "
        "ons weten door op dit bericht te antwoorden." + CLOSING,
    ),
    "moved": (
        "Nieuwe afspraak voor uw {visit_name} ({order})",
        "Beste {name},\n\nDe afspraak voor uw {visit_name} voor de installatie van uw laadpaal "
        "(order {order}) is verplaatst. De monteur komt nu {moment}. Past dit niet? Laat het ons "
        "weten door op dit bericht te antwoorden." + CLOSING,
    ),
    "cancelled": (
        "Afspraak voor uw {visit_name} vervallen ({order})",
        "Beste {name},\n\nDe afspraak voor uw {visit_name} voor de installatie van uw laadpaal "
        "(order {order}) is vervallen. We nemen contact met u op voor een nieuwe datum." + CLOSING,
    ),
}
# Why the technician comes back, after "komt de monteur nog een keer langs".
FURTHER_REASONS = {
    SECOND_DAY: " om de installatie af te maken",
    MISSING_PART: " om het ontbrekende onderdeel te plaatsen",
    METER_BOX: " na de aanpassing van uw meterkast door de netbeheerder",
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
    further = visit.number > 1
    moment = _moment(visit)
    subject, body = (FURTHER_TEXTS if further else DEFAULT_TEXTS)[notice.kind]
    words = {
        "name": contact.display_name,
        "order": order.order_number,
        "visit_name": further_visit_name(visit.number),
        "why": FURTHER_REASONS.get(visit.purpose, ""),
    }
    template_kind = f"further_{notice.kind}" if further else notice.kind
    link = customer_link_url(order)
    message, _channel, problem = tell_customer(
        thread,
        author,
        template=active_template(PLAN_NOTICE_TEMPLATES[template_kind]),
        text=body.format(moment=moment, link=link, **words),
        subject=subject.format(**words),
        # The plan of this notice's visit just saved, not what the order says (the
        # order's day is its current visit's, maybe another): an admin's own
        # wording may name the date, hours and technician apart.
        variables={
            **visit_variables(visit),
            "visit_moment": moment,
            "order_id": order.order_number,
            "customer_link": link,
        },
    )
    return message, problem


def visit_variables(visit: Visit) -> dict[str, object]:
    """The template variables about a visit, read from ``visit`` itself."""
    day = visit.scheduled_date.strftime("%d-%m-%Y") if visit.scheduled_date else ""
    window = f"{visit.window_start:%H:%M} en {visit.window_end:%H:%M}" if visit.window_start else ""
    hours = window_words(parse_time_window(visit.window_text))
    lead = db.session.get(User, visit.technician_ids[0]) if visit.crew else None
    variables: dict[str, object] = {
        "visit_date": day,
        "installation_date": day,
        "visit_time": window,
        "time_window": visit.window_text or "",
        "visit_hours": hours or "",
        "visit_number": str(visit.number),
        "visit_name": further_visit_name(visit.number) if visit.number > 1 else "installatie",
    }
    if lead is not None:
        variables["technician_name"] = lead.name
        if lead.phone:
            variables["technician_phone"] = lead.phone
    return variables


def _moment(visit: Visit) -> str:
    """ "op 01-12-2026 tussen 08:00 en 12:00"; "op 01-12-2026" for a plan without hours."""
    window = None
    if visit.window_start and visit.window_end:
        start, end = f"{visit.window_start:%H:%M}", f"{visit.window_end:%H:%M}"
        window = TimeWindow(f"{start}-{end}", None, start, end, all_day=False)
    # The date itself, never "vandaag": a notice may be read days later (an e-mail).
    return visit_moment(visit.scheduled_date, window, None) or ""
