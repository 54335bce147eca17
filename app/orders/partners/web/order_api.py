"""The partner's order API: its orders, one order, change, cancel.

Also what a partner's system reads to set itself up: its integration
configuration and the event catalogue. Same key, limits and error shape as
the intake (:mod:`app.orders.partners.web.api`); thin routes over
:mod:`app.orders.partners.order_queries`, :mod:`app.orders.partners.order_changes` and
:mod:`app.orders.partners.order_views`.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from pydantic import ValidationError

from app.orders.core.status_engine import IllegalTransition
from app.orders.partners.access import PartnerCaller, authenticate, enforce_rate_limit
from app.orders.partners.order_changes import OrderLocked, allowed_moves, cancel_order, change_order
from app.orders.partners.order_queries import (
    QueryInvalid,
    encode_cursor,
    parse_filter,
    partner_order,
    partner_orders,
)
from app.orders.partners.order_schemas import CancelIn, OrderChangeIn
from app.orders.partners.order_views import event_catalogue, order_detail, order_summary
from app.orders.partners.web.api import integration_to_dict
from app.platform.extensions import csrf, db
from app.platform.json_api.errors import ApiError
from app.platform.json_api.validation import field_errors, nul_fields
from app.platform.models.enums import KeyMode
from app.platform.security.access import PARTNER_API, declare_blueprint
from app.platform.transactions import commit

bp = Blueprint("partner_order_api", __name__, url_prefix="/api/v1/partners")
declare_blueprint(bp, PARTNER_API)
csrf.exempt(bp)


@bp.after_request
def _rate_limit_headers(response):
    for name, value in g.get("rate_limit_headers", {}).items():
        response.headers.setdefault(name, value)
    return response


def _caller(partner_id: str) -> PartnerCaller:
    caller = authenticate(partner_id)
    g.rate_limit_headers = enforce_rate_limit(caller)
    return caller


def _is_test(caller: PartnerCaller) -> bool:
    return caller.token.mode == KeyMode.TEST


def _order(caller: PartnerCaller, partner_order_id: str):
    order = partner_order(caller.partner, _is_test(caller), partner_order_id)
    if order is None:
        mode = "test" if _is_test(caller) else "live"
        raise ApiError(
            404,
            "not_found",
            f"No {mode} order with partner_order_id {partner_order_id!r} "
            f"(a {mode} key sees {mode} orders only).",
        )
    return order


def _body(model):
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(
            400, "invalid_json", "The request body must be JSON (Content-Type: application/json)."
        )
    if refused := nul_fields(body):
        raise ApiError(422, "validation_failed", "The request has invalid fields.", refused)
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ApiError(
            422, "validation_failed", "The request has invalid fields.", field_errors(exc)
        ) from exc


@bp.get("/<partner_id>/orders")
def list_orders(partner_id):
    caller = _caller(partner_id)
    try:
        wanted = parse_filter(request.args, caller.integration)
    except QueryInvalid as exc:
        raise ApiError(
            422, "validation_failed", "The query has invalid parameters.", exc.fields
        ) from exc
    orders = partner_orders(caller.partner, _is_test(caller), wanted)
    page, more = orders[: wanted.limit], len(orders) > wanted.limit
    commit()
    return jsonify(
        success=True,
        data=[order_summary(order, caller.integration) for order in page],
        next_cursor=encode_cursor(page[-1]) if more else None,
    )


@bp.get("/<partner_id>/orders/<path:partner_order_id>")
def get_order(partner_id, partner_order_id):
    caller = _caller(partner_id)
    order = _order(caller, partner_order_id)
    commit()
    return jsonify(success=True, data=order_detail(order, caller.integration))


@bp.patch("/<partner_id>/orders/<path:partner_order_id>")
def patch_order(partner_id, partner_order_id):
    caller = _caller(partner_id)
    change = _body(OrderChangeIn)
    order = _order(caller, partner_order_id)
    try:
        change_order(order, change)
    except OrderLocked as exc:
        db.session.rollback()
        raise ApiError(409, "order_locked", f"This order can no longer be changed: {exc}.") from exc
    commit()
    return jsonify(success=True, data=order_detail(order, caller.integration))


@bp.post("/<partner_id>/orders/<path:partner_order_id>/cancel")
def cancel(partner_id, partner_order_id):
    caller = _caller(partner_id)
    body = _body(CancelIn)
    order = _order(caller, partner_order_id)
    try:
        cancel_order(order, body.reason, caller.integration.integration_name)
    except IllegalTransition as exc:
        db.session.rollback()
        raise ApiError(
            409,
            "illegal_transition",
            f"This order cannot be cancelled: it is {exc.from_status.value}, and from there "
            f"it may only go to {', '.join(allowed_moves(order)) or 'no other status'}.",
        ) from exc
    commit()
    return jsonify(success=True, data=order_detail(order, caller.integration))


@bp.get("/<partner_id>/integration-config")
def get_integration_config(partner_id):
    caller = _caller(partner_id)
    commit()
    return jsonify(
        success=True, data=integration_to_dict(caller.integration, test=_is_test(caller))
    )


@bp.get("/<partner_id>/events")
def events(partner_id):
    caller = _caller(partner_id)
    commit()
    return jsonify(success=True, data=event_catalogue(caller.integration))
