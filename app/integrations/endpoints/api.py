"""JSON API of outgoing webhook endpoints , admins only.

The twin of the ``/integrations/webhooks`` pages, over the same functions:
``GET|POST /api/webhooks``, ``GET|PATCH|DELETE /api/webhooks/<id>``,
``POST /api/webhooks/<id>/rotate-secret``, ``POST /api/webhooks/<id>/test``,
``GET /api/webhooks/<id>/deliveries`` and
``POST /api/webhooks/<id>/deliveries/<delivery_id>/retry``. The ``whsec_``
secret is in the answer that made it (create, rotate) and never again; custom
header values go in and never come out, only their names.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user

from app.integrations.endpoints.rules import EndpointInvalid, is_on, parse_json
from app.integrations.endpoints.services import (
    DELIVERY_PAGE_SIZE,
    EndpointRow,
    create_endpoint,
    delete_endpoint,
    delivery_log,
    delivery_of,
    endpoint_rows,
    find_endpoint,
    retry,
    rotate_secret,
    send_test_event,
    set_active,
    update_endpoint,
)
from app.integrations.sync import as_uuid
from app.orders.deliveries.payloads import iso
from app.platform.auth.decorators import require_second_factor
from app.platform.extensions import db
from app.platform.json_api.auth import guard_json_api, require_api_role
from app.platform.json_api.errors import ApiError
from app.platform.models import DeliveryAttempt, OutboundDelivery, WebhookEndpoint
from app.platform.models.enums import Role
from app.platform.security.access import SESSION_OR_KEY, Access, declare_blueprint
from app.platform.transactions import commit
from app.platform.ui import no_store

bp = guard_json_api(Blueprint("integration_webhooks_api", __name__, url_prefix="/api/webhooks"))

MAX_PAGE = 100


declare_blueprint(bp, Access(roles=frozenset({Role.ADMIN}), two_factor=True, csrf=SESSION_OR_KEY))


@bp.before_request
def _admins_only():
    # guard_json_api has signed the caller in; these are the admin pages' twins.
    require_api_role((Role.ADMIN,), "Webhook endpoints are for admins.")
    require_second_factor()  # integration management needs two-factor auth


def _body(*, required: bool = True) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None and not required and not request.get_data():
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "Send a JSON object.")
    return body


def _no_fields() -> None:
    """Actions take no fields; a client sending some has misread the API."""
    unknown = sorted(_body(required=False))
    if unknown:
        raise ApiError(
            422, "validation_failed", "Unknown fields.", {k: "unknown field" for k in unknown}
        )


def _endpoint(endpoint_id: str) -> WebhookEndpoint:
    known = as_uuid(endpoint_id)
    endpoint = find_endpoint(known) if known else None
    if endpoint is None:
        raise ApiError(404, "not_found", "There is no such webhook endpoint.")
    return endpoint


def _invalid(exc: EndpointInvalid) -> ApiError:
    return ApiError(422, "validation_failed", "Some fields are not valid.", exc.fields)


def _with_secret(endpoint: WebhookEndpoint, secret: str, status: int):
    data = {**endpoint_to_dict(endpoint_rows(endpoint)[0]), "secret": secret}
    return no_store(jsonify(data=data)), status


@bp.get("")
def index():
    return jsonify(data=[endpoint_to_dict(row) for row in endpoint_rows()])


@bp.post("")
def create():
    try:
        form, active = parse_json(_body())
    except EndpointInvalid as exc:
        raise _invalid(exc) from exc
    endpoint, secret = create_endpoint(form, current_user, active=active)
    commit()
    return _with_secret(endpoint, secret, 201)


@bp.get("/<endpoint_id>")
def show(endpoint_id: str):
    return jsonify(data=endpoint_to_dict(endpoint_rows(_endpoint(endpoint_id))[0]))


@bp.patch("/<endpoint_id>")
def update(endpoint_id: str):
    endpoint = _endpoint(endpoint_id)
    try:
        form, active = parse_json(_body(), endpoint)
    except EndpointInvalid as exc:
        raise _invalid(exc) from exc
    update_endpoint(endpoint, form, current_user)
    if active != is_on(endpoint):
        set_active(endpoint, active, current_user)
    commit()
    return jsonify(data=endpoint_to_dict(endpoint_rows(endpoint)[0]))


@bp.delete("/<endpoint_id>")
def delete(endpoint_id: str):
    delete_endpoint(_endpoint(endpoint_id), current_user)
    commit()
    return "", 204


@bp.post("/<endpoint_id>/rotate-secret")
def new_secret(endpoint_id: str):
    endpoint = _endpoint(endpoint_id)
    _no_fields()
    secret = rotate_secret(endpoint, current_user)
    commit()
    return _with_secret(endpoint, secret, 200)


@bp.post("/<endpoint_id>/test")
def test_event(endpoint_id: str):
    endpoint = _endpoint(endpoint_id)
    _no_fields()
    try:
        delivery = send_test_event(endpoint, current_user)
    except ValueError as exc:
        raise ApiError(409, "endpoint_off", str(exc)) from exc
    commit()
    return jsonify(data=delivery_to_dict(delivery)), 202


@bp.get("/<endpoint_id>/deliveries")
def deliveries(endpoint_id: str):
    endpoint = _endpoint(endpoint_id)
    fields: dict[str, str] = {}
    before = request.args.get("before") or None
    if before is not None and as_uuid(before) is None:
        fields["before"] = "a delivery id (a UUID), as next_before gives it"
    raw_limit = request.args.get("limit") or str(DELIVERY_PAGE_SIZE)
    limit = int(raw_limit) if raw_limit.isdigit() else 0
    if not 1 <= limit <= MAX_PAGE:
        fields["limit"] = f"a whole number from 1 to {MAX_PAGE}"
    if fields:
        raise ApiError(422, "validation_failed", "Some parameters are not valid.", fields)
    if before is not None and delivery_of(endpoint, as_uuid(before)) is None:
        # Well formed, but it names nothing here: not found, like an unknown endpoint.
        raise ApiError(
            404,
            "not_found",
            "This endpoint has no such delivery to page from.",
            {"before": "not a delivery of this endpoint"},
        )
    log = delivery_log(endpoint, before, limit)
    return jsonify(data=[delivery_to_dict(d) for d in log.deliveries], next_before=log.next_before)


@bp.post("/<endpoint_id>/deliveries/<delivery_id>/retry")
def retry_one(endpoint_id: str, delivery_id: str):
    endpoint = _endpoint(endpoint_id)
    _no_fields()
    known = as_uuid(delivery_id)
    try:
        if known is None:
            raise LookupError(delivery_id)
        delivery = retry(endpoint, known, current_user)  # commits and queues
    except LookupError as exc:
        raise ApiError(404, "not_found", "This endpoint has no such delivery.") from exc
    except ValueError as exc:
        db.session.rollback()
        raise ApiError(409, "not_retryable", str(exc)) from exc
    return jsonify(data=delivery_to_dict(delivery)), 202


# --- what the answers carry --------------------------------------------------------


def endpoint_to_dict(row: EndpointRow) -> dict[str, Any]:
    """An endpoint as the API shows it: never its secret, only its headers' names."""
    endpoint = row.endpoint
    return {
        "id": str(endpoint.id),
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events or []),
        "custom_header_names": row.header_names,
        "max_attempts": endpoint.max_attempts,
        "retry_base_seconds": endpoint.retry_base_seconds,
        "is_active": endpoint.is_active,
        "state": row.state,
        "disabled_at": iso(endpoint.disabled_at),
        "disabled_reason": endpoint.disabled_reason,
        "delivered_24h": row.delivered_24h,
        "failed_24h": row.failed_24h,
        "created_at": iso(endpoint.created_at),
        "updated_at": iso(endpoint.updated_at),
    }


