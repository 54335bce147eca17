"""Planning pages: the order's plan, the week board, a technician's hours.

The order page (``/orders/<key>``) loads its planning section from here
(``hx-get``), so the orders feature needs nothing of planning.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from app.orders.core.services import find_order
from app.orders.mobile.services import local_today
from app.orders.planning.access import HOURS_ROLES, planners_only
from app.orders.planning.bases import BaseRefused, base_of, save_base
from app.orders.planning.board import this_monday, week_asked, week_board, week_key
from app.orders.planning.forms import parse_move, parse_plan, parse_purpose, visit_number_from
from app.orders.planning.hours import (
    WEEKDAY_LABELS,
    absences_from,
    find_absence,
    find_user,
    parse_absence,
    parse_weekly_hours,
    plannable_technicians,
    record_absence,
    remove_absence,
    set_weekly_hours,
    weekly_hours,
)
from app.orders.planning.moves import MoveInvalid, move_visit, moved_note, refusal_answer
from app.orders.planning.page import plan_section, visit_name
from app.orders.planning.proposals.making import find_proposal, proposal_days
from app.orders.planning.proposals.view import proposal_view
from app.orders.planning.route_list import (
    RouteListAsked,
    asked_days,
    find_route_technician,
    route_list,
)
from app.orders.planning.services import (
    PlanChanged,
    PlanRefused,
    add_visit,
    cancel_plan,
    save_plan,
    visit_of,
)
from app.platform.auth.decorators import role_required
from app.platform.extensions import db
from app.platform.json_api.errors import json_error
from app.platform.models import User
from app.platform.transactions import commit
from app.platform.typed_dates import DateRefused, parse_day

bp = Blueprint("planning", __name__, url_prefix="/planning")


def drive_time(minutes: int) -> str:
    """A day's minutes behind the wheel as a planner reads them: "45 min", "1 h 20 min"."""
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return gettext("%(minutes)s min", minutes=rest)
    return gettext("%(hours)s h %(minutes)s min", hours=hours, minutes=rest)


bp.add_app_template_filter(drive_time, "drive_time")
bp.add_app_template_filter(visit_name, "visit_name")


def _order(key: str):
    order = find_order(key)
    if order is None:
        abort(404, gettext("There is no order with that id or number."))
    return order


def _back_to_board() -> bool:
    return request.values.get("from") == "board"


@bp.get("/")
@planners_only
def board():
    monday, week_error = week_asked(request.args.get("week"), local_today())
    proposal = find_proposal(_uuid(request.args.get("proposal")))
    page = render_template(
        "planning/board.html",
        board=week_board(monday),
        today=local_today(),
        week_error=week_error,
        proposal=proposal_view(proposal) if proposal else None,
        proposal_days=proposal_days(monday, local_today()),
    )
    return page, (400 if week_error else 200)


@bp.get("/orders/<key>")
@planners_only
def order_plan(key):
    order = _order(key)
    technician = request.args.get("technician")
    day = request.args.get("day")
    number = visit_number_from(request.args.get("visit"))
    section = plan_section(
        order, day=_date(day), technician=_uuid(technician), number=max(number or 0, 0) or None
    )
    template = (
        "planning/_plan_form.html" if request.headers.get("HX-Request") else "planning/order.html"
    )
    return render_template(template, section=section, from_board=_back_to_board())


@bp.post("/orders/<key>")
@planners_only
def save(key):
    order = _order(key)
    plannable = {t.id for t in plannable_technicians()}
    plan, errors = parse_plan(request.form, plannable)
    if errors:
        return _refused(order, 422, errors=errors)
    try:
        save_plan(order, plan, current_user, local_today())
    except PlanChanged as exc:
        db.session.rollback()
        return _refused(order, 409, stale=str(exc))
    except PlanRefused as exc:
        db.session.rollback()
        return _refused(order, 422, problems=exc.problems)
    commit()
    flash(gettext("%(order)s is planned.", order=order.order_number), "info")
    return _done(order, plan.visit_number)


@bp.post("/orders/<key>/cancel")
@planners_only
def cancel(key):
    order = _order(key)
    number = visit_number_from(request.form.get("visit"))
    try:
        seen = int(request.form.get("version") or 0)
        if number == -1:
            raise ValueError(number)
        cancel_plan(order, seen, current_user, number)
    except (ValueError, PlanChanged):
        db.session.rollback()
        return _refused(order, 409, stale=str(PlanChanged()))
    except PlanRefused as exc:
        db.session.rollback()
        return _refused(order, 422, problems=exc.problems)
    commit()
    flash(gettext("The visit of %(order)s is taken back.", order=order.order_number), "info")
    return _done(order, number)


@bp.post("/orders/<key>/visits")
@planners_only
def add_another_visit(key):
    """One visit more for the order (a second day, a return visit), to plan next."""
    order = _order(key)
    purpose, errors = parse_purpose(request.form.get("purpose"))
    if errors:
        return _refused(order, 422, errors=errors)
    try:
        visit = add_visit(order, purpose, current_user)
    except PlanRefused as exc:
        db.session.rollback()
        return _refused(order, 422, problems=exc.problems)
    commit()
    flash(
        gettext(
            "%(order)s gets visit %(number)s; plan it below.",
            order=order.order_number,
            number=visit.number,
        ),
        "info",
    )
    return _done(order, visit.number)


