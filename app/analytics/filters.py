"""The date-range and team filters of ``/analytics``, validated.

Dates are Amsterdam calendar days, both ends included: ``from=2025-03-01&to=2025-03-31``
covers 1 March 00:00 up to 1 April 00:00 local time. The default is the last
30 days up to today.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from flask_babel import gettext as _

from app.analytics.sql import ZONE
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Team
from app.platform.typed_dates import DateRefused, parse_day

DEFAULT_DAYS = 30
MAX_DAYS = 366


# A quarter still reads per day (92 columns); anything longer is shown per week.
WEEKLY_AFTER_DAYS = 92


@dataclass(frozen=True)
class AnalyticsFilter:
    """A validated range of local days and an optional team."""

    first_day: date
    last_day: date
    team_id: uuid.UUID | None = None
    team_name: str | None = None
    # The CSV export keeps one row per day whatever the range; the page does not.
    every_day: bool = False

    @property
    def per_week(self) -> bool:
        """Long ranges show the message volume per week: 53 columns read, 365 do not."""
        return not self.every_day and self.days > WEEKLY_AFTER_DAYS

    @property
    def start(self) -> datetime:
        """The first instant of the range (UTC)."""
        return local_midnight(self.first_day)

    @property
    def end(self) -> datetime:
        """The first instant after the range (UTC)."""
        return local_midnight(self.last_day + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def query_args(self) -> dict[str, str]:
        """The filter as URL parameters (for the CSV links)."""
        args = {"from": self.first_day.isoformat(), "to": self.last_day.isoformat()}
        if self.team_id is not None:
            args["team"] = str(self.team_id)
        return args


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZONE).astimezone(timezone.utc)


def local_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZONE).date()


def default_filter(now: datetime | None = None) -> AnalyticsFilter:
    today = local_today(now)
    return AnalyticsFilter(today - timedelta(days=DEFAULT_DAYS - 1), today)


def parse_filter(
    args: Mapping[str, str], now: datetime | None = None
) -> tuple[AnalyticsFilter, dict[str, str]]:
    """The filter from query parameters, and errors by field name (empty when valid).

    On errors the returned filter is the default one, so the form can still be
    shown filled in.
    """
    errors: dict[str, str] = {}
    default = default_filter(now)
    first_day = _parse_day(args.get("from"), default.first_day, "from", errors)
    last_day = _parse_day(args.get("to"), default.last_day, "to", errors)
    if not errors:
        if first_day > last_day:
            errors["to"] = _("The end date must not be before the start date.")
        elif (last_day - first_day).days + 1 > MAX_DAYS:
            errors["from"] = _("Choose a range of at most %(max)s days.", max=MAX_DAYS)
    team_id, team_name = _parse_team(args.get("team"), errors)
    if errors:
        return default, errors
    return AnalyticsFilter(first_day, last_day, team_id, team_name), errors


def _parse_day(raw: str | None, fallback: date, field: str, errors: dict[str, str]) -> date:
    try:
        day = parse_day(raw)
    except DateRefused as exc:
        errors[field] = str(exc)
        return fallback
    return day or fallback


def _parse_team(raw: str | None, errors: dict[str, str]) -> tuple[uuid.UUID | None, str | None]:
    text = (raw or "").strip()
    if not text:
        return None, None
    try:
        team_id = uuid.UUID(text)
    except ValueError:
        errors["team"] = _("Choose a team from the list.")
        return None, None
    name = db.session.scalar(sa.select(Team.name).where(Team.id == team_id))
    if name is None:
        errors["team"] = _("That team does not exist (any more).")
        return None, None
    return team_id, name


def team_choices() -> list[tuple[str, str]]:
    """(id, name) of every team, for the filter's select."""
    rows = db.session.execute(sa.select(Team.id, Team.name).order_by(Team.name))
    return [(str(team_id), name) for team_id, name in rows]
