"""The review queue's fixes, in place: on the order page and in the desk's review tab.

The card (``orders/_review.html``) lists what a flagged order asks a person to
check, each reason with its fix beside it; a fix answers with the card again
(htmx swaps it where it stood), or, without JavaScript, goes back to the order.
Clean orders are approved in bulk from the desk's "to approve" tab, each through
the status engine (so each partner hears of its own order once).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext, ngettext
from flask_login import current_user

from app.orders.addresses import pdok
from app.orders.core import review_fixes as fixes
from app.orders.core.approvals import MAX_BULK, approve_clean
from app.orders.core.desk import local_today
from app.orders.core.desk_rows import desk_rows
from app.orders.core.page import REVIEW_STATUSES
from app.orders.core.review_fixes import ReviewRefused
from app.orders.core.services import may_change_status
from app.orders.core.status_engine import IllegalTransition, change_entity_status
from app.orders.core.web.routes import desk_only, desk_order
from app.platform.extensions import db
from app.platform.models import Order
from app.platform.models.enums import OrderStatus
from app.platform.transactions import commit

bp = Blueprint("order_review", __name__, url_prefix="/orders")


@bp.get("/<key>/review")
@desk_only
def card(key):
    """The review card of one order (loaded into the order page and the desk's rows)."""
    return _card(desk_order(key), in_desk=bool(request.args.get("desk")))


@bp.post("/<key>/review")
@desk_only
def fix(key):
    order = desk_order(key)
    if not may_change_status(current_user, order):
        abort(403, gettext("You may not change this order."))
    action = request.form.get("fix", "")
    # PDOK is asked before the order is locked: an HTTP call holds no row lock.
    check = None
    if action == "address_suggestion":
        try:
            pdok_id = fixes.chosen_pdok_id(request.form.get("pdok_id"))
        except ReviewRefused as exc:
            return _card(order, 422, exc.text)
        check = pdok.look_up(pdok_id)
    elif action == "address_rechecked" and order.installation_address is not None:
        address = order.installation_address
        check = pdok.check_address(
            address.postal_code or "", address.house_number or "", address.house_number_addition
        )
    in_desk = bool(request.form.get("desk"))
    fixes.lock_order(order)
    try:
        done = _apply(order, action, check)
    except ReviewRefused as exc:
        db.session.rollback()
        return _card(fixes.reread_order(order.id), 422, exc.text, in_desk=in_desk)
    commit()
    if request.headers.get("HX-Request"):
        return _card(order, notice=done, in_desk=in_desk)
    flash(done, "info")
    return redirect(url_for("orders.show", key=order.order_number, _anchor="review"), 303)


def _apply(order: Order, action: str, check: pdok.AddressCheck | None) -> str:
    """Make the fix ``action`` asked for; what was done, for a person."""
    fixes.refuse_if_final(order)
    if action == "approve":
        return _approve(order)
    flag = fixes.find_flag(order, request.form.get("reason", ""))
    if action in ("address_suggestion", "address_rechecked") and flag.kind == fixes.ADDRESS:
        if check is None:
            raise ReviewRefused("address", gettext("This order has no installation address."))
        fixes.confirm_address(order, check, action)
        return gettext(
            "Address confirmed: %(address)s", address=order.installation_address.one_line()
        )
    if action == "address_kept" and flag.kind == fixes.ADDRESS:
        fixes.keep_address(order)
        return gettext("Address kept as typed.")
    if action == "article_mapped" and flag.kind == fixes.ARTICLE:
        others = fixes.map_article(order, flag.detail or "", request.form.get("article", ""))
        done = gettext("%(code)s mapped to an article.", code=flag.detail)
        if others:
            done += " " + ngettext(
                "Also fixed on %(num)s other waiting order.",
                "Also fixed on %(num)s other waiting orders.",
                len(others),
            )
        return done
    if action == "duplicate_cancelled" and flag.kind == fixes.DUPLICATE:
        other = fixes.cancel_as_duplicate(order, flag, current_user)
        return gettext("Cancelled as a duplicate of %(other)s.", other=other.order_number)
    if action == "duplicate_dismissed" and flag.kind == fixes.DUPLICATE:
        fixes.keep_both(order, flag)
        return gettext("Both orders kept.")
    if action == "contact_updated" and flag.kind == fixes.CUSTOMER:
        fixes.put_on_contact(order, flag)
        return gettext("The customer's contact was updated.")
    if action == "contact_kept" and flag.kind == fixes.CUSTOMER:
        fixes.keep_contact(order, flag)
        return gettext("The contact's own details were kept.")
    if action == "checked":
        fixes.mark_checked(order, flag)
        return gettext("Marked as checked.")
    raise ReviewRefused("fix", gettext("Fix: not one this review reason offers."))


def _approve(order: Order) -> str:
    if order.needs_review:
        raise ReviewRefused("order", gettext("Fix or check every review reason before approving."))
    try:
        change_entity_status(order, OrderStatus.APPROVED, None, {"via": "review"}, current_user)
    except IllegalTransition as exc:
        raise ReviewRefused("order", gettext("This order can no longer be approved.")) from exc
    return gettext("%(order)s approved.", order=order.order_number)


def _card(
    order: Order,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    *,
    in_desk: bool = False,
):
    """The card; in a desk row (``in_desk``) after a fix, with that row again (out of band)."""
    flags = fixes.flags(order) if order.status not in fixes.FINAL else []
    kinds = {flag.kind for flag in flags}
    context = dict(
        order=order,
        flags=flags,
        error=error,
        notice=notice,
        may_change=may_change_status(current_user, order),
        may_approve=not flags and order.status in REVIEW_STATUSES,
        suggestions=fixes.address_suggestions(order) if fixes.ADDRESS in kinds else [],
        articles=fixes.article_choices() if fixes.ARTICLE in kinds else [],
        duplicates={
            flag.reason: fixes.duplicate_of(flag) for flag in flags if flag.kind == fixes.DUPLICATE
        },
        history=fixes.fix_history(order),
        in_desk=in_desk,
    )
    html = render_template("orders/_review.html", **context)
    if in_desk and (notice or error):
        [row] = desk_rows([order], local_today(), wait_hours=current_app.config["ORDER_WAIT_HOURS"])
        html += render_template(
            "orders/_desk_row_oob.html", row=row, oob=True, selectable=False, columns=8
        )
    return html, status


@bp.post("/approve")
@desk_only
def approve_many():
    """Approve the ticked clean orders of the "to approve" tab, one status change each."""
    numbers = [n.strip() for n in request.form.getlist("order") if n.strip()]
    back = redirect(url_for("orders.desk", tab="new"), 303)
    if not numbers:
        flash(gettext("Tick the orders to approve first."), "error")
        return back
    if len(numbers) > MAX_BULK:
        flash(gettext("At most %(count)s orders at a time.", count=MAX_BULK), "error")
        return back
    result = approve_clean(numbers, current_user)
    if result.approved:
        flash(
            ngettext("%(num)s order approved.", "%(num)s orders approved.", len(result.approved)),
            "info",
        )
    for number, why in result.skipped:
        flash(gettext("%(order)s not approved: %(why)s", order=number, why=why), "error")
    return back
