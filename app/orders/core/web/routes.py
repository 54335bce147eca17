"""The order page: where an order stands, what it contains, and moving it on."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.orders.core.desk import DeskQuery, DeskRefused, desk_choices, desk_page, local_today
from app.orders.core.desk_rows import desk_rows
from app.orders.core.page import order_page
from app.orders.core.review import readable_note
from app.orders.core.services import find_order, may_change_status, may_view_orders
from app.orders.core.stages import STAGES, count_label
from app.orders.core.status_engine import (
    ALLOWED_TRANSITIONS,
    IllegalTransition,
    change_entity_status,
)
from app.orders.core.status_form import StatusFormRefused, parse_status_change
from app.platform.auth.decorators import gate, role_required
from app.platform.extensions import db
from app.platform.labels import label
from app.platform.models.enums import OrderStatus
from app.platform.security.access import DESK, OWN_VISITS
from app.platform.transactions import commit

bp = Blueprint("orders", __name__, url_prefix="/orders")
# Stored English notes in the reader's language, on every page that shows them.
bp.add_app_template_filter(readable_note, "order_note")
# Each page declares its roles once (role_required enforces and records them).
desk_only = role_required(
    *DESK, refusal=_l("Orders are for the desk; your visits are on your phone.")
)


def desk_order(key: str):
    # The rule is checked before the look-up: a technician learns nothing about
    # which order numbers exist.
    if not may_view_orders(current_user):
        abort(403, gettext("Orders are for the desk; your visits are on your phone."))
    order = find_order(key)
    if order is None:
        abort(404, gettext("There is no order with that id or number."))
    return order


def _page(
    order, status: int = 200, error: str | None = None, reason: str = "", partner_note: str = ""
):
    return (
        render_template(
            "orders/show.html",
            page=order_page(order),
            may_change=may_change_status(current_user, order),
            status_error=error,
            reason=reason,
            partner_note=partner_note,
        ),
        status,
    )


@bp.get("")
@desk_only
def desk():
    """The order desk: every live order by stage, with filters, search and paging."""
    cursor = request.args.get("cursor") or None
    try:
        query = DeskQuery.from_args(request.args)
        page = desk_page(query, cursor=cursor)
    except DeskRefused as exc:
        # The page stays usable: the filters as typed, the message naming the field.
        context = dict(
            query=DeskQuery(), rows=[], next_cursor=None, counts={}, count_cap=None, error=exc.text
        )
        return render_template("orders/desk.html", **_desk_context(**context)), 400
    context = dict(
        query=query,
        rows=desk_rows(
            page.orders, local_today(), wait_hours=current_app.config["ORDER_WAIT_HOURS"]
        ),
        next_cursor=page.next_cursor,
        counts=page.counts,
        count_cap=page.count_cap,
        error=None,
    )
    if request.headers.get("HX-Request") and cursor:
        return render_template("orders/_desk_rows.html", **_desk_context(**context))
    return render_template("orders/desk.html", **_desk_context(**context))


def _desk_context(**context) -> dict:
    stage = context["query"].stage
    selectable = stage == "new" and current_user.role in DESK
    return dict(
        context,
        # Clean orders are approved in bulk (flagged ones are checked and fixed in place).
        selectable=selectable,
        columns=9 if selectable else 8,
        stages=STAGES,
        choices=desk_choices(),
        typed=request.args,
        count_label=count_label,
    )


@bp.get("/<key>")
@desk_only
def show(key):
    return _page(desk_order(key))


@bp.post("/<key>/status")
@gate(OWN_VISITS)
def change_status(key):
    order = desk_order(key)
    if not may_change_status(current_user, order):
        abort(403, gettext("You may not change this order's status."))
    try:
        change = parse_status_change(request.form)
    except StatusFormRefused as exc:
        return _page(order, 422, exc.message, **exc.typed)
    to_status, reason, partner_note = change
    typed = change.typed
    try:
        change_entity_status(
            order,
            to_status,
            reason,
            {"via": "order_page"},
            current_user,
            partner_note=partner_note,
        )
    except IllegalTransition as exc:
        db.session.rollback()
        # The exception's own text is English for the partner API; people read this.
        allowed = ", ".join(
            label(status, "order")
            for status in OrderStatus
            if status in ALLOWED_TRANSITIONS[exc.from_status]
        )
        error = gettext(
            "An order cannot go from %(old)s to %(new)s (allowed from %(old)s: %(allowed)s)",
            old=label(exc.from_status, "order"),
            new=label(exc.to_status, "order"),
            allowed=allowed or gettext("none"),
        )
        return _page(order, 409, error, **typed)
    commit()
    flash(
        gettext(
            "%(order)s is now %(status)s.",
            order=order.order_number,
            status=label(to_status, "order"),
        ),
        "info",
    )
    return redirect(url_for("orders.show", key=order.order_number), 303)
