"""Read an order, and move its status through the status engine."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, jsonify, request
from flask_login import current_user

from app.orders.core.api_schemas import MAX_REASON
from app.orders.core.services import (
    find_order,
    may_change_status,
    may_view_orders,
    order_status_to_dict,
    order_to_dict,
)
from app.orders.core.status_engine import IllegalTransition, change_entity_status, parse_status
from app.platform.json_api.auth import guard_json_api
from app.platform.json_api.errors import ApiError
from app.platform.security.access import DESK, OWN_VISITS, SESSION_OR_KEY, Access, declare
from app.platform.transactions import commit

bp = guard_json_api(Blueprint("orders_api", __name__, url_prefix="/api/orders"))


def _order(key: str):
    order = find_order(key)
    if order is None:
        raise ApiError(404, "not_found", "No order with that id or number.")
    return order


@bp.get("/<key>")
@declare(Access(roles=DESK, csrf=SESSION_OR_KEY))
def get_order(key):
    # Refused before the look-up, as on the page: order numbers are guessable,
    # and a 404/403 difference would tell a technician which ones exist.
    if not may_view_orders(current_user):
        raise ApiError(403, "forbidden", "Orders are for desk staff; your visits are on /m/.")
    return jsonify(data=order_to_dict(_order(key)))


def _order_to_move(key: str):
    """The order the caller may move; a technician gets 403 for a number that does not
    exist as for another's visit, so 404 against 403 tells them nothing."""
    order = find_order(key)
    if order is None and may_view_orders(current_user):
        raise ApiError(404, "not_found", "No order with that id or number.")
    if order is None or not may_change_status(current_user, order):
        raise ApiError(403, "forbidden", "You may not change this order's status.")
    return order


@bp.post("/<key>/status")
@declare(replace(OWN_VISITS, csrf=SESSION_OR_KEY))
def change_status(key):
    order = _order_to_move(key)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    try:
        to_status = parse_status(str(body.get("to_status", "")))
    except ValueError as exc:
        raise ApiError(
            422, "validation_failed", "Unknown status.", {"to_status": str(exc)}
        ) from exc
    reason, partner_note = _text(body, "reason"), _text(body, "partner_note")
    try:
        change_entity_status(
            order, to_status, reason, {"via": "api"}, current_user, partner_note=partner_note
        )
    except IllegalTransition as exc:
        raise ApiError(409, "illegal_transition", str(exc)) from exc
    commit()
    shown = order_to_dict(order) if may_view_orders(current_user) else order_status_to_dict(order)
    return jsonify(data=shown)


def _text(body: dict, field: str) -> str | None:
    """``body[field]`` as optional text; 422 naming the field otherwise."""
    value = body.get(field)
    if value is not None and (not isinstance(value, str) or len(value) > MAX_REASON):
        raise ApiError(
            422,
            "validation_failed",
            f"{field} must be text.",
            {field: f"text of at most {MAX_REASON} characters"},
        )
    return value
