"""What a planner asks of a proposal and of accepting it, checked field by field."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _

from app.platform.typed_dates import DateRefused, parse_day

# A fortnight at most: the solver's time limit is meant for a week or two of routes.
MOST_DAYS = 14


@dataclass(frozen=True)
class ProposalAsked:
    first: date
    last: date
    free_planned: bool


@dataclass(frozen=True)
class AcceptAsked:
    """All open visits (neither day nor visit), one day's, or one visit."""

    day: date | None
    visit_id: uuid.UUID | None


def parse_proposal_request(form, today: date) -> tuple[ProposalAsked | None, dict[str, str]]:
    errors: dict[str, str] = {}
    days = {}
    for name in ("first_day", "last_day"):
        try:
            days[name] = parse_day(form.get(name))
        except DateRefused as exc:
            errors[name] = str(exc)
            continue
        if days[name] is None:
            errors[name] = _("Choose a day.")
    if errors:
        return None, errors
    first, last = days["first_day"], days["last_day"]
    if last < first:
        errors["last_day"] = _("The last day comes before the first.")
    elif last < today:
        errors["last_day"] = _("These days have passed: choose days from today on.")
    elif (last - first).days + 1 > MOST_DAYS:
        errors["last_day"] = _("Propose at most %(count)s days at a time.", count=MOST_DAYS)
    if errors:
        return None, errors
    free = form.get("free_planned") in ("1", "on", "true")
    return ProposalAsked(max(first, today), last, free), {}


def parse_accept(form) -> tuple[AcceptAsked | None, dict[str, str]]:
    """``day`` (YYYY-MM-DD) or ``visit`` (an id), or neither for all."""
    errors: dict[str, str] = {}
    day = visit_id = None
    try:
        day = parse_day(form.get("day"))
    except DateRefused as exc:
        errors["day"] = str(exc)
    raw = (form.get("visit") or "").strip()
    if raw:
        try:
            visit_id = uuid.UUID(raw)
        except ValueError:
            errors["visit"] = _("There is no such proposed visit.")
    if errors:
        return None, errors
    return AcceptAsked(day, visit_id), {}
