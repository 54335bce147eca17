"""Editing business calendars and SLA policies (the /admin/sla page's services).

Forms arrive as plain mappings; each ``save_*`` checks every field, raises
:class:`FormErrors` naming the bad ones (nothing is written then), or applies
the change to the session for the route to commit. Changes apply to cycles
that start afterwards: running deadlines are not moved retroactively.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.conversations.business_time.calendar import (
    WEEKDAYS,
    default_calendar,
    is_holiday,
    schedule_of,
)
from app.conversations.business_time.policies import ensure_default_policies
from app.platform.audit.records import record_edit, snapshot
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationChannel
from app.platform.models.enums import ChannelType, Priority
from app.platform.models.sla import BusinessCalendar, SlaPolicy
from app.platform.typed_dates import DateRefused, parse_day

DAY_LABELS = dict(
    zip(
        WEEKDAYS,
        (
            _l("Monday"),
            _l("Tuesday"),
            _l("Wednesday"),
            _l("Thursday"),
            _l("Friday"),
            _l("Saturday"),
            _l("Sunday"),
        ),
        strict=True,
    )
)
PERIOD = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")
CLOCK = re.compile(r"^([01]?\d|2[0-3]):[0-5]\d$|^24:00$")
MAX_RESPONSE_MINUTES = 60 * 24 * 30  # a month; longer is not a service level
MAX_CLOSED_DATES = 400
# What the audit log compares before and after an edit.
CALENDAR_FIELDS = (
    "name",
    "timezone",
    "holiday_country",
    "weekly_hours",
    "closed_dates",
    "is_default",
)
POLICY_FIELDS = ("name", "channel_type", "priority", "escalated", "response_minutes", "is_active")


class FormErrors(ValueError):
    """Bad input; ``fields`` maps each offending field name to what is wrong with it."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def ensure_defaults() -> bool:
    """Store the default calendar and policies when there are none; True if it did."""
    created = ensure_default_policies()
    if db.session.scalar(sa.select(sa.func.count(BusinessCalendar.id))) == 0:
        db.session.add(default_calendar())
        db.session.flush()
        created = True
    return created


# --- calendars ----------------------------------------------------------------------


def calendar_form_values(calendar: BusinessCalendar | None) -> dict[str, Any]:
    """A calendar as the form shows it (a blank Mon–Fri 08:00–17:00 one for "new")."""
    calendar = calendar or default_calendar()
    hours = calendar.weekly_hours or {}
    values: dict[str, Any] = {
        "name": "" if calendar.id is None else calendar.name,
        "timezone": calendar.timezone,
        "holiday_country": calendar.holiday_country or "",
        "closed_dates": "\n".join(str(d) for d in calendar.closed_dates or []),
        "is_default": bool(calendar.is_default) if calendar.id else False,
        "channel_ids": [
            str(c.id) for c in channels() if calendar.id and c.business_calendar_id == calendar.id
        ],
    }
    for day in WEEKDAYS:
        values[f"hours_{day}"] = ", ".join(f"{p[0]}-{p[1]}" for p in hours.get(day) or [])
    return values


