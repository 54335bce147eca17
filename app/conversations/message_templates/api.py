"""JSON API for message templates: list for the desk, create for admins.

Technicians are refused as in the composer's template preview: their quick
replies come ready-made on /m/.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from app.conversations.message_templates.services import (
    TemplateValidationError,
    create_template,
    get_template,
    list_templates,
    template_to_dict,
)
from app.platform.auth.decorators import STAFF_DESK_ROLES, require_second_factor
from app.platform.extensions import db
from app.platform.json_api.auth import api_role_required, guard_json_api
from app.platform.json_api.errors import ApiError
from app.platform.models.enums import Role
from app.platform.transactions import commit

bp = guard_json_api(Blueprint("templates_api", __name__, url_prefix="/api/templates"))
desk_roles_only = api_role_required(
    *STAFF_DESK_ROLES, message="Message templates are for desk roles (agent or above)."
)

TRUE = {"1", "true", "yes"}
FALSE = {"0", "false", "no"}


def _active_filter() -> bool | None:
    raw = request.args.get("active")
    if raw is None or raw == "":
        return None
    if raw.lower() in TRUE:
        return True
    if raw.lower() in FALSE:
        return False
    raise ApiError(422, "invalid_filter", "active must be true or false.", {"active": "1 or 0"})


@bp.get("")
@desk_roles_only
def index():
    """Filters: ``channel`` and ``category`` (exact values), ``active`` (1/0)."""
    try:
        templates = list_templates(
            channel=request.args.get("channel") or None,
            category=request.args.get("category") or None,
            active=_active_filter(),
        )
    except TemplateValidationError as exc:
        raise ApiError(422, "invalid_filter", "Unknown filter value.", exc.fields) from exc
    return jsonify(data=[template_to_dict(t) for t in templates], next_cursor=None)


@bp.get("/<template_id>")
@desk_roles_only
def show(template_id: str):
    template = get_template(template_id)
    if template is None:
        raise ApiError(404, "not_found", "No such template.")
    return jsonify(data=template_to_dict(template))


@bp.post("")
@api_role_required(Role.ADMIN, message="Only admins can create message templates.")
def create():
    require_second_factor()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "Send the template as a JSON object.")
    try:
        template = create_template(body)
    except TemplateValidationError as exc:
        db.session.rollback()
        raise ApiError(422, "validation_failed", "The template was not saved.", exc.fields) from exc
    commit()
    return jsonify(data=template_to_dict(template)), 201
