"""How a post from the phone view is answered, and the visit it acts on.

Shared by the routes of ``/m/`` (:mod:`app.orders.mobile.web.routes`): the order looked up
and checked against who may work on it, and one answer in the form the caller
asked for — the card for htmx, JSON for a script (the offline queue), else a
redirect to ``/m/`` with a flash.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.orders.mobile.cards import visit_card
from app.orders.mobile.services import local_today, on_any_visit
from app.platform.extensions import db
from app.platform.models import Order
from app.platform.models.orders import LOCK_TO_CHANGE


def order_for_action(order_id: uuid.UUID) -> Order:
    """The order, locked for this transaction so two quick taps are applied one by one."""
    order = db.session.get(Order, order_id, with_for_update=LOCK_TO_CHANGE)
    if order is None:
        abort(404, _("There is no such visit."))
    # A status tap checks the visit it changes as well (app.orders.mobile.web.routes).
    if not on_any_visit(current_user, order):
        abort(403, _("This visit is assigned to another technician."))
    return order


def order_to_read(order_id: uuid.UUID) -> Order:
    """The order, for a page about it: only its technicians (or a lead) read it; one whose
    visit is done still does, after the order went on to a visit of someone else."""
    order = db.session.get(Order, order_id)
    if order is None:
        abort(404, _("There is no such visit."))
    if not on_any_visit(current_user, order):
        abort(403, _("This visit is assigned to another technician."))
    return order


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and not request.htmx


def answer_card(
    order: Order,
    *,
    notice: str | None = None,
    error: str | None = None,
    code: int | None = None,
    fields: dict[str, str] | None = None,
):
    """The card (htmx), JSON (a script that asked for it), or back to /m/ with a flash.

    ``fields`` names what was wrong with a refused post, field by field (in JSON).
    """
    code = code or (422 if error else 200)
    if wants_json():
        body = {"order_id": str(order.id), "status": order.status.value}
        body.update({"error": error} if error else {"notice": notice})
        if fields:
            body["fields"] = fields
        return jsonify(body), code
    if request.htmx:
        card = visit_card(order, current_user, local_today())
        body = render_template("mobile/_visit.html", visit=card, notice=notice, error=error)
        return body, code
    if error or notice:
        flash(error or notice, "error" if error else "info")
    return redirect(url_for("mobile.today", _anchor=f"visit-{order.id}"), 303)


def form_uuid(field: str) -> uuid.UUID:
    """The id an Undo button posts (400 naming the field when it is not one)."""
    try:
        return uuid.UUID(request.form.get(field, ""))
    except ValueError:
        abort(400, _("%(field)s must be a UUID.", field=field))