def save_calendar(calendar: BusinessCalendar | None, form: Mapping[str, Any]) -> BusinessCalendar:
    """Create (``calendar`` None) or update a calendar from form input."""
    errors: dict[str, str] = {}
    name = str(form.get("name") or "").strip()
    if not name:
        errors["name"] = _("Give the calendar a name.")
    elif len(name) > 120:
        errors["name"] = _("At most 120 characters.")
    elif _name_taken(name, calendar):
        errors["name"] = _("Another calendar has this name.")
    zone = str(form.get("timezone") or "").strip()
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = _("Use a time zone name such as Europe/Amsterdam.")
    country = str(form.get("holiday_country") or "").strip().upper()
    if country and country not in holidays.list_supported_countries():
        errors["holiday_country"] = _("Use a two-letter country code such as NL (or leave empty).")
    weekly: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        try:
            weekly[day] = parse_periods(str(form.get(f"hours_{day}") or ""))
        except ValueError as exc:
            errors[f"hours_{day}"] = str(exc)
    if not any(f"hours_{d}" in errors for d in WEEKDAYS) and not any(weekly.values()):
        errors["hours_mon"] = _("Open at least one period a week, or no deadline could ever fall.")
    closed, bad, out_of_range = parse_dates(str(form.get("closed_dates") or ""))
    if bad:
        errors["closed_dates"] = _(
            "Not dates (use YYYY-MM-DD): %(dates)s", dates=", ".join(bad[:5])
        )
    elif out_of_range:
        errors["closed_dates"] = f"{out_of_range[0]}: {out_of_range[1]}"
    elif len(closed) > MAX_CLOSED_DATES:
        errors["closed_dates"] = _("At most %(count)s dates.", count=MAX_CLOSED_DATES)
    known = {str(c.id): c for c in channels()}
    chosen = _list(form, "channel_ids")
    if any(channel_id not in known for channel_id in chosen):
        errors["channel_ids"] = _("Pick channels from the list.")
    make_default = _checked(form, "is_default")
    if calendar is not None and calendar.is_default and not make_default:
        errors["is_default"] = _("Make another calendar the default instead.")
    if errors:
        raise FormErrors(errors)

    before = _calendar_audited(calendar) if calendar is not None else {}
    action = "CALENDAR_UPDATED" if calendar is not None else "CALENDAR_CREATED"
    if calendar is None:
        calendar = BusinessCalendar(name=name)
        db.session.add(calendar)
    calendar.name = name
    calendar.timezone = zone
    calendar.holiday_country = country or None
    calendar.weekly_hours = weekly
    calendar.closed_dates = [d.isoformat() for d in closed]
    if make_default and not calendar.is_default:
        db.session.execute(
            sa.update(BusinessCalendar)
            .values(is_default=False)
            .execution_options(synchronize_session="fetch")
        )
    calendar.is_default = make_default
    db.session.flush()
    for channel_id, channel in known.items():
        if channel_id in chosen:
            channel.business_calendar_id = calendar.id
        elif channel.business_calendar_id == calendar.id:
            channel.business_calendar_id = None  # back to the default calendar
    db.session.flush()
    record_edit(
        BusinessCalendar.__tablename__, calendar.id, action, before, _calendar_audited(calendar)
    )
    return calendar


def _calendar_audited(calendar: BusinessCalendar) -> dict[str, Any]:
    """The calendar's settings and the channels that keep its hours, as the log compares them."""
    audited = snapshot(calendar, CALENDAR_FIELDS)
    audited["channels"] = sorted(
        c.channel_name for c in channels() if c.business_calendar_id == calendar.id
    )
    return audited


def delete_calendar(calendar: BusinessCalendar) -> None:
    """Remove a calendar; its channels fall back to the default. The default stays."""
    if calendar.is_default:
        raise FormErrors(
            {
                "calendar": _(
                    "The default calendar cannot be deleted; make another the default first."
                )
            }
        )
    record_edit(
        BusinessCalendar.__tablename__,
        calendar.id,
        "CALENDAR_DELETED",
        _calendar_audited(calendar),
        {},
    )
    db.session.execute(
        sa.update(CommunicationChannel)
        .where(CommunicationChannel.business_calendar_id == calendar.id)
        .values(business_calendar_id=None)
    )
    db.session.delete(calendar)
    db.session.flush()


