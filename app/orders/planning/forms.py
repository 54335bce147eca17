"""The plan form, read and checked: each problem named by its field's label."""

from __future__ import annotations

import uuid
from datetime import time

from flask_babel import gettext as _

from app.orders.planning.services import PlanRequest
from app.platform.typed_dates import DateRefused, parse_day

MAX_TEXT = 2000
MIN_DURATION, MAX_DURATION = 15, 12 * 60


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
        ),
        {},
    )
