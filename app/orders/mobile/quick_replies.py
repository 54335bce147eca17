"""Quick replies: installation-scheduling templates as one-tap buttons on a visit.

The buttons are the active templates of category ``installation_scheduling``
that fit the channel the customer would be answered on and that can be filled
in completely for this visit, the technician's own details included
(``technician_name``, ``technician_phone``, ``visit_date``, ``visit_time``).
Past WhatsApp's 24-hour window only approved templates are offered, and on the
visit's day none that announces its date (:func:`announces_the_date`). The
office's notices of a plan (``visit_planned``, ``visit_moved``,
``visit_cancelled``) go out by themselves when a planner changes it: never a
button. A tap
sends through :func:`app.conversations.workspace.services.compose_reply`, the path every reply
takes, so its checks (channel, window, placeholders) apply and its refusal is
shown.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ClassVar

import sqlalchemy as sa
from flask_babel import gettext as _

from app.conversations.channels.whatsapp.window import service_window
from app.conversations.core import unsaved_thread, withdraw_outbound
from app.conversations.languages import DEFAULT_LANGUAGE, base_language, customer_language
from app.conversations.message_templates.rendering import (
    TemplateRenderError,
    placeholders_in,
    render_for_thread,
)
from app.conversations.message_templates.visit_moment import PLAN_NOTICE_TEMPLATES, visit_moment
from app.conversations.workspace.services import InvalidInput, compose_reply, reachable_channels
from app.orders.core.customer_links import customer_link_url
from app.orders.core.visit_notices import (
    AlreadyTold,
    already_told,
    claim_for_template,
    is_on_the_way_template,
    record_notice_message,
    release_notice_of,
)
from app.orders.mobile.conversation import customer_channel, customer_thread, find_customer_thread
from app.orders.mobile.services import AMSTERDAM, time_window
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    CommunicationTemplate,
    CommunicationThread,
    Order,
    User,
)
from app.platform.models.enums import ChannelType, OrderStatus, TemplateCategory

QUICK_REPLY_CATEGORY = TemplateCategory.INSTALLATION_SCHEDULING
MAX_QUICK_REPLIES = 6
TECHNICIAN_PREFIX = "technician_"
# A replayed reply goes this long after the held one before it, so the send jobs
# never take them the other way round.
HELD_REPLY_GAP_SECONDS = 2


ETA_VARIABLE = "eta"
# The arrival times offered with one tap, in minutes from now.
ETA_CHOICES = (15, 30, 45, 60)
MAX_ETA_MINUTES = 12 * 60
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class QuickReply:
    template_id: uuid.UUID
    label: str
    preview: str
    # The template asks for the expected arrival ({{eta}}), picked on the phone.
    needs_eta: bool = False
    # Where the arrival goes in the preview, until the technician picks it.
    ETA_PREVIEW: ClassVar[str] = "--:--"


def needs_eta(template: CommunicationTemplate) -> bool:
    return ETA_VARIABLE in (template.variables or []) or "{{eta}}" in (
        template.message_template or ""
    )


def eta_text(minutes: str | None, clock: str | None, now: datetime | None = None) -> str:
    """The arrival time the technician picked ("14:35"); InvalidInput when unusable."""
    if clock:
        match = _CLOCK.match(clock.strip())
        if match is None:
            raise InvalidInput({"eta": _("Give the arrival time as hours:minutes, e.g. 14:30.")})
        return f"{int(match[1]):02d}:{match[2]}"
    try:
        count = int(minutes or "")
    except ValueError:
        count = 0
    if not 0 < count <= MAX_ETA_MINUTES:
        raise InvalidInput({"eta": _("Pick when you expect to arrive.")})
    arrival = (now or utcnow()).astimezone(AMSTERDAM) + timedelta(minutes=count)
    return arrival.strftime("%H:%M")


# The planners' variable for the planned date, in their proposal and confirmation
# ("we kunnen uw laadpaal installeren op {{installation_date}} in de {{time_window}}").
ANNOUNCED_DATE_VARIABLE = "installation_date"


# What announces the visit still to come: its moment ("morgen …", "vandaag tussen …")
# and the expected arrival. Once the technician is at work, neither fits.
COMING_VISIT_VARIABLES = frozenset({"visit_moment", ETA_VARIABLE})


def announces_the_date(template: CommunicationTemplate, order: Order, day: date) -> bool:
    """A message that tells the customer a visit is coming, when that is no news.

    On the day itself (or later) a planners' proposal offers today as a date:
    "installeren op 23-11-2026 in de hele dag beschikbaar" is no reply for a
    technician at work. With the visit under way, a reminder of it or "I'm on
    my way" is none either.
    """
    if order.scheduled_date is None or order.scheduled_date > day:
        return False
    used = set(template.variables or []) | set(
        placeholders_in(template.subject_template, template.message_template)
    )
    if ANNOUNCED_DATE_VARIABLE in used:
        return True
    return order.status == OrderStatus.IN_PROGRESS and bool(used & COMING_VISIT_VARIABLES)


def quick_reply_templates() -> list[CommunicationTemplate]:
    """The candidates, loaded once per page: not the office's own plan notices."""
    return list(
        db.session.scalars(
            sa.select(CommunicationTemplate)
            .where(
                CommunicationTemplate.is_active.is_(True),
                CommunicationTemplate.template_category == QUICK_REPLY_CATEGORY,
                CommunicationTemplate.template_name.not_in(PLAN_NOTICE_TEMPLATES.values()),
            )
            .order_by(CommunicationTemplate.template_name)
        )
    )


