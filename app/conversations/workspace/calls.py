"""Logging a phone call from the conversation page or the JSON API.

The agent's input (a form or a JSON body) is checked here, each problem named
by its field; the call itself is written by the conversation's owner
(:func:`app.conversations.core.log_call`) and recorded in the audit log with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _

from app.conversations.core import format_duration, log_call
from app.conversations.workspace.services import MAX_MESSAGE_LENGTH, InvalidInput
from app.platform.audit.records import record_change
from app.platform.database import utcnow
from app.platform.models import CommunicationMessage, CommunicationThread, User
from app.platform.models.calls import MAX_CALL_SECONDS
from app.platform.models.enums import CallDirection, CallOutcome
from app.platform.typed_dates import DateRefused, parse_moment

# "4:12" (minutes:seconds) or "1:02:03" (hours:minutes:seconds).
_CLOCK = re.compile(r"^(?:(\d{1,2}):)?(\d{1,3}):(\d{2})$")
# Whole or decimal minutes: "12", "4.5", "4,5".
_MINUTES = re.compile(r"^(\d{1,4})(?:[.,](\d{1,2}))?$")
# A call logged later the same week is normal; older ones are a typo in the date.
MAX_LOGGED_AGO = timedelta(days=31)


@dataclass(frozen=True)
class CallInput:
    """A checked call: what :func:`app.conversations.core.log_call` takes."""

    direction: CallDirection
    outcome: CallOutcome
    duration_seconds: int
    notes: str
    at: datetime | None = None


def parse_duration(raw: object) -> int | None:
    """Seconds from "mm:ss", "h:mm:ss" or minutes ("12", "4,5"); None if unreadable.

    A whole number from JSON (``duration_seconds``) is not taken here: it is
    already seconds.
    """
    text = str(raw if raw is not None else "").strip()
    clock = _CLOCK.match(text)
    if clock:
        hours, minutes, seconds = (int(part or 0) for part in clock.groups())
        if seconds >= 60 or (hours and minutes >= 60):
            return None
        return hours * 3600 + minutes * 60 + seconds
    minutes = _MINUTES.match(text)
    if minutes:
        whole, fraction = minutes.groups()
        return round((int(whole) + float(f"0.{fraction}" if fraction else 0)) * 60)
    return None


def read_call(data: dict) -> CallInput:
    """Check a call's fields (form or JSON); :class:`InvalidInput` names each bad one.

    ``duration`` as text ("4:12", "12") or ``duration_seconds`` as a number;
    empty means 0, allowed unless the customer was reached. ``called_at`` (ISO
    8601, API only) when the call was earlier than now.
    """
    errors: dict[str, str] = {}
    direction = _choice(CallDirection, data.get("direction"))
    if direction is None:
        errors["direction"] = _("Choose whether the customer called us or we called them.")
    outcome = _choice(CallOutcome, data.get("outcome"))
    if outcome is None:
        errors["outcome"] = _("Choose how the call went.")
    duration, duration_error = _duration(data, outcome)
    if duration_error:
        errors["duration"] = duration_error
    notes = str(data.get("notes") or "").strip()
    if len(notes) > MAX_MESSAGE_LENGTH:
        errors["notes"] = _("Notes can be at most %(count)s characters.", count=MAX_MESSAGE_LENGTH)
    at, at_error = _called_at(data.get("called_at"))
    if at_error:
        errors["called_at"] = at_error
    if errors:
        raise InvalidInput(errors)
    return CallInput(direction, outcome, duration, notes, at)


def add_call(thread: CommunicationThread, author: User, call: CallInput) -> CommunicationMessage:
    """Log ``call`` on ``thread`` as made or taken by ``author``, with an audit entry."""
    message = log_call(
        thread,
        agent_id=author.id,
        direction=call.direction,
        outcome=call.outcome,
        duration_seconds=call.duration_seconds,
        notes=call.notes,
        at=call.at,
    )
    record_change(
        "phone_calls",
        message.phone_call.id,
        "call_logged",
        {
            "thread_id": thread.id,
            "message_id": message.id,
            "direction": call.direction,
            "outcome": call.outcome,
            "duration": format_duration(call.duration_seconds),
        },
        user_id=author.id,
    )
    return message


def _choice(enum_cls, raw: object):
    try:
        return enum_cls(str(raw or "").strip())
    except ValueError:
        return None


def _duration(data: dict, outcome: CallOutcome | None) -> tuple[int, str | None]:
    if isinstance(data.get("duration_seconds"), int) and not isinstance(
        data.get("duration_seconds"), bool
    ):
        seconds: int | None = data["duration_seconds"]
    elif data.get("duration_seconds") is not None:
        return 0, _("Give the duration in whole seconds.")
    elif str(data.get("duration") or "").strip() == "":
        if outcome == CallOutcome.REACHED:
            return 0, _("Enter how long you spoke with the customer, as mm:ss or in minutes.")
        return 0, None
    else:
        seconds = parse_duration(data.get("duration"))
    if seconds is None or seconds < 0:
        return 0, _("Enter the duration as mm:ss (4:12) or in minutes (4).")
    if seconds > MAX_CALL_SECONDS:
        return 0, _(
            "A call can last at most %(hours)s hours; check the duration.",
            hours=MAX_CALL_SECONDS // 3600,
        )
    if seconds == 0 and outcome == CallOutcome.REACHED:
        return 0, _("Enter how long you spoke with the customer, as mm:ss or in minutes.")
    return seconds, None


def _called_at(raw: object) -> tuple[datetime | None, str | None]:
    if raw in (None, ""):
        return None, None
    try:
        at = parse_moment(str(raw), None)
    except DateRefused as exc:
        if exc.reason == "no_zone":
            return None, _("Give the time of the call with its time zone.")
        if exc.out_of_range:
            return None, str(exc)
        return None, _("Give the time of the call as an ISO 8601 date and time.")
    if at is None:
        return None, None
    now = utcnow()
    if at > now + timedelta(minutes=1):
        return None, _("A call cannot be logged before it happens.")
    if at < now - MAX_LOGGED_AGO:
        return None, _("A call older than a month cannot be logged.")
    return at, None
