"""The partner API: order intake, status polling, integration config.

Routes stay thin: authenticate and rate-limit (app.orders.partners.access), validate
through the pydantic schemas, call the intake or config service, commit, answer
``{"success": true, "data": …}``.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from pydantic import ValidationError

from app.orders.core.customer_details import partner_review_reasons
from app.orders.core.services import partner_status_of
from app.orders.deliveries.callback_settings import route_for
from app.orders.deliveries.payloads import status_details
from app.orders.partners import idempotency
from app.orders.partners.access import authenticate, enforce_rate_limit, enforce_status_poll_limit
from app.orders.partners.config import (
    ConfigInvalid,
    apply_integration_config,
    apply_sandbox_config,
    granted_statuses,
    refused_for_key_mode,
    refused_partner_settings,
)
from app.orders.partners.intake import (
    IntakeInvalid,
    create_partner_order,
    existing_order,
    parse_order,
)
from app.orders.partners.sandbox.mode import caller_is_test, idempotency_key_in_mode
from app.orders.partners.schemas import IntegrationConfigIn
from app.platform.extensions import csrf, db
from app.platform.json_api.errors import ApiError, error_body
from app.platform.json_api.validation import field_errors
from app.platform.security.access import PARTNER_API, declare_blueprint
from app.platform.transactions import commit

bp = Blueprint("partner_api", __name__, url_prefix="/api/v1/partners")
declare_blueprint(bp, PARTNER_API)
csrf.exempt(bp)


@bp.after_request
def _rate_limit_headers(response):
    for name, value in g.get("rate_limit_headers", {}).items():
        response.headers.setdefault(name, value)
    return response


def _caller(partner_id: str):
    caller = authenticate(partner_id)
    g.rate_limit_headers = enforce_rate_limit(caller)
    return caller


def _json_body():
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(
            400, "invalid_json", "The request body must be JSON (Content-Type: application/json)."
        )
    return body


@bp.post("/<partner_id>/orders")
def create_order(partner_id):
    caller = _caller(partner_id)
    body = _json_body()
    try:
        key = idempotency.parse_key(request.headers.get(idempotency.HEADER))
    except idempotency.KeyInvalid as exc:
        raise ApiError(400, "invalid_idempotency_key", f"{idempotency.HEADER}: {exc}.") from exc
    # A body that is not an order keeps no answer under its key (as at Stripe).
    try:
        parse_order(body)
    except IntakeInvalid as exc:
        raise ApiError(
            422, "validation_failed", "The order has invalid fields.", exc.fields
        ) from exc
    is_test = caller_is_test(caller)
    if key is not None:
        # A test key's Idempotency-Key never replays a live answer, nor the reverse.
        sent, key = key, idempotency_key_in_mode(key, is_test)
        stored = _claim_key(caller.partner, key, body, sent)
        if stored is not None:
            commit()
            return _replay(stored)
    response = _intake_answer(caller.partner, body, is_test)
    if key is not None:
        idempotency.remember(
            caller.partner, key, response.status_code, response.get_data(as_text=True)
        )
    commit()
    return response


def _claim_key(partner, key: str, body, sent: str) -> idempotency.StoredAnswer | None:
    try:
        return idempotency.claim(partner, key, idempotency.fingerprint(body))
    except idempotency.KeyReused as exc:
        db.session.rollback()
        raise ApiError(
            422,
            "idempotency_key_reused",
            f"{idempotency.HEADER} {sent!r} was used before with another body; "
            "use a new key for a different request.",
            {idempotency.HEADER: "used before with another body"},
        ) from exc


def _replay(stored: idempotency.StoredAnswer):
    if stored.status is None:
        # Not reached while the key's row is written with its answer in one
        # transaction; should a row ever be committed without one, say so.
        raise ApiError(
            409,
            "idempotency_key_in_use",
            f"A request with this {idempotency.HEADER} is still being answered; retry shortly.",
        )
    response = current_app.response_class(
        stored.body, status=stored.status, mimetype="application/json"
    )
    response.headers[idempotency.REPLAYED_HEADER] = "true"
    return response


def _intake_answer(partner, body, is_test: bool = False):
    """201 for a new order, 200 for the same body again, 409 for another body."""
    result = create_partner_order(partner, body, is_test=is_test)
    if result.differs:
        order = result.order
        answer = error_body(
            "order_conflict",
            f"partner_order_id {order.partner_order_id!r} was sent before with other "
            f"values; order {order.order_number} keeps what was sent first. Changes to "
            "an order go through ChargeCars, not by sending it again.",
            {path: "differs from what was sent first" for path in result.differs},
        )
        answer["error"]["chargecars_order_id"] = order.order_number
        response = jsonify(answer)
        response.status_code = 409
        return response
    response = jsonify(success=True, data=result.response_data())
    response.status_code = 201 if result.created else 200
    return response


@bp.get("/<partner_id>/orders/<path:partner_order_id>/status")
def order_status(partner_id, partner_order_id):
    caller = _caller(partner_id)
    order = existing_order(caller.partner, partner_order_id, is_test=caller_is_test(caller))
    if order is None:
        raise ApiError(404, "not_found", f"No order with partner_order_id {partner_order_id!r}.")
    enforce_status_poll_limit(caller, partner_order_id)
    commit()
    return jsonify(
        success=True,
        data={
            "partner_order_id": order.partner_order_id,
            "chargecars_order_id": order.order_number,
            "status": partner_status_of(order, caller.integration),
            "internal_status": order.status.value,
            "needs_review": bool(partner_review_reasons(order)),
            "updated_at": order.updated_at.isoformat(),
            # The last move as the callback told it: the partner note, never our reason.
            "status_details": status_details(order.transitions[-1]) if order.transitions else None,
        },
    )


@bp.post("/<partner_id>/integration-config")
def integration_config(partner_id):
    caller = _caller(partner_id)
    is_test = caller_is_test(caller)
    body = _json_body()
    _refuse_other_modes_settings(body, is_test)
    settings = _partner_settings(body)
    try:
        if is_test:
            apply_sandbox_config(caller.integration, settings)
        else:
            apply_integration_config(caller.integration, settings)
    except ConfigInvalid as exc:
        db.session.rollback()
        raise ApiError(
            422, "validation_failed", "The configuration has invalid fields.", exc.fields
        ) from exc
    commit()
    return jsonify(success=True, data=integration_to_dict(caller.integration, test=is_test))


def _refuse_other_modes_settings(body, is_test: bool) -> None:
    """403 naming each field of the other mode's settings; nothing is changed.

    A test key reads and changes the sandbox's callback settings only, so it
    can never send live orders' callbacks (live customers' details) elsewhere;
    a live key changes the live settings only.
    """
    refused = refused_for_key_mode(body, test=is_test)
    if not refused:
        return
    db.session.rollback()
    if is_test:
        raise ApiError(
            403,
            "live_key_required",
            "A test key changes only the sandbox's callback settings (webhook_url, "
            "webhook_events, test_callbacks_to_live_url); change the live settings with a "
            "live key. Nothing was changed.",
            refused,
        )
    raise ApiError(
        403,
        "test_key_required",
        "A live key changes only the live settings; change the sandbox's with a test key. "
        "Nothing was changed.",
        refused,
    )


def _partner_settings(body) -> dict:
    """The settings in ``body`` that are the partner's to change, validated.

    Ours to give (rate limit, delivery attempts, active or not…) are refused
    with the rest of the body's errors, so one answer names every wrong field.
    """
    errors = refused_partner_settings(body)
    if isinstance(body, dict):
        body = {key: value for key, value in body.items() if key not in errors}
    settings = {}
    try:
        config = IntegrationConfigIn.model_validate(body)
        settings = config.model_dump(exclude_unset=True, mode="json")
    except ValidationError as exc:
        errors.update(field_errors(exc))
    if errors:
        db.session.rollback()
        raise ApiError(422, "validation_failed", "The configuration has invalid fields.", errors)
    return settings


def integration_to_dict(integration, *, test: bool = False) -> dict:
    """The integration as the partner may see it: never the secret or credentials.

    ``test`` (a test key's answer) shows the sandbox's callback settings in
    ``webhook_url`` and ``webhook_events``; the live ones are not shown to it.
    """
    if test:
        route = route_for(integration, test=True)
        webhook_url = integration.sandbox_webhook_url
        webhook_events = integration.sandbox_webhook_events
        # Only the live endpoint is ever switched off, and only when it takes test callbacks.
        disabled_at = integration.webhook_disabled_at if route.live_endpoint else None
    else:
        webhook_url = integration.webhook_url
        webhook_events = integration.webhook_events
        disabled_at = integration.webhook_disabled_at
    return {
        "partner_id": str(integration.partner_organization_id),
        "mode": "test" if test else "live",
        "integration_name": integration.integration_name,
        "api_base_url": integration.api_base_url,
        "api_version": integration.api_version,
        "authentication_type": integration.authentication_type.value,
        "webhook_url": webhook_url,
        "webhook_events": list(webhook_events or []),
        "test_callbacks_to_live_url": bool(integration.test_callbacks_to_live_url),
        "status_mapping": integration.status_mapping or {},
        # Ours to give; shown so the partner knows what its mapping may reach.
        "granted_statuses": granted_statuses(integration),
        "sync_frequency": integration.sync_frequency.value,
        "sync_enabled": integration.sync_enabled,
        "is_active": integration.is_active,
        "rate_limit_per_minute": integration.rate_limit_per_minute,
        "max_delivery_attempts": integration.max_delivery_attempts,
        "webhook_disabled_at": _iso(disabled_at),
        "last_sync_at": _iso(integration.last_sync_at),
        "success_rate": float(integration.success_rate)
        if integration.success_rate is not None
        else None,
    }


def _iso(value):
    return value.isoformat() if value else None
