"""``/portal``: a partner user's orders and callbacks (and the language switch).

Every route asks for the partner role with a second factor
(:func:`role_required`, PARTNER is a privileged role); every object is looked
up inside the user's scope, so another partner's id is a 404.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext

from app.orders.portal import deliveries as delivery_service
from app.orders.portal.access import current_integration, current_scope, me
from app.orders.portal.orders import order_detail, parse_filter, search_orders
from app.platform.auth import account
from app.platform.auth.decorators import role_required
from app.platform.auth.signin import client_address, safe_next
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.i18n import LANGUAGE_NAMES, select_locale
from app.platform.models.enums import OrderStatus, OutboundState, Role
from app.platform.transactions import commit
from app.platform.typed_dates import DateRefused, parse_moment
from app.platform.ui import DISPLAY_ZONE

bp = Blueprint("portal", __name__, url_prefix="/portal")


@bp.get("/")
@role_required(Role.PARTNER)
def orders():
    scope = current_scope()
    page = search_orders(scope, parse_filter(request.args))
    return render_template(
        "portal/orders.html",
        scope=scope,
        page=page,
        statuses=OrderStatus.values(),
        active="orders",
    ), (400 if page.filter.errors else 200)


@bp.get("/orders/<uuid:order_id>")
@role_required(Role.PARTNER)
def order(order_id: uuid.UUID):
    detail = order_detail(current_scope(), order_id)
    if detail is None:
        abort(404)
    return render_template("portal/order.html", detail=detail, active="orders")


@bp.get("/deliveries")
@role_required(Role.PARTNER)
def deliveries():
    integration = current_integration(current_scope())
    try:
        page_number = max(1, min(int(request.args.get("page") or 1), 10_000))
    except ValueError:
        page_number = 1
    page = delivery_service.list_deliveries(integration, request.args.get("state", ""), page_number)
    return render_template(
        "portal/deliveries.html",
        integration=integration,
        page=page,
        states=OutboundState.values(),
        max_replay=delivery_service.MAX_REPLAY,
        now=utcnow().astimezone(DISPLAY_ZONE),
        active="deliveries",
    )


@bp.get("/deliveries/<uuid:delivery_id>")
@role_required(Role.PARTNER)
def delivery(delivery_id: uuid.UUID):
    found = delivery_service.find_delivery(current_integration(current_scope()), delivery_id)
    if found is None:
        abort(404)
    return render_template(
        "portal/delivery.html",
        delivery=found,
        payload=delivery_service.payload_text(found),
        active="deliveries",
    )


@bp.post("/deliveries/<uuid:delivery_id>/replay")
@role_required(Role.PARTNER)
def replay(delivery_id: uuid.UUID):
    found = delivery_service.find_delivery(current_integration(current_scope()), delivery_id)
    if found is None:
        abort(404)
    try:
        delivery_service.replay(found, me())  # commits
    except ValueError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(gettext("The callback is queued to be sent again."), "info")
    return redirect(url_for("portal.delivery", delivery_id=delivery_id), 303)


@bp.post("/deliveries/replay-failed")
@role_required(Role.PARTNER)
def replay_failed():
    integration = current_integration(current_scope())
    try:
        since = parse_moment(request.form.get("since"), DISPLAY_ZONE)
    except DateRefused as exc:
        flash(f"{gettext('Failed since')}: {exc}", "error")
        return redirect(url_for("portal.deliveries"), 303)
    if since is None:
        flash(gettext("Give the date and time from which to send failed callbacks again."), "error")
        return redirect(url_for("portal.deliveries"), 303)
    try:
        count = delivery_service.replay_failed_since(integration, since, me())
    except ValueError:
        db.session.rollback()
        flash(
            gettext("Your endpoint is disabled after repeated failures; ask us to enable it."),
            "error",
        )
        return redirect(url_for("portal.deliveries"), 303)
    flash(
        gettext(
            "%(count)s failed callbacks are queued to be sent again (at most %(max)s at once).",
            count=count,
            max=delivery_service.MAX_REPLAY,
        ),
        "info",
    )
    return redirect(url_for("portal.deliveries", state="pending"), 303)


@bp.post("/language")
@role_required(Role.PARTNER)
def language():
    """The portal's language switch (the same setting as /settings/preferences)."""
    choice = request.form.get("language", "")
    if choice in LANGUAGE_NAMES:
        try:
            account.choose_language(me(), choice, client_ip=client_address())
        except account.AccountChangeRefused:
            db.session.rollback()
        else:
            commit()
            with force_locale(select_locale()):
                flash(gettext("Your preferences are saved."), "info")
    return redirect(safe_next(request.form.get("next")) or url_for("portal.orders"), 303)
