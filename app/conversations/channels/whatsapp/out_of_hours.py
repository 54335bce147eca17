"""The out-of-hours auto-response on WhatsApp.

A customer writing while the desk is closed gets one friendly answer saying
when it opens again, written from a message template:

- the template named by the channel's ``configuration["out_of_hours_template"]``
  (a template name), else the active template whose WhatsApp name is
  ``out_of_hours``; its ``{{next_opening}}`` is filled in ("maandag 6 januari
  om 08:00"), or a sentence saying so is added when it has no such placeholder;
- opening hours are the channel's business calendar
(:mod:`app.conversations.business_time.calendar`).
  A WhatsApp channel may also keep ``business_hours: "08:00-17:00"`` in its
  configuration; a channel without a calendar of its own uses those hours on
  the default calendar's working days (holidays still apply);
- once per conversation window: after one out-of-hours answer, no other goes
  to the thread until the desk has answered or 24 hours have passed, so a
  burst of messages gets one reply. The thread's row lock serialises messages
  of one conversation processed by different workers;
- the customer has just written, so WhatsApp's 24-hour window is open and the
  answer goes out as free text by the usual send job;
- ``configuration["auto_responses"] = false`` switches it off, as it does the
  order-status answer.

It is an answer from nobody in particular: the thread's reply deadline and
first-response time are left alone, since a person still owes the real answer.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.conversations.business_time.calendar import (
    DEFAULT_WEEKLY_HOURS,
    Schedule,
    calendar_for,
    is_open,
    next_opening,
    parse_clock,
    schedule_of,
)
from app.conversations.core import post_outbound
from app.conversations.languages import DEFAULT_LANGUAGE, base_language, customer_language
from app.conversations.message_templates.rendering import (
    TemplateRenderError,
    placeholders_in,
    render_for_thread,
)
from app.conversations.message_templates.services import record_use_soon
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.kept import Kept, attached_copy, row_values
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationTemplate,
    CommunicationThread,
    Contact,
)
from app.platform.models.enums import MessageType
from app.platform.models.sla import BusinessCalendar

log = logging.getLogger(__name__)

WHATSAPP_TEMPLATE = "out_of_hours"
CONFIG_TEMPLATE_KEY = "out_of_hours_template"
AUTO_RESPONSE_KIND = "out_of_hours"
# One answer per conversation window: WhatsApp's customer-service window.
WINDOW = timedelta(hours=24)

DAYS = {
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS = {
    "nl": (
        "januari februari maart april mei juni juli augustus september oktober november december"
    ).split(),
    "en": (
        "January February March April May June July August September October November December"
    ).split(),
}
WORDS = {
    "nl": {"today": "vandaag", "tomorrow": "morgen", "at": "om"},
    "en": {"today": "today", "tomorrow": "tomorrow", "at": "at"},
}
ADDED_SENTENCE = {
    "nl": "We zijn weer bereikbaar vanaf {when}.",
    "en": "We are back {when}.",
}


def answer_out_of_hours(
    inbound: CommunicationMessage, contact: Contact, now: datetime | None = None
) -> CommunicationMessage | None:
    """Queue the out-of-hours answer to ``inbound`` when the desk is closed; None otherwise."""
    channel = inbound.channel or db.session.get(CommunicationChannel, inbound.channel_id)
    if channel is None or (channel.configuration or {}).get("auto_responses") is False:
        return None
    now = now or utcnow()
    schedule = desk_schedule(channel)
    # Closed when the customer wrote and still closed now: a late-processed
    # message never tells a customer "we open at 08:00" at 08:05.
    if is_open(schedule, inbound.created_at) or is_open(schedule, now):
        return None
    language = customer_language(contact)
    template = _kept_out_of_hours_template(channel, language)
    if template is None:
        log.info("desk closed but no out-of-hours template is active; no auto-response")
        return None
    thread = inbound.thread
    # Serialise the messages of one conversation (a burst handled by several
    # workers), so exactly one of them finds no earlier answer. The answer is
    # looked for in a statement after the lock: a statement that waited for it
    # still reads from before the wait, and would miss the other worker's answer.
    db.session.execute(_lock_thread(), {"thread_id": thread.id})
    last_answer, template_active = db.session.execute(
        _last_answer(), {"thread_id": thread.id, "template_id": template.id}
    ).one()
    if not template_active:
        _templates.forget(_template_key(channel, language))
        template = out_of_hours_template(channel, language)
        if template is None:
            log.info("desk closed but no out-of-hours template is active; no auto-response")
            return None
    if _answered_since(thread.id, last_answer, now):
        return None
    opens_at = next_opening(schedule, now)
    language = (template.language or "nl")[:2].lower()  # the answer's, not the customer's
    when = describe_opening(opens_at, now, schedule.zone, language)
    try:
        body = _render(template, thread, when, language)
    except TemplateRenderError as exc:
        log.warning("out-of-hours template %s cannot be filled: %s", template.id, exc.message)
        return None
    reply = post_outbound(
        thread,
        channel_id=channel.id,
        body=body,
        recipient={"phone": contact.phone, "name": contact.display_name},
        message_type=MessageType.AUTO_RESPONSE,
        template_id=template.id,
        automation="out_of_hours",
        at=max(now, inbound.created_at),
        extra={
            "auto_response": AUTO_RESPONSE_KIND,
            "next_opening": opens_at.isoformat(),
            "reply_to": inbound.external_message_id,
            "auto_reply_to": str(inbound.id),
        },
    )
    record_use_soon(template.id)
    return reply


# Every customer message asks whether the desk is open; its hours change
# seldom. Each worker keeps a channel's schedule for CONFIGURATION_CACHE_SECONDS
# (a change to the hours is seen that much later), keyed by what picks the calendar.
_schedules: Kept[Schedule] = Kept()


def desk_schedule(channel: CommunicationChannel) -> Schedule:
    """The opening hours of :func:`desk_calendar`, kept a few seconds per worker."""
    key = (
        channel.id,
        channel.business_calendar_id,
        (channel.configuration or {}).get("business_hours"),
    )
    return _schedules.get(key, lambda: schedule_of(desk_calendar(channel)))


def desk_calendar(channel: CommunicationChannel) -> BusinessCalendar:
    """The channel's calendar; its ``business_hours`` when it has none of its own."""
    calendar = calendar_for(channel)
    hours = (channel.configuration or {}).get("business_hours")
    if channel.business_calendar_id is not None or not isinstance(hours, str):
        return calendar
    start, _, end = hours.partition("-")
    try:
        opens, closes = parse_clock(start), parse_clock(end)
    except ValueError:
        log.warning("channel %s: ignoring business_hours %r", channel.id, hours)
        return calendar
    if opens is None or (closes is not None and closes <= opens):
        log.warning("channel %s: ignoring business_hours %r", channel.id, hours)
        return calendar
    weekly = calendar.weekly_hours or DEFAULT_WEEKLY_HOURS
    # An unsaved copy: the same zone, working days and holidays, other hours.
    return BusinessCalendar(
        name=f"{calendar.name} ({hours.strip()})",
        timezone=calendar.timezone,
        weekly_hours={
            day: ([[start.strip(), end.strip()]] if periods else [])
            for day, periods in weekly.items()
        },
        holiday_country=calendar.holiday_country,
        closed_dates=list(calendar.closed_dates or []),
    )