def visit_variables(order: Order, technician: User, day: date) -> dict[str, str]:
    """What the technician's templates may ask for beyond the thread's own variables."""
    preferences = order.installation_preferences or {}
    values = {
        "technician_name": technician.name,
        "technician_phone": technician.phone,
        "visit_date": (order.scheduled_date or day).strftime("%d-%m-%Y"),
        "visit_time": preferences.get("time_window") or preferences.get("time_preference"),
        # "vandaag tussen 12:00 en 17:00", not "morgen (22-11-2026)" on the day itself.
        "visit_moment": visit_moment(order.scheduled_date, time_window(order), day),
    }
    return {name: str(value) for name, value in values.items() if value}


def quick_replies_for(
    order: Order,
    thread: CommunicationThread | None,
    technician: User,
    day: date,
    templates: list[CommunicationTemplate],
) -> list[QuickReply]:
    """The buttons for one visit (read-only: no conversation is started to show them)."""
    if order.end_customer is None or not templates:
        return []
    thread = thread or _unsaved_thread(order)
    if thread is None:
        return []
    channels = reachable_channels(thread)
    if not channels:
        return []
    channel = channels[0]  # the one compose_reply will choose
    approved_only = (
        channel.channel_type == ChannelType.WHATSAPP_BUSINESS and not service_window(thread).is_open
    )
    variables = visit_variables(order, technician, day)
    # The customer's language, or the desk's own: no English button for a Dutch customer.
    languages = {DEFAULT_LANGUAGE, customer_language(thread.contact)}
    # Once the customer knows the technician is on the way, no button says it again.
    told = any(map(is_on_the_way_template, templates)) and already_told(order.id, day)
    replies = []
    # The technician's own replies ("Ik sta voor de deur") before the planners'.
    mine_first = sorted(templates, key=lambda t: not t.template_name.startswith(TECHNICIAN_PREFIX))
    for template in mine_first:
        if template.channel_type.value not in ("any", channel.channel_type.value):
            continue
        if base_language(template.language) not in languages:
            continue
        if approved_only and not template.whatsapp_template_name:
            continue
        if announces_the_date(template, order, day):
            continue
        if told and is_on_the_way_template(template):
            continue
        wants_eta = needs_eta(template)
        # The arrival time is picked at the tap; the preview shows where it goes.
        filled = {**variables, ETA_VARIABLE: QuickReply.ETA_PREVIEW} if wants_eta else variables
        try:
            rendered = render_for_thread(template, thread, technician, filled)
        except TemplateRenderError:
            continue  # needs something this visit cannot fill in: no one-tap button
        replies.append(
            QuickReply(template.id, template.display_name, rendered.body.strip(), wants_eta)
        )
        if len(replies) == MAX_QUICK_REPLIES:
            break
    return replies


