"""Which Outlook mailbox holds a user's calendar, and the settings that say so.

A user's calendar is their Microsoft account's mailbox: ``calendar_mailbox`` (their
UPN or address in Microsoft 365) when set, else their e-mail here. With
``outlook_calendar`` off they have no Outlook calendar: a technician's visits
then reach them only through their iCalendar feed.
"""

from __future__ import annotations

from flask_babel import gettext as _

from app.conversations.contacts.emails import is_email_address
from app.platform.audit.records import record_edit
from app.platform.models import User

MAX_LENGTH = 254


class InvalidCalendarSettings(ValueError):
    """Settings that cannot be saved; ``fields`` names what is wrong, per field."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{key}: {text}" for key, text in fields.items()))
        self.fields = fields


def calendar_mailbox_of(user: User) -> str:
    """The mailbox of the user's Outlook calendar (their UPN or e-mail)."""
    return (user.calendar_mailbox or user.email).strip().lower()


def outlook_mailbox_of(user: User | None) -> str | None:
    """The mailbox to write the user's visits to; None without an Outlook calendar."""
    if user is None or not user.outlook_calendar or not user.is_active_account:
        return None
    return calendar_mailbox_of(user)


def update_calendar_settings(user: User, *, mailbox: str, outlook_calendar: bool) -> bool:
    """Save the user's calendar settings; True when they changed. Audited; no commit."""
    clean = (mailbox or "").strip().lower()
    if len(clean) > MAX_LENGTH or (clean and not is_email_address(clean)):
        raise InvalidCalendarSettings(
            {"calendar_mailbox": _("%(address)s is not an e-mail address.", address=clean)}
        )
    value = None if clean in ("", user.email.lower()) else clean
    before = _audited(user)
    user.calendar_mailbox = value
    user.outlook_calendar = bool(outlook_calendar)
    after = _audited(user)
    if after == before:
        return False
    record_edit(User.__tablename__, user.id, "CALENDAR_SETTINGS_CHANGED", before, after)
    return True


def _audited(user: User) -> dict:
    return {"calendar_mailbox": user.calendar_mailbox, "outlook_calendar": user.outlook_calendar}
