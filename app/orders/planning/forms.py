"""The plan form, read and checked: each problem named by its field's label."""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta

from flask_babel import gettext as _

from app.orders.planning.moves import MoveRequest
from app.orders.planning.services import PlanRequest
from app.platform.models.planning import VISIT_PURPOSES
from app.platform.typed_dates import DateRefused, parse_day, parse_week

MAX_TEXT = 2000
MIN_DURATION, MAX_DURATION = 15, 12 * 60
# More visits than this to one order is a typing mistake, not a plan.
MAX_VISITS = 20


def _time(value: str) -> time | None:
    hours, _sep, minutes = (value or "").strip().partition(":")
    try:
        return time(int(hours), int(minutes[:2]))
    except ValueError:
        return None


def parse_plan(form, plannable_ids: set[uuid.UUID]) -> tuple[PlanRequest | None, dict[str, str]]:
    """A PlanRequest from the form, or the errors by field name."""
    errors: dict[str, str] = {}
    try:
        day = parse_day(form.get("date"))
    except DateRefused as exc:
        day = None
        if exc.out_of_range:
            errors["date"] = f"{_('Date')}: {exc}"
    if day is None and "date" not in errors:
        errors["date"] = _("Date: choose a day")
    start, end = _time(form.get("window_start", "")), _time(form.get("window_end", ""))
    if start is None or end is None:
        errors["window"] = _("Time window: give a start and an end as HH:MM")
    elif end <= start:
        errors["window"] = _("Time window: the end must be after the start")
    technician_ids: list[uuid.UUID] = []
    for raw in form.getlist("technician_ids"):
        try:
            technician_id = uuid.UUID(raw)
        except ValueError:
            technician_id = None
        if technician_id not in plannable_ids:
            errors["technician_ids"] = _("Technicians: choose from the list")
        elif technician_id not in technician_ids:
            technician_ids.append(technician_id)
    if not technician_ids and "technician_ids" not in errors:
        errors["technician_ids"] = _("Technicians: choose at least one")
    lead = form.get("lead_technician_id")
    if lead and technician_ids:
        try:
            lead_id = uuid.UUID(lead)
        except ValueError:
            lead_id = None
        if lead_id in technician_ids:  # the lead first
            technician_ids.remove(lead_id)
            technician_ids.insert(0, lead_id)
    try:
        duration = int(form.get("duration_minutes") or 0)
    except ValueError:
        duration = 0
    if not MIN_DURATION <= duration <= MAX_DURATION:
        errors["duration_minutes"] = _(
            "Duration: between %(min)s and %(max)s minutes", min=MIN_DURATION, max=MAX_DURATION
        )
    materials = (form.get("materials") or "").strip()
    notes = (form.get("technician_notes") or "").strip()
    for name, value, text in (
        ("materials", materials, _("What to bring")),
        ("technician_notes", notes, _("Notes for the technician")),
    ):
        if len(value) > MAX_TEXT:
            errors[name] = _("%(field)s: at most %(count)s characters", field=text, count=MAX_TEXT)
    try:
        seen_version = int(form.get("version") or 0)
    except ValueError:
        seen_version = -1
    if seen_version < 0:
        errors["version"] = _("The form is damaged; reload the page.")
    visit_number = visit_number_from(form.get("visit"))
    if visit_number == -1:
        errors["visit"] = _("Visit: no such visit of this order")
    if errors:
        return None, errors
    return (
        PlanRequest(
            day=day,
            window_start=start,
            window_end=end,
            technician_ids=tuple(technician_ids),
            duration_minutes=duration,
            materials=materials or None,
            technician_notes=notes or None,
            seen_version=seen_version,
            override=form.get("override") == "1",
            visit_number=visit_number,
        ),
        {},
    )


def visit_number_from(raw: str | None) -> int | None:
    """Which visit a form or link names (``visit=2``): None when it names none (the
    order's current visit), -1 when what it names is no visit number."""
    if raw in (None, ""):
        return None
    try:
        number = int(raw)
    except ValueError:
        return -1
    return number if 1 <= number <= MAX_VISITS else -1


def parse_purpose(raw: str | None) -> tuple[str | None, dict[str, str]]:
    """Why a visit is added: one of the known purposes, or the error by field name."""
    if raw in VISIT_PURPOSES:
        return raw, {}
    return None, {"purpose": _("Reason: choose why the order needs another visit")}


def parse_move(form, plannable_ids: set[uuid.UUID]) -> tuple[MoveRequest | None, dict[str, str]]:
    """A MoveRequest from a card dropped on the board, or the errors by field name."""
    errors: dict[str, str] = {}
    technician_id = _uuid(form.get("technician_id"))
    if technician_id not in plannable_ids:
        errors["technician_id"] = _("Technician: choose one of the board's technicians")
    taken_from = None
    if form.get("from_technician_id"):
        taken_from = _uuid(form.get("from_technician_id"))
        if taken_from is None:
            errors["from_technician_id"] = _("From technician: not a technician's id")
    week = _week(form.get("week"), errors)
    try:
        day = parse_day(form.get("day"))
    except DateRefused as exc:
        day, errors["day"] = None, f"{_('Day')}: {exc}"
    if day is None:
        errors.setdefault("day", _("Day: choose a day"))
    elif week is not None and not week <= day < week + timedelta(days=7):
        errors["day"] = _("Day: not in the board's week")
    try:
        seen_version = int(form.get("version") or "")
    except ValueError:
        seen_version = -1
    if seen_version < 1:
        errors["version"] = _("Version: the plan version the board showed (a whole number)")
    visit_number = visit_number_from(form.get("visit"))
    if visit_number == -1:
        errors["visit"] = _("Visit: no such visit of this order")
    if errors:
        return None, errors
    return (
        MoveRequest(
            technician_id=technician_id,
            day=day,
            seen_version=seen_version,
            week=week,
            taken_from=taken_from,
            override=form.get("override") == "1",
            visit_number=visit_number,
        ),
        {},
    )


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value or ""))
    except ValueError:
        return None


def _week(value, errors: dict[str, str]) -> date | None:
    try:
        monday = parse_week(value)
    except DateRefused as exc:
        errors["week"] = f"{_('Week')}: {exc}"
        return None
    if monday is None:
        errors["week"] = _("Week: the board's week, such as 2026-W48")
    return monday
