"""JSON API of the integration hub , admins only.

``GET|POST /api/integrations``, ``GET|PATCH|DELETE /api/integrations/<id>``,
``POST /api/integrations/<id>/test``, ``GET /api/integrations/<id>/logs`` and the
OAuth pair ``POST /api/integrations/oauth/initiate`` / ``oauth/callback`` (for a
client that receives the provider's redirect itself). Credentials go in, never
out: answers carry only their "set …abcd" summary.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user

from app.integrations import oauth, presenters, services
from app.integrations.sync import (
    MAX_PROBLEM_PAGE_SIZE,
    PROBLEM_PAGE_SIZE,
    SETTING_FIELDS,
    ProblemPage,
    SyncRefused,
    as_uuid,
    default_direction,
    record_of,
    record_problems,
    resume_sync,
    start_sync,
    sync_history,
    sync_job,
)
from app.platform.auth.decorators import require_second_factor
from app.platform.json_api.auth import guard_json_api, require_api_role
from app.platform.json_api.errors import ApiError
from app.platform.models import AuditLog, Integration
from app.platform.models.enums import Role
from app.platform.security.access import SESSION_OR_KEY, Access, declare_blueprint
from app.platform.transactions import commit

bp = guard_json_api(Blueprint("integrations_api", __name__, url_prefix="/api/integrations"))

WRITABLE = frozenset(
    {"provider", "name", "status", "sync_direction", "sync_frequency", *SETTING_FIELDS}
    | {"webhooks_enabled", *services.CONFIG_FIELDS}
    | set(services.ALL_SECRET_FIELDS)
)


declare_blueprint(bp, Access(roles=frozenset({Role.ADMIN}), two_factor=True, csrf=SESSION_OR_KEY))


@bp.before_request
def _admins_only():
    # guard_json_api has signed the caller in; this API is the admin page's twin.
    require_api_role((Role.ADMIN,), "Integrations are for admins.")
    require_second_factor()  # integration management needs two-factor auth


def _json_body(allowed: frozenset[str] | set[str] | None = None) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "Send a JSON object.")
    unknown = sorted(set(body) - (WRITABLE | {"id"} if allowed is None else set(allowed)))
    if unknown:
        raise ApiError(
            422, "validation_failed", "Unknown fields.", {k: "unknown field" for k in unknown}
        )
    return body


def _integration(integration_id: str) -> Integration:
    integration = services.get_integration(integration_id)
    if integration is None:
        raise ApiError(404, "not_found", "There is no such integration.")
    return integration


def _invalid(exc: services.IntegrationInvalid) -> ApiError:
    return ApiError(422, "validation_failed", "Some fields are not valid.", exc.errors)


@bp.get("")
def index():
    return jsonify(
        data=[presenters.integration_to_dict(i) for i in services.list_integrations()],
        stats=presenters.hub_stats(),
    )


@bp.post("")
def create():
    try:
        integration = services.create_integration(_json_body(), current_user)
    except services.IntegrationInvalid as exc:
        raise _invalid(exc) from exc
    commit()
    return jsonify(data=presenters.integration_to_dict(integration)), 201


@bp.get("/<integration_id>")
def show(integration_id: str):
    return jsonify(data=presenters.integration_to_dict(_integration(integration_id)))


@bp.patch("/<integration_id>")
def update(integration_id: str):
    integration = _integration(integration_id)
    body = _json_body()
    body.pop("id", None)
    if "provider" in body and body["provider"] != integration.provider:
        raise ApiError(
            422, "validation_failed", "Some fields are not valid.", {"provider": "cannot change"}
        )
    try:
        services.update_integration(integration, body, current_user)
    except services.IntegrationInvalid as exc:
        raise _invalid(exc) from exc
    commit()
    return jsonify(data=presenters.integration_to_dict(integration))


@bp.delete("/<integration_id>")
def delete(integration_id: str):
    services.delete_integration(_integration(integration_id), current_user)
    commit()
    return "", 204


@bp.post("/<integration_id>/test")
def test(integration_id: str):
    integration = _integration(integration_id)
    ok, message = services.check_connection(integration, current_user)
    commit()
    return jsonify(data={"ok": ok, "message": message, "status": integration.status})


SYNC_FIELDS = frozenset({"object_type", "direction", "only_failed"})


@bp.post("/<integration_id>/sync")
def trigger_sync(integration_id: str):
    """Start a sync (``object_type``, ``direction``, ``only_failed``)."""
    integration = _integration(integration_id)
    body = _json_body(SYNC_FIELDS)
    object_type = str(body.get("object_type") or "")
    try:
        job = start_sync(
            integration,
            object_type,
            str(body.get("direction") or default_direction(integration, object_type)),
            current_user,
            only_failed=bool(body.get("only_failed", False)),
        )
    except SyncRefused as exc:
        raise ApiError(422, "validation_failed", "The sync cannot start.", exc.fields) from exc
    commit()
    return jsonify(data=_job_to_dict(job)), 202


@bp.get("/<integration_id>/sync")
def sync_jobs(integration_id: str):
    """The sync history, newest first, and the records left failed or noted.

    ``limit`` (1-200) pages both record lists, ``failed_before`` and
    ``notes_before`` carry on from a page's ``next_before``, ``job_id`` keeps
    the records one job touched last.
    """
    integration = _integration(integration_id)
    fields: dict[str, str] = {}
    raw_limit = request.args.get("limit") or str(PROBLEM_PAGE_SIZE)
    limit = int(raw_limit) if raw_limit.isdigit() else 0
    if not 1 <= limit <= MAX_PROBLEM_PAGE_SIZE:
        fields["limit"] = f"a whole number from 1 to {MAX_PROBLEM_PAGE_SIZE}"
    job = None
    if request.args.get("job_id"):
        job_id = as_uuid(request.args["job_id"])
        job = sync_job(integration, job_id) if job_id else None
        if job is None:
            fields["job_id"] = "not a sync job of this integration"
    anchors = {}
    for kind in ("failed", "notes"):
        raw = request.args.get(f"{kind}_before")
        anchors[kind] = as_uuid(raw) if raw else None
        if raw and (
            anchors[kind] is None or not record_of(integration, anchors[kind])
        ):
            fields[f"{kind}_before"] = "not a sync record of this integration"
    if fields:
        raise ApiError(422, "validation_failed", "Some parameters are not valid.", fields)
    pages = {
        kind: record_problems(
            integration, kind, before=anchors[kind], limit=limit, job=job
        )
        for kind in ("failed", "notes")
    }
    return jsonify(
        data=[_job_to_dict(job) for job in sync_history(integration)],
        failed_records=_page_to_dict(pages["failed"], "error"),
        notes=_page_to_dict(pages["notes"], "note"),
    )


def _page_to_dict(page: ProblemPage, message: str) -> dict[str, Any]:
    return {
        "data": [
            {
                "id": str(record.id),
                "object_type": record.object_type,
                "local_id": record.local_id,
                "remote_id": record.remote_id,
                "status": record.status,
                message: record.last_error,
                "attempts": record.attempts,
                "job_id": str(record.last_sync_job_id) if record.last_sync_job_id else None,
                "synced_at": record.synced_at.isoformat() if record.synced_at else None,
                "updated_at": record.updated_at.isoformat(),
            }
            for record in page.records
        ],
        "next_before": page.next_before,
    }


@bp.post("/<integration_id>/sync/<job_id>/resume")
def resume_job(integration_id: str, job_id: str):
    """Queue a failed sync again, from its last committed batch (202)."""
    integration = _integration(integration_id)
    job = sync_job(integration, job_id)
    if job is None:
        raise ApiError(404, "not_found", "There is no such sync job.")
    try:
        resume_sync(job)
    except SyncRefused as exc:
        raise ApiError(422, "validation_failed", "The sync cannot resume.", exc.fields) from exc
    commit()
    return jsonify(data=_job_to_dict(job)), 202


def _job_to_dict(job) -> dict[str, Any]:
    return {
        "id": str(job.id),
        "object_type": job.object_type,
        "direction": job.direction,
        "status": job.status,
        "only_failed": job.only_failed,
        "total_records": job.total_records,
        "processed": job.processed,
        "succeeded": job.succeeded,
        "failed": job.failed,
        "archived": job.archived,
        # Where it stands: the provider cursor of the next batch, how often a
        # worker took it up, and the record the last of those resumed at.
        "cursor": job.cursor,
        "runs": job.runs,
        "resumed_at_record": job.resumed_at_record,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "error": job.error,
    }


@bp.get("/<integration_id>/logs")
def logs(integration_id: str):
    integration = _integration(integration_id)
    return jsonify(data=[_audit_to_dict(e) for e in presenters.audit_entries(integration.id)])


@bp.post("/oauth/initiate")
def oauth_initiate():
    body = request.get_json(silent=True) or {}
    integration = _integration(str(body.get("integration_id") or ""))
    try:
        url = services.start_oauth(integration, current_user)
    except services.IntegrationInvalid as exc:
        raise _invalid(exc) from exc
    return jsonify(data={"authorization_url": url, "redirect_uri": oauth.redirect_uri()})


@bp.post("/oauth/callback")
def oauth_callback():
    body = request.get_json(silent=True) or {}
    pending = oauth.claim_state(str(body.get("state") or ""), str(current_user.id))
    if pending is None:
        raise ApiError(
            400, "invalid_state", "The state is unknown, expired, already used or not yours."
        )
    code = str(body.get("code") or "")
    if not code or len(code) > 2000:
        raise ApiError(422, "validation_failed", "No code.", {"code": "required"})
    extra = {"realmId": str(body.get("realmId") or body.get("realm_id") or "")}
    try:
        integration = services.complete_oauth(pending, code, current_user, extra)
    except oauth.IntegrationAuthError as exc:
        commit()
        raise ApiError(502, "oauth_failed", str(exc)) from exc
    commit()
    return jsonify(data=presenters.integration_to_dict(integration))


def _audit_to_dict(entry: AuditLog) -> dict[str, Any]:
    return {
        "id": str(entry.id),
        "action": entry.action,
        "changes": entry.changes,
        "user_id": str(entry.changed_by_user_id) if entry.changed_by_user_id else None,
        "created_at": entry.created_at.isoformat(),
    }
