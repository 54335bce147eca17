"""What a partner user types on the portal's key and webhook pages, read and checked.

Each function takes the submitted form (or one of its values) and either returns
what it means or raises :class:`~app.orders.partners.config.ConfigInvalid`
naming the wrong fields, with the message to show beside each.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask_babel import gettext as _

from app.orders.partners.config import ConfigInvalid
from app.orders.partners.keys import issue_partner_key
from app.platform.database import utcnow
from app.platform.models import Organization, User
from app.platform.models.enums import KeyMode, KeyScope
from app.platform.typed_dates import DateRefused, parse_day
from app.platform.ui import DISPLAY_ZONE

DEFAULT_OVERLAP_HOURS = 24
MAX_OVERLAP_HOURS = 7 * 24


def issue_key_from_form(partner: Organization, form, user: User | None) -> str:
    """A new API key for ``partner`` from the keys form (``name``, ``mode``, ``scope``,
    ``expires``); returns the plain key (no commit). The name is checked only once
    the other fields are right, as the service that issues the key checks it."""
    errors: dict[str, str] = {}
    mode = form.get("mode", "")
    key_scope = form.get("scope", "")
    if mode not in KeyMode.values():
        errors["mode"] = _("Choose live or test.")
    if key_scope not in KeyScope.values():
        errors["scope"] = _("Choose read or write.")
    expires_at = None
    try:
        day = parse_day(form.get("expires"))
    except DateRefused as exc:
        errors["expires"] = str(exc)
    else:
        if day is not None:
            expires_at = datetime.combine(day + timedelta(days=1), time.min, tzinfo=DISPLAY_ZONE)
            if expires_at <= utcnow():
                errors["expires"] = _("Choose a day in the future.")
    if errors:
        raise ConfigInvalid(errors)
    try:
        _token, plain = issue_partner_key(
            partner,
            form.get("name", ""),
            user,
            mode=KeyMode(mode),
            scope=KeyScope(key_scope),
            expires_at=expires_at,
        )
    except ValueError as exc:
        raise ConfigInvalid({"name": str(exc).partition(": ")[2] or str(exc)}) from None
    return plain


def overlap_hours(value: str | None) -> int:
    """The hours the replaced signing secret keeps working (empty: the default)."""
    try:
        hours = int(value or DEFAULT_OVERLAP_HOURS)
    except ValueError:
        hours = -1
    if not 0 <= hours <= MAX_OVERLAP_HOURS:
        message = _("Between 0 and %(max)s hours.", max=MAX_OVERLAP_HOURS)
        raise ConfigInvalid({"overlap_hours": message})
    return hours
