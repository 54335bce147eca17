"""The best slots of an order, and planning one with a click.

The order page's planning section and the conversation's customer panel load the
slots lazily (``hx-get``), so neither page waits for them. ``?thread=<id>`` says the
panel of that conversation asks: a slot planned there answers in the panel (the
agent stays on the conversation); on the order page it goes back to the order.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from app.orders.core.services import find_order
from app.orders.mobile.services import local_today
from app.orders.planning.access import planners_only
from app.orders.planning.forms import visit_number_from
from app.orders.planning.hours import plannable_technicians
from app.orders.planning.services import PlanChanged, PlanRefused
from app.orders.planning.slots.choosing import (
    AskedWrongly,
    conversation_asking,
    parse_slot_choice,
    plan_slot,
)
from app.orders.planning.slots.finding import best_slots
from app.platform.extensions import db
from app.platform.transactions import commit
from app.platform.ui import local_date

bp = Blueprint("planning_slots", __name__, url_prefix="/planning/orders")


def _order(key: str):
    order = find_order(key)
    if order is None:
        abort(404, gettext("There is no order with that id or number."))
    return order


def _thread():
    try:
        return conversation_asking(request.values)
    except AskedWrongly as exc:
        abort(400, str(exc))


@bp.get("/<key>/slots")
@planners_only
def show(key):
    order = _order(key)
    thread_id = _thread()
    return _slots(order, thread_id)


@bp.post("/<key>/slots")
@planners_only
def plan(key):
    order = _order(key)
    thread_id = _thread()
    plannable = {t.id for t in plannable_technicians()}
    choice, errors = parse_slot_choice(request.form, plannable)
    if errors:
        return _slots(order, thread_id, 422, errors=errors)
    try:
        visit = plan_slot(order, choice, current_user, local_today())
    except PlanChanged as exc:
        db.session.rollback()
        return _slots(order, thread_id, 409, stale=str(exc))
    except PlanRefused as exc:
        db.session.rollback()
        return _slots(order, thread_id, 422, problems=exc.problems)
    commit()
    note = gettext(
        "%(order)s planned: %(day)s, %(window)s.",
        order=order.order_number,
        day=local_date(visit.scheduled_date, "%A %d %B"),
        window=visit.window_text,
    )
    if thread_id is not None and request.headers.get("HX-Request"):
        # The agent stays on the conversation: the panel says what was planned.
        return _slots(order, thread_id, planned=note)
    flash(note, "info")
    if thread_id is not None:
        return redirect(url_for("threads.show", thread_id=thread_id), 303)
    target = url_for("orders.show", key=order.order_number, visit=choice.visit_number)
    if request.headers.get("HX-Request"):
        # Without the fragment: the order page asking is this very URL, and a link
        # that differs from it only by "#planning" would not load it again.
        return "", 204, {"HX-Redirect": target}
    return redirect(target + "#planning", 303)


def _visit_asked() -> int | None:
    """Which of the order's visits the slots are for (``visit``); None: its current one."""
    number = visit_number_from(request.values.get("visit"))
    if number == -1:
        abort(400, gettext("Visit: no such visit of this order"))
    return number


def _slots(order, thread_id, status=200, planned=None, **said):
    db.session.expire_all()
    # Once planned from the panel, it says so; the slots to move it again can wait.
    best = None if planned else best_slots(order, local_today(), number=_visit_asked())
    template = (
        "planning/_slots.html" if request.headers.get("HX-Request") else "planning/slots.html"
    )
    page = render_template(
        template, order=order, best=best, thread_id=thread_id, planned=planned, **said
    )
    return page, status