def parse_periods(text: str) -> list[list[str]]:
    """``"08:00-12:00, 13:00-17:00"`` → ``[["08:00", "12:00"], ["13:00", "17:00"]]``.

    Empty text is a closed day.
    """
    periods: list[list[str]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = PERIOD.match(part)
        if not match:
            raise ValueError(
                _("Write periods as 08:00-17:00, separated by commas (%(part)s).", part=repr(part))
            )
        start, end = (_clock(t) for t in match.groups())
        if not (CLOCK.match(start) and CLOCK.match(end)) or start == "24:00":
            raise ValueError(_("%(part)s: times run from 00:00 to 24:00.", part=repr(part)))
        if end <= start:
            raise ValueError(_("%(part)s: the end must come after the start.", part=repr(part)))
        periods.append([start, end])
    periods.sort()
    for (_start, earlier_end), (later_start, _end) in zip(periods, periods[1:], strict=False):
        if later_start < earlier_end:
            raise ValueError(_("Periods overlap."))
    return periods


def parse_dates(text: str) -> tuple[list[date], list[str], tuple[str, str] | None]:
    """The days listed in ``text``; the parts that are not dates; the first day out of
    range with why (:mod:`app.platform.typed_dates`)."""
    good, bad, out_of_range = set(), [], None
    for part in filter(None, (p.strip() for p in re.split(r"[\s,]+", text))):
        try:
            good.add(parse_day(part))
        except DateRefused as exc:
            if not exc.out_of_range:
                bad.append(part)
            elif out_of_range is None:
                out_of_range = (part, str(exc))
    return sorted(good), bad, out_of_range


def upcoming_closed_days(calendar: BusinessCalendar, days: int = 120) -> list[date]:
    """Weekdays with opening hours that are closed (holidays, our own dates) soon."""
    try:
        schedule = schedule_of(calendar)
    except ValueError:
        return []
    today = utcnow().astimezone(ZoneInfo(schedule.zone)).date()
    span = (today + timedelta(days=n) for n in range(days))
    return [d for d in span if schedule.weekly[d.weekday()] and is_holiday(schedule, d)][:8]


# --- policies -------------------------------------------------------------------------


def policy_form_values(policy: SlaPolicy | None) -> dict[str, Any]:
    if policy is None:
        return {
            "name": "",
            "channel_type": "",
            "priority": "",
            "escalated": False,
            "response_minutes": "",
            "is_active": True,
        }
    return {
        "name": policy.name,
        "channel_type": policy.channel_type or "",
        "priority": policy.priority or "",
        "escalated": bool(policy.escalated),
        "response_minutes": str(policy.response_minutes),
        "is_active": bool(policy.is_active),
    }


def save_policy(policy: SlaPolicy | None, form: Mapping[str, Any]) -> SlaPolicy:
    """Create (``policy`` None) or update a policy from form input."""
    errors: dict[str, str] = {}
    name = str(form.get("name") or "").strip()
    if not name:
        errors["name"] = _("Give the policy a name.")
    elif len(name) > 120:
        errors["name"] = _("At most 120 characters.")
    channel_type = str(form.get("channel_type") or "").strip() or None
    if channel_type is not None and channel_type not in ChannelType.values():
        errors["channel_type"] = _("Pick a channel from the list.")
    priority = str(form.get("priority") or "").strip() or None
    if priority is not None and priority not in Priority.values():
        errors["priority"] = _("Pick a priority from the list.")
    raw_minutes = str(form.get("response_minutes") or "").strip()
    minutes = int(raw_minutes) if raw_minutes.isdigit() else None
    if minutes is None or not 1 <= minutes <= MAX_RESPONSE_MINUTES:
        errors["response_minutes"] = _(
            "A whole number of minutes from 1 to %(max)s.", max=MAX_RESPONSE_MINUTES
        )
    escalated = _checked(form, "escalated")
    if "channel_type" not in errors and "priority" not in errors:
        clash = _policy_for(channel_type, priority, escalated)
        if clash is not None and clash is not policy:
            errors["channel_type"] = _(
                "“%(name)s” already covers this channel and priority.", name=clash.name
            )
    if errors:
        raise FormErrors(errors)
    before = snapshot(policy, POLICY_FIELDS) if policy is not None else {}
    action = "SLA_POLICY_UPDATED" if policy is not None else "SLA_POLICY_CREATED"
    if policy is None:
        policy = SlaPolicy(name=name, response_minutes=minutes)
        db.session.add(policy)
    policy.name = name
    policy.channel_type = channel_type
    policy.priority = priority
    policy.escalated = escalated
    policy.response_minutes = minutes
    policy.is_active = _checked(form, "is_active")
    db.session.flush()
    record_edit(SlaPolicy.__tablename__, policy.id, action, before, snapshot(policy, POLICY_FIELDS))
    return policy


def delete_policy(policy: SlaPolicy) -> None:
    record_edit(
        SlaPolicy.__tablename__,
        policy.id,
        "SLA_POLICY_DELETED",
        snapshot(policy, POLICY_FIELDS),
        {},
    )
    db.session.delete(policy)
    db.session.flush()


# --- reading --------------------------------------------------------------------------


def channels() -> list[CommunicationChannel]:
    return list(
        db.session.scalars(
            sa.select(CommunicationChannel).order_by(CommunicationChannel.channel_name)
        )
    )


def calendars() -> list[BusinessCalendar]:
    return list(
        db.session.scalars(
            sa.select(BusinessCalendar).order_by(
                BusinessCalendar.is_default.desc(), BusinessCalendar.name
            )
        )
    )


def policies() -> list[SlaPolicy]:
    return list(
        db.session.scalars(
            sa.select(SlaPolicy).order_by(
                SlaPolicy.escalated,
                SlaPolicy.channel_type.nulls_last(),
                SlaPolicy.priority.nulls_last(),
            )
        )
    )


def get_calendar(calendar_id: uuid.UUID) -> BusinessCalendar | None:
    return db.session.get(BusinessCalendar, calendar_id)


def get_policy(policy_id: uuid.UUID) -> SlaPolicy | None:
    return db.session.get(SlaPolicy, policy_id)


@dataclass
class EditForm:
    """One form on the page: its values and, after a refused save, its errors."""

    key: str
    values: dict[str, Any]
    record: Any = None
    errors: dict[str, str] = field(default_factory=dict)


def page_forms(failed_key: str | None = None, submitted=None, errors=None) -> dict[str, Any]:
    """Every calendar and policy form; the failed one refilled with what was typed."""
    calendar_forms = [EditForm(f"calendar-{c.id}", calendar_form_values(c), c) for c in calendars()]
    calendar_forms.append(EditForm("calendar-new", calendar_form_values(None)))
    policy_forms = [EditForm(f"policy-{p.id}", policy_form_values(p), p) for p in policies()]
    policy_forms.append(EditForm("policy-new", policy_form_values(None)))
    for form in calendar_forms + policy_forms:
        if form.key == failed_key:
            form.values = _refill(form.values, submitted or {})
            form.errors = errors or {}
    return {"calendar_forms": calendar_forms, "policy_forms": policy_forms}


def _refill(values: dict[str, Any], submitted) -> dict[str, Any]:
    refilled = dict(values)
    for key in values:
        if key == "channel_ids":
            refilled[key] = _list(submitted, key)
        elif isinstance(values[key], bool):
            refilled[key] = _checked(submitted, key)
        else:
            refilled[key] = str(submitted.get(key) or "")
    return refilled


def _name_taken(name: str, calendar: BusinessCalendar | None) -> bool:
    other = db.session.scalar(
        sa.select(BusinessCalendar).where(sa.func.lower(BusinessCalendar.name) == name.lower())
    )
    return other is not None and other is not calendar


def _policy_for(channel_type, priority, escalated) -> SlaPolicy | None:
    for policy in db.session.scalars(sa.select(SlaPolicy)):
        if (policy.channel_type, policy.priority, bool(policy.escalated)) == (
            channel_type,
            priority,
            escalated,
        ):
            return policy
    return None


def _checked(form, key: str) -> bool:
    return str(form.get(key) or "").lower() in ("1", "on", "true", "yes")


def _list(form, key: str) -> list[str]:
    if hasattr(form, "getlist"):
        return [str(v) for v in form.getlist(key)]
    value = form.get(key) or []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _clock(text: str) -> str:
    hours, minutes = text.split(":")
    return f"{int(hours):02d}:{minutes}"
