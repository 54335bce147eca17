"""The partner API's sandbox endpoints, for test keys only.

``POST …/sandbox/orders/<partner_order_id>/status`` moves a test order through
our statuses by the real status engine (an illegal move is 409 as for staff);
``POST …/sandbox/orders/<partner_order_id>/timeline`` runs approved → scheduled
→ in_progress → completed on a clock and answers 202 with the planned steps.
Both send the same signed callbacks as a live order's moves, marked as test.
A live key is refused with 403 ``test_key_required``; authentication, rate
limits and errors are the partner API's own.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from app.orders.core.services import partner_status_of
from app.orders.core.status_engine import IllegalTransition
from app.orders.deliveries.payloads import status_details
from app.orders.partners.access import PartnerCaller, authenticate, enforce_rate_limit
from app.orders.partners.sandbox import timeline
from app.orders.partners.sandbox.mode import caller_is_test, order_in_mode
from app.orders.partners.sandbox.moves import move_test_order
from app.orders.partners.sandbox.requests import SandboxRequestInvalid, read_move, read_timeline
from app.platform.extensions import csrf
from app.platform.json_api.errors import ApiError
from app.platform.security.access import PARTNER_API, declare_blueprint
from app.platform.transactions import after_commit, commit

bp = Blueprint("partner_sandbox", __name__, url_prefix="/api/v1/partners")
declare_blueprint(bp, PARTNER_API)
csrf.exempt(bp)


@bp.after_request
def _rate_limit_headers(response):
    for name, value in g.get("rate_limit_headers", {}).items():
        response.headers.setdefault(name, value)
    return response


def _test_caller(partner_id: str) -> PartnerCaller:
    caller = authenticate(partner_id)
    g.rate_limit_headers = enforce_rate_limit(caller)
    if not caller_is_test(caller):
        raise ApiError(
            403,
            "test_key_required",
            "The sandbox works with a test key (sbk_test_…) only; a live key's orders "
            "move when the work is done.",
        )
    return caller


def _test_order(caller: PartnerCaller, partner_order_id: str):
    order = order_in_mode(caller.partner, partner_order_id, is_test=True)
    if order is None:
        raise ApiError(
            404, "not_found", f"No test order with partner_order_id {partner_order_id!r}."
        )
    return order


def _body() -> dict:
    body = request.get_json(silent=True)
    if body is None and not request.get_data():
        return {}
    if not isinstance(body, dict):
        raise ApiError(
            400, "invalid_json", "The request body must be a JSON object (application/json)."
        )
    return body


def _invalid(exc: SandboxRequestInvalid) -> ApiError:
    return ApiError(422, "validation_failed", "The request has invalid fields.", exc.fields)


@bp.post("/<partner_id>/sandbox/orders/<path:partner_order_id>/status")
def move_status(partner_id, partner_order_id):
    caller = _test_caller(partner_id)
    body = _body()
    try:
        move = read_move(body, caller.integration)
    except SandboxRequestInvalid as exc:
        raise _invalid(exc) from None
    order = _test_order(caller, partner_order_id)
    try:
        transition = move_test_order(
            order, move.to_status, reason=move.reason, partner_note=move.partner_note
        )
    except IllegalTransition as exc:
        raise ApiError(409, "illegal_transition", str(exc)) from exc
    commit()
    return jsonify(
        success=True,
        data={
            "partner_order_id": order.partner_order_id,
            "chargecars_order_id": order.order_number,
            "status": partner_status_of(order, caller.integration),
            "internal_status": order.status.value,
            "status_details": status_details(transition),
            "test": True,
        },
    )


@bp.post("/<partner_id>/sandbox/orders/<path:partner_order_id>/timeline")
def run_timeline(partner_id, partner_order_id):
    caller = _test_caller(partner_id)
    body = _body()
    try:
        run = read_timeline(body, caller.integration)
    except SandboxRequestInvalid as exc:
        raise _invalid(exc) from None
    to_status, step_seconds = run.to_status, run.step_seconds
    order = _test_order(caller, partner_order_id)
    try:
        steps = timeline.plan(order, to_status, step_seconds)
    except timeline.NoTimeline as exc:
        raise ApiError(409, "illegal_transition", str(exc)) from exc
    order_id, from_status = order.id, order.status
    statuses = [step.status for step in steps]
    after_commit(lambda: timeline.queue_first_step(order_id, from_status, statuses, step_seconds))
    commit()
    return jsonify(
        success=True,
        data={
            "partner_order_id": order.partner_order_id,
            "chargecars_order_id": order.order_number,
            "internal_status": from_status.value,
            "step_seconds": step_seconds,
            "steps": [step.to_dict() for step in steps],
            "test": True,
        },
    ), 202
