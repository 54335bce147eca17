"""``VISIT_REMINDER_TIME`` and ``VISIT_CONFIRM_BY``: local times the day before a visit."""

from __future__ import annotations

import re
from datetime import time

from flask import Flask, current_app

SETTINGS = ("VISIT_REMINDER_TIME", "VISIT_CONFIRM_BY")
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_local_time(name: str, raw: object) -> time:
    """``raw`` ("10:00") as a time; a RuntimeError naming the setting otherwise."""
    found = _CLOCK.match(str(raw or "").strip())
    if found is None:
        raise RuntimeError(f"{name} must be a time of day as HH:MM (e.g. 10:00), got {raw!r}")
    return time(int(found.group(1)), int(found.group(2)))


def init_app(app: Flask) -> None:
    """Refuse to start with a reminder time that is no time, or a confirm-by
    time not after it (an unanswered reminder would be flagged before it went)."""
    send_at = parse_local_time("VISIT_REMINDER_TIME", app.config.get("VISIT_REMINDER_TIME"))
    confirm_by = parse_local_time("VISIT_CONFIRM_BY", app.config.get("VISIT_CONFIRM_BY"))
    if confirm_by <= send_at:
        raise RuntimeError(
            f"VISIT_CONFIRM_BY ({confirm_by:%H:%M}) must be later than "
            f"VISIT_REMINDER_TIME ({send_at:%H:%M})"
        )


def reminder_time() -> time:
    """When the reminders go, Amsterdam time, the day before the visit."""
    return parse_local_time("VISIT_REMINDER_TIME", current_app.config["VISIT_REMINDER_TIME"])


def confirm_by() -> time:
    """After when an unanswered reminder goes to the desk, the day before the visit."""
    return parse_local_time("VISIT_CONFIRM_BY", current_app.config["VISIT_CONFIRM_BY"])