# Which template answers is asked on every message while the desk is closed, and
# mostly the answer is "the same as a moment ago": kept like the schedule above,
# as the template's values (None: there is none), joined to the session unread.
_templates: Kept[dict | None] = Kept()


def _template_key(channel: CommunicationChannel, language: str) -> tuple:
    return (channel.id, (channel.configuration or {}).get(CONFIG_TEMPLATE_KEY), language)


def _kept_out_of_hours_template(
    channel: CommunicationChannel, language: str
) -> CommunicationTemplate | None:
    """:func:`out_of_hours_template`, its choice kept ``CONFIGURATION_CACHE_SECONDS``
    per worker and language: no read at all (the caller checks that a kept
    template is still switched on, in the statement after the thread's lock)."""

    def load() -> dict | None:
        template = out_of_hours_template(channel, language)
        return row_values(template) if template is not None else None

    values = _templates.get(_template_key(channel, language), load)
    return attached_copy(CommunicationTemplate, values) if values is not None else None


def out_of_hours_template(
    channel: CommunicationChannel, language: str = DEFAULT_LANGUAGE
) -> CommunicationTemplate | None:
    """The configured template, else the one approved as ``out_of_hours``; in the
    customer's ``language`` where a template of the same WhatsApp name is (Meta approves
    a template per name and language: those are its translations)."""
    active = sa.select(CommunicationTemplate).where(CommunicationTemplate.is_active.is_(True))
    configured = (channel.configuration or {}).get(CONFIG_TEMPLATE_KEY)
    template = None
    if configured:
        template = db.session.scalar(
            active.where(CommunicationTemplate.template_name == str(configured))
        )
        if template is None:
            log.warning(
                "channel %s names out-of-hours template %r, which is not active",
                channel.id,
                configured,
            )
    if template is None:
        template = db.session.scalar(
            active.where(CommunicationTemplate.whatsapp_template_name == WHATSAPP_TEMPLATE)
            .order_by(CommunicationTemplate.created_at)
            .limit(1)
        )
    if template is None or not template.whatsapp_template_name:
        return template
    if base_language(template.language) == language:
        return template
    translated = db.session.scalar(
        active.where(
            CommunicationTemplate.whatsapp_template_name == template.whatsapp_template_name,
            CommunicationTemplate.language.like(f"{language}%"),
        )
        .order_by(CommunicationTemplate.created_at)
        .limit(1)
    )
    return translated or template