def delivery_to_dict(delivery: OutboundDelivery) -> dict[str, Any]:
    """One delivery of the log: outcome, the payload sent and every attempt."""
    attempts = list(delivery.attempts)
    last = attempts[-1] if attempts else None
    return {
        "id": str(delivery.id),
        "webhook_id": delivery.webhook_id,
        "event_type": delivery.event_type,
        "status": delivery.state.value,
        "response_code": delivery.last_status_code,
        "response_time_ms": _ms(last.latency_ms) if last else None,
        "response_excerpt": last.response_excerpt if last else None,
        "error": delivery.last_error,
        "attempt_count": delivery.attempt_count,
        "max_attempts": delivery.max_attempts,
        "next_attempt_at": iso(delivery.next_attempt_at),
        "delivered_at": iso(delivery.delivered_at),
        "created_at": iso(delivery.created_at),
        "payload": delivery.payload,
        "attempts": [_attempt_to_dict(a) for a in attempts],
    }


def _attempt_to_dict(attempt: DeliveryAttempt) -> dict[str, Any]:
    return {
        "attempt_number": attempt.attempt_number,
        "status_code": attempt.status_code,
        "response_time_ms": _ms(attempt.latency_ms),
        "response_excerpt": attempt.response_excerpt,
        "error": attempt.error,
        "triggered_by_user_id": (
            str(attempt.triggered_by_user_id) if attempt.triggered_by_user_id else None
        ),
        "attempted_at": iso(attempt.created_at),
    }


def _ms(latency: float | None) -> int | None:
    return None if latency is None else round(latency)
