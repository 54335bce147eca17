"""The partner API (CONTRACT §4): order intake, status polling, integration config.

Routes stay thin: authenticate and rate-limit (app.partners.access), validate
through the pydantic schemas, call the intake or config service, commit, answer
``{"success": true, "data": …}``.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from pydantic import ValidationError

from app.api.errors import ApiError
from app.api.validation import field_errors
from app.deliveries.payloads import status_details
from app.extensions import csrf, db
from app.orders.customer_details import partner_review_reasons
from app.orders.services import partner_status_of
from app.partners.access import authenticate, enforce_rate_limit, enforce_status_poll_limit
from app.partners.config import (
    ConfigInvalid,
    apply_integration_config,
    granted_statuses,
    refused_partner_settings,
)
from app.partners.intake import IntakeInvalid, create_partner_order, existing_order
from app.partners.schemas import IntegrationConfigIn
from app.transactions import commit

bp = Blueprint("partner_api", __name__, url_prefix="/api/v1/partners")
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
        result = create_partner_order(caller.partner, body)
    except IntakeInvalid as exc:
        db.session.rollback()
        raise ApiError(
            422, "validation_failed", "The order has invalid fields.", exc.fields
        ) from exc
    commit()
    return jsonify(success=True, data=result.response_data()), 201 if result.created else 200


@bp.get("/<partner_id>/orders/<path:partner_order_id>/status")
def order_status(partner_id, partner_order_id):
    caller = _caller(partner_id)
    order = existing_order(caller.partner, partner_order_id)
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
    settings = _partner_settings(_json_body())
    try:
        apply_integration_config(caller.integration, settings)
    except ConfigInvalid as exc:
        db.session.rollback()
        raise ApiError(
            422, "validation_failed", "The configuration has invalid fields.", exc.fields
        ) from exc
    commit()
    return jsonify(success=True, data=integration_to_dict(caller.integration))


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


def integration_to_dict(integration) -> dict:
    """The integration as the partner may see it: never the secret or credentials."""
    return {
        "partner_id": str(integration.partner_organization_id),
        "integration_name": integration.integration_name,
        "api_base_url": integration.api_base_url,
        "api_version": integration.api_version,
        "authentication_type": integration.authentication_type.value,
        "webhook_url": integration.webhook_url,
        "webhook_events": list(integration.webhook_events or []),
        "status_mapping": integration.status_mapping or {},
        # Ours to give; shown so the partner knows what its mapping may reach.
        "granted_statuses": granted_statuses(integration),
        "sync_frequency": integration.sync_frequency.value,
        "sync_enabled": integration.sync_enabled,
        "is_active": integration.is_active,
        "rate_limit_per_minute": integration.rate_limit_per_minute,
        "max_delivery_attempts": integration.max_delivery_attempts,
        "webhook_disabled_at": _iso(integration.webhook_disabled_at),
        "last_sync_at": _iso(integration.last_sync_at),
        "success_rate": float(integration.success_rate)
        if integration.success_rate is not None
        else None,
    }


def _iso(value):
    return value.isoformat() if value else None