@functools.cache
def _lock_thread() -> sa.Select:
    return (
        sa.select(CommunicationThread.id)
        .where(CommunicationThread.id == sa.bindparam("thread_id"))
        .with_for_update()
    )


@functools.cache
def _last_answer() -> sa.Select:
    """The thread's newest out-of-hours answer, and whether the chosen template is
    still switched on: one round trip (statements built once per process)."""
    last_answer = (
        sa.select(sa.func.max(CommunicationMessage.created_at))
        .where(
            CommunicationMessage.thread_id == sa.bindparam("thread_id"),
            CommunicationMessage.message_type == MessageType.AUTO_RESPONSE,
            CommunicationMessage.extra["auto_response"].as_string() == AUTO_RESPONSE_KIND,
        )
        .scalar_subquery()
    )
    template_active = (
        sa.select(CommunicationTemplate.is_active)
        .where(CommunicationTemplate.id == sa.bindparam("template_id"))
        .scalar_subquery()
    )
    return sa.select(last_answer, sa.func.coalesce(template_active, sa.false()))


def _answered_since(thread_id, last: datetime | None, now: datetime) -> bool:
    """``last`` (the newest out-of-hours answer) is within the window and nobody of
    the desk has written since."""
    if last is None or last <= now - WINDOW:
        return False
    desk_answer = db.session.scalar(
        sa.select(CommunicationMessage.id)
        .where(
            CommunicationMessage.thread_id == thread_id,
            CommunicationMessage.message_type == MessageType.OUTGOING,
            CommunicationMessage.created_at > last,
        )
        .limit(1)
    )
    return desk_answer is None


def describe_opening(opens_at: datetime, now: datetime, zone: str, language: str = "nl") -> str:
    """ "morgen om 08:00", "vandaag om 08:00", "maandag 6 januari om 08:00" (or English)."""
    language = language if language in DAYS else "nl"
    tz = ZoneInfo(zone)
    local, today = opens_at.astimezone(tz), now.astimezone(tz).date()
    words = WORDS[language]
    clock = f"{words['at']} {local:%H:%M}"
    if local.date() == today:
        return f"{words['today']} {clock}"
    if local.date() == today + timedelta(days=1):
        return f"{words['tomorrow']} {clock}"
    day = DAYS[language][local.weekday()]
    month = MONTHS[language][local.month - 1]
    return f"{day} {local.day} {month} {clock}"


def _render(template, thread, when: str, language: str) -> str:
    rendered = render_for_thread(template, thread, None, {"next_opening": when})
    body = rendered.body.strip()
    if "next_opening" not in placeholders_in(template.message_template):
        sentence = ADDED_SENTENCE.get(language, ADDED_SENTENCE["nl"]).format(when=when)
        body = f"{body}\n\n{sentence}"
    return body
