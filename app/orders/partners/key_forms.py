"""What an admin types in the partner page's credentials forms, read and checked.

Each function takes a submitted value and returns what it means, or raises
:class:`~app.orders.partners.config.ConfigInvalid` naming the field, with the
message to show beside it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from flask_babel import gettext as _

from app.orders.partners.config import ConfigInvalid
from app.orders.partners.keys import DEFAULT_SECRET_OVERLAP
from app.platform.auth.api_tokens import expiry_from_date

DEFAULT_OVERLAP_HOURS = int(DEFAULT_SECRET_OVERLAP.total_seconds() // 3600)


def parse_expiry(value: str | None) -> datetime | None:
    try:
        return expiry_from_date(value)
    except ValueError as exc:
        raise ConfigInvalid({"expires_at": str(exc)}) from None


def parse_choice(enum, value: str | None, default):
    try:
        return enum(value) if value else default
    except ValueError:
        raise ConfigInvalid({enum.__name__.lower(): _("Choose one of the options.")}) from None


class TypedOverlap(NamedTuple):
    """The overlap as typed (or the default), to show again, and what it means."""

    text: str
    hours: float
    # Bounded so that a huge number makes no timedelta overflow: the service
    # refuses anything outside its own range with its message.
    overlap: timedelta


class OverlapRefused(ConfigInvalid):
    """The overlap is not a number; ``text`` is what was typed, to show again."""

    def __init__(self, text: str, message: str) -> None:
        super().__init__({"overlap_hours": message})
        self.text = text


def parse_overlap(value: str | None) -> TypedOverlap:
    """Hours the replaced signing secret keeps working: a number, with a comma or a
    point (empty: the default)."""
    text = (value or "").strip() or str(DEFAULT_OVERLAP_HOURS)
    try:
        hours = float(text.replace(",", "."))
        if hours != hours:  # NaN
            raise ValueError
    except ValueError:
        raise OverlapRefused(text, _("Enter a number of hours.")) from None
    return TypedOverlap(text, hours, timedelta(hours=min(max(hours, -1.0), 24 * 365.0)))