@bp.post("/orders/<key>/move")
@planners_only
def move(key):
    """A visit card dropped on another cell of the board (static/js/board-move.js)."""
    order = _order(key)
    plannable = {t.id for t in plannable_technicians()}
    asked, errors = parse_move(request.values, plannable)
    if errors:
        return json_error(400, "invalid_move", " ".join(errors.values()), errors)
    try:
        visit = move_visit(order, asked, current_user, local_today())
    except MoveInvalid as exc:
        db.session.rollback()
        return json_error(400, "invalid_move", str(exc), exc.errors)
    except PlanChanged as exc:
        db.session.rollback()
        return json_error(409, "plan_changed", str(exc))
    except PlanRefused as exc:
        db.session.rollback()
        return jsonify(refusal_answer(exc)), 422
    commit()
    if visit is not None:
        flash(moved_note(order, visit), "info")
    board = url_for("planning.board", week=week_key(asked.week))
    return jsonify(success=True, moved=visit is not None, location=board)


@bp.get("/technicians/<user_id>/route")
@planners_only
def route_sheet(user_id):
    """A technician's route list for a day (``?day=``) or a week (``?week=``), to print."""
    try:
        technician = find_route_technician(user_id)
        days, one_day = asked_days(request.args, local_today())
    except RouteListAsked as exc:
        abort(exc.status, str(exc))
    route = route_list(technician, days, one_day)
    return render_template("planning/route_list.html", route=route)


def _done(order, number: int | None = None):
    number = number if number and number > 0 else None
    visit = visit_of(order, number)
    if _back_to_board():
        week = request.form.get("week")
        if visit is not None and visit.scheduled_date is not None:
            # Back on the week of the day just planned, so the visit is in view.
            week = week_key(this_monday(visit.scheduled_date))
        return redirect(url_for("planning.board", week=week), 303)
    page = url_for("orders.show", key=order.order_number, visit=number)
    return redirect(page + "#planning", 303)


def _refused(order, status, errors=None, problems=None, stale=None):
    db.session.expire_all()
    number = visit_number_from(request.form.get("visit"))
    section = plan_section(order, form=request.form, number=max(number or 0, 0) or None)
    section.errors = errors or {}
    section.problems = problems or []
    section.stale = stale
    if request.headers.get("HX-Request"):
        template = "planning/_plan_form.html"
    elif _back_to_board():
        # The board again, its dialog open on the refused plan.
        monday = week_asked(request.form.get("week"), local_today())[0]
        board = week_board(monday)
        page = render_template(
            "planning/board.html", board=board, today=local_today(), open_section=section
        )
        return page, status
    else:
        template = "planning/order.html"
    return render_template(template, section=section, from_board=_back_to_board()), status


# --- technicians' hours and days off ------------------------------------------


def _technician(user_id: str) -> User:
    user = find_user(_uuid(user_id)) if _uuid(user_id) else None
    if user is None:
        abort(404, gettext("There is no such technician."))
    return user


@bp.get("/technicians/<user_id>")
@role_required(*HOURS_ROLES)  # managers and admins: with the second factor
def technician(user_id):
    user = _technician(user_id)
    return _hours_page(user)


def _hours_page(user, errors=None, status=200, form=None):
    absences = absences_from(user.id, local_today())
    return (
        render_template(
            "planning/technician.html",
            user=user,
            hours=weekly_hours(user.id),
            base=base_of(user.id),
            absences=absences,
            weekday_labels=WEEKDAY_LABELS,
            errors=errors or {},
            form=form or {},
        ),
        status,
    )


@bp.post("/technicians/<user_id>/hours")
@role_required(*HOURS_ROLES)  # managers and admins: with the second factor
def save_hours(user_id):
    user = _technician(user_id)
    hours, errors = parse_weekly_hours(request.form)
    if errors:
        return _hours_page(user, errors, 422, request.form)
    set_weekly_hours(user, hours)
    commit()
    flash(gettext("Working hours of %(name)s saved.", name=user.name), "info")
    return redirect(url_for("planning.technician", user_id=user.id), 303)


@bp.post("/technicians/<user_id>/base")
@role_required(*HOURS_ROLES)  # managers and admins: with the second factor
def save_technician_base(user_id):
    user = _technician(user_id)
    try:
        save_base(user, request.form)
    except BaseRefused as exc:
        db.session.rollback()
        return _hours_page(user, exc.errors, 422, request.form)
    commit()
    flash(gettext("Start, end and area of %(name)s saved.", name=user.name), "info")
    return redirect(url_for("planning.technician", user_id=user.id), 303)


@bp.post("/technicians/<user_id>/absences")
@role_required(*HOURS_ROLES)  # managers and admins: with the second factor
def add_absence(user_id):
    user = _technician(user_id)
    (starts, ends, reason), errors = parse_absence(request.form)
    if errors:
        return _hours_page(user, errors, 422, request.form)
    record_absence(user, starts, ends, reason)
    commit()
    flash(gettext("Day off added for %(name)s.", name=user.name), "info")
    return redirect(url_for("planning.technician", user_id=user.id), 303)


@bp.post("/technicians/<user_id>/absences/<absence_id>/delete")
@role_required(*HOURS_ROLES)  # managers and admins: with the second factor
def delete_absence(user_id, absence_id):
    user = _technician(user_id)
    absence = find_absence(_uuid(absence_id)) if _uuid(absence_id) else None
    if absence is None or absence.user_id != user.id:
        abort(404)
    remove_absence(absence)
    commit()
    return redirect(url_for("planning.technician", user_id=user.id), 303)


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _date(value):
    """A day handed on in a link (the board's cell); one we do not take is left out."""
    try:
        return parse_day(value)
    except DateRefused:
        return None
