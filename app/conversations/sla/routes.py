"""/admin/sla: business calendars and SLA policies, for admins."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.conversations.business_time.clock import EXECUTIVE_AFTER, STEP_FRACTIONS
from app.conversations.sla import editing
from app.platform.auth.decorators import role_required
from app.platform.extensions import db
from app.platform.models.enums import ChannelType, Priority, Role
from app.platform.transactions import commit
from app.platform.ui import CHANNEL_LABELS

bp = Blueprint("sla_admin", __name__, url_prefix="/admin/sla")


def _page(status: int = 200, **forms_state):
    return (
        render_template(
            "sla/index.html",
            day_labels=editing.DAY_LABELS,
            channels=editing.channels(),
            channel_labels=CHANNEL_LABELS,
            channel_types=ChannelType.values(),
            priorities=Priority.values(),
            closed_soon={str(c.id): editing.upcoming_closed_days(c) for c in editing.calendars()},
            ladder=_ladder_description(),
            **editing.page_forms(**forms_state),
        ),
        status,
    )


def _ladder_description() -> list[str]:
    shares = [f"{int(f * 100)}%" for f in STEP_FRACTIONS.values()]
    hours = int(EXECUTIVE_AFTER.total_seconds() // 3600)
    return [
        _(
            "%(share)s: a reminder to the assignee (the team lead if nobody is assigned)",
            share=shares[0],
        ),
        _("%(share)s: an alert to the team lead", share=shares[1]),
        _("%(share)s: escalated to the managers, with an escalation task", share=shares[2]),
        _("%(hours)s hours overdue: an executive alert to managers and admins", hours=hours),
    ]


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    if editing.ensure_defaults():
        commit()
    return _page()


@bp.post("/calendars")
@bp.post("/calendars/<uuid:calendar_id>")
@role_required(Role.ADMIN)
def save_calendar(calendar_id: uuid.UUID | None = None):
    calendar = _found(editing.get_calendar, calendar_id)
    key = f"calendar-{calendar_id}" if calendar_id else "calendar-new"
    try:
        saved = editing.save_calendar(calendar, request.form)
    except editing.FormErrors as exc:
        db.session.rollback()
        return _page(422, failed_key=key, submitted=request.form, errors=exc.fields)
    commit()
    flash(_("Calendar “%(name)s” saved.", name=saved.name), "info")
    return redirect(url_for("sla_admin.index", _anchor=f"calendar-{saved.id}"), 303)


@bp.post("/calendars/<uuid:calendar_id>/delete")
@role_required(Role.ADMIN)
def delete_calendar(calendar_id: uuid.UUID):
    calendar = _found(editing.get_calendar, calendar_id)
    try:
        editing.delete_calendar(calendar)
    except editing.FormErrors as exc:
        db.session.rollback()
        return _page(422, failed_key=f"calendar-{calendar_id}", errors=exc.fields)
    commit()
    flash(_("Calendar deleted; its channels use the default calendar."), "info")
    return redirect(url_for("sla_admin.index"), 303)


@bp.post("/policies")
@bp.post("/policies/<uuid:policy_id>")
@role_required(Role.ADMIN)
def save_policy(policy_id: uuid.UUID | None = None):
    policy = _found(editing.get_policy, policy_id)
    key = f"policy-{policy_id}" if policy_id else "policy-new"
    try:
        saved = editing.save_policy(policy, request.form)
    except editing.FormErrors as exc:
        db.session.rollback()
        return _page(422, failed_key=key, submitted=request.form, errors=exc.fields)
    commit()
    flash(_("Policy “%(name)s” saved.", name=saved.name), "info")
    return redirect(url_for("sla_admin.index", _anchor="policies"), 303)


@bp.post("/policies/<uuid:policy_id>/delete")
@role_required(Role.ADMIN)
def delete_policy(policy_id: uuid.UUID):
    editing.delete_policy(_found(editing.get_policy, policy_id))
    commit()
    flash(_("Policy deleted."), "info")
    return redirect(url_for("sla_admin.index", _anchor="policies"), 303)


def _found(getter, record_id):
    if record_id is None:
        return None
    record = getter(record_id)
    if record is None:
        abort(404)
    return record