def _unsaved_thread(order: Order) -> CommunicationThread | None:
    """The conversation :func:`order_thread` would start, kept out of the session.

    Rendering needs a thread; a page view must not write one. Nothing refers to
    this object from the session, so it is never flushed.
    """
    channel = customer_channel(order.end_customer)
    if channel is None:
        return None
    return unsaved_thread(
        subject=f"Order {order.order_number}",
        channel_id=channel.id,
        contact=order.end_customer,
        order=order,
    )


def send_quick_reply(
    order: Order,
    technician: User,
    template_id: str | None,
    day: date,
    *,
    eta: str | None = None,
    hold_seconds: float = 0,
) -> CommunicationMessage:
    """Send one quick reply on the order's conversation; InvalidInput says why not.

    ``eta``: the arrival time for a template asking for one. ``hold_seconds``:
    the reply waits that long (Undo) before it goes out, as an agent's does.
    """
    template = _quick_reply_template(template_id)
    # The customer's link only when sending: showing the buttons issues no link.
    variables = visit_variables(order, technician, day)
    variables["customer_link"] = customer_link_url(order)
    if needs_eta(template):
        if not eta:
            raise InvalidInput({"eta": _("Pick when you expect to arrive.")})
        variables[ETA_VARIABLE] = eta
    thread = customer_thread(order)
    if thread is None:
        # Never the partner's conversation instead: nothing is sent.
        raise InvalidInput(
            {"template_id": _("There is no way to reach this visit's customer; ask the office.")}
        )
    # "On my way" reaches the customer once per visit, whichever way it is sent.
    try:
        notice_id = claim_for_template(order.id, template.id, day)
    except AlreadyTold as exc:
        raise InvalidInput(
            {"template_id": _("The customer was already told today that you are on the way.")}
        ) from exc
    message = compose_reply(
        thread,
        technician,
        content=None,
        template_id=template.id,
        variables=variables,
        hold_seconds=hold_seconds,
        system_composed=True,  # a tapped visit message: template and variables are ours
    )
    if notice_id is not None:
        record_notice_message(notice_id, message.id)
    return message


def seconds_behind_held(order: Order) -> float:
    """How long a reply must wait to go out after every reply still held on the order's
    conversation (0 when none is): replies reach the customer in the order written."""
    thread = find_customer_thread(order)
    if thread is None:
        return 0
    last_release = db.session.scalar(
        sa.select(sa.func.max(CommunicationMessage.send_held_until)).where(
            CommunicationMessage.thread_id == thread.id,
            CommunicationMessage.send_held_until > utcnow(),
        )
    )
    if last_release is None:
        return 0
    return (last_release - utcnow()).total_seconds() + HELD_REPLY_GAP_SECONDS


def withdraw_quick_reply(
    order: Order, technician: User, message_id: uuid.UUID
) -> CommunicationMessage | None:
    """Take back a held quick reply before it leaves; None once it is being sent."""
    thread = find_customer_thread(order)
    if thread is None:
        return None
    # An "on my way" taken back was never sent: it may be sent again. (The caller
    # rolls back when the message had already left.)
    release_notice_of(message_id)
    return withdraw_outbound(thread, message_id, author_id=technician.id)


def _quick_reply_template(template_id: str | None) -> CommunicationTemplate:
    try:
        template = db.session.get(CommunicationTemplate, uuid.UUID(str(template_id)))
    except ValueError:
        template = None
    if (
        template is None
        or not template.is_active
        or template.template_category != QUICK_REPLY_CATEGORY
        or template.template_name in PLAN_NOTICE_TEMPLATES.values()
    ):
        raise InvalidInput({"template_id": _("That is not one of the quick replies.")})
    return template
