"""Sync jobs and field mappings of one integration, for admins.

``POST /integrations/<id>/sync`` starts a job and redirects to its page, whose
progress block polls itself every second while the job runs (htmx gets just
the block). ``/integrations/<id>/mappings`` edits an object's mappings, with a
"test mapping" preview on the latest local record — computed here, never sent.
"""

from __future__ import annotations

import json
import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.integrations.connectors import ConnectorError, connector_for
from app.integrations.registry import get_provider
from app.integrations.sync import jobs, mappings, problems
from app.integrations.sync.mapping_defaults import MappingSpec, kind_of, local_field_names
from app.integrations.sync.transforms import TRANSFORMS
from app.platform.auth.decorators import role_required
from app.platform.extensions import db
from app.platform.models import Integration, SyncJob
from app.platform.models.enums import Role
from app.platform.transactions import commit

bp = Blueprint("integration_sync", __name__, url_prefix="/integrations")


def _integration(integration_id: uuid.UUID) -> Integration:
    integration = jobs.find_integration(integration_id)
    if integration is None:
        abort(404, _("There is no such integration."))
    return integration


def _job(integration: Integration, job_id: uuid.UUID) -> SyncJob:
    job = jobs.sync_job(integration, job_id)
    if job is None:
        abort(404, _("There is no such sync job."))
    return job


def _objects(integration: Integration) -> list[str]:
    """The integration's objects that map to local records."""
    try:
        objects = connector_for(integration).objects
    except ConnectorError:
        provider = get_provider(integration.provider)
        objects = provider.objects if provider else ()
    return [o for o in objects if kind_of(o) is not None]


# --- sync jobs -------------------------------------------------------------------


@bp.get("/<uuid:integration_id>/sync")
@role_required(Role.ADMIN)
def history(integration_id):
    integration = _integration(integration_id)
    return render_template(
        "integrations/sync_history.html",
        integration=integration,
        jobs=jobs.sync_history(integration, limit=50),
        objects=_objects(integration),
        errors={},
    )


@bp.post("/<uuid:integration_id>/sync")
@role_required(Role.ADMIN)
def trigger(integration_id):
    integration = _integration(integration_id)
    objects = _objects(integration)
    object_type = request.form.get("object_type") or (objects[0] if objects else "")
    direction = request.form.get("direction") or jobs.default_direction(integration, object_type)
    only_failed = request.form.get("only_failed") in ("1", "on", "true")
    try:
        job = jobs.start_sync(integration, object_type, direction, current_user, only_failed)
    except jobs.SyncRefused as exc:
        db.session.rollback()
        return (
            render_template(
                "integrations/sync_history.html",
                integration=integration,
                jobs=jobs.sync_history(integration, limit=50),
                objects=objects,
                errors=exc.fields,
            ),
            422,
        )
    commit()
    return redirect(url_for(".show_job", integration_id=integration.id, job_id=job.id), 303)


@bp.get("/<uuid:integration_id>/sync/<uuid:job_id>")
@role_required(Role.ADMIN)
def show_job(integration_id, job_id):
    integration = _integration(integration_id)
    job = _job(integration, job_id)
    context = {
        "integration": integration,
        "job": job,
        "failed_records": jobs.job_errors(job),
        "noted_records": problems.job_notes(job),
        "active": job.status in jobs.ACTIVE_STATUSES,
    }
    if request.headers.get("HX-Request"):
        return render_template("integrations/_sync_progress.html", **context)
    return render_template("integrations/sync_job.html", **context)


@bp.post("/<uuid:integration_id>/sync/<uuid:job_id>/cancel")
@role_required(Role.ADMIN)
def cancel(integration_id, job_id):
    integration = _integration(integration_id)
    job = _job(integration, job_id)
    if jobs.cancel_sync(job):
        commit()
        flash(_("Cancelling: the job stops after the batch it is on."), "info")
    else:
        flash(_("That job has already ended."), "info")
    return redirect(url_for(".show_job", integration_id=integration.id, job_id=job.id), 303)


@bp.post("/<uuid:integration_id>/sync/<uuid:job_id>/resume")
@role_required(Role.ADMIN)
def resume(integration_id, job_id):
    integration = _integration(integration_id)
    job = _job(integration, job_id)
    try:
        jobs.resume_sync(job)
    except jobs.SyncRefused as exc:
        flash("; ".join(exc.fields.values()), "info")
    else:
        commit()
        # job.processed records are done; a person counts the next one from 1.
        flash(_("Resuming from record %(count)s.", count=job.processed + 1), "info")
    return redirect(url_for(".show_job", integration_id=integration.id, job_id=job.id), 303)


# --- field mappings ----------------------------------------------------------------


@bp.get("/<uuid:integration_id>/mappings")
@role_required(Role.ADMIN)
def edit_mappings(integration_id):
    integration = _integration(integration_id)
    objects = _objects(integration)
    object_type = request.args.get("object") or (objects[0] if objects else "")
    if object_type not in objects:
        abort(404, _("This integration has no such object."))
    rows = [_row(spec) for spec in mappings.mappings_for(integration, object_type)]
    return _mapping_page(integration, objects, object_type, rows)


@bp.post("/<uuid:integration_id>/mappings")
@role_required(Role.ADMIN)
def save_mappings(integration_id):
    integration = _integration(integration_id)
    objects = _objects(integration)
    object_type = request.form.get("object_type", "")
    if object_type not in objects:
        abort(404, _("This integration has no such object."))
    rows = _form_rows()
    try:
        specs = mappings.validate_rows(object_type, rows)
    except mappings.MappingError as exc:
        return _mapping_page(integration, objects, object_type, rows, exc.fields, status=422)
    mappings.save_mappings(integration, object_type, specs, current_user)
    commit()
    flash(_("Mappings for %(object)s saved.", object=object_type), "info")
    target = url_for(".edit_mappings", integration_id=integration.id, object=object_type)
    return redirect(target, 303)


@bp.post("/<uuid:integration_id>/mappings/preview")
@role_required(Role.ADMIN)
def preview_mappings(integration_id):
    """The payload the form's (unsaved) rows would send for the latest local record."""
    integration = _integration(integration_id)
    object_type = request.form.get("object_type", "")
    if object_type not in _objects(integration):
        abort(404, _("This integration has no such object."))
    result = {"errors": {}, "payload": None, "record": None}
    try:
        specs = mappings.validate_rows(object_type, _form_rows())
    except mappings.MappingError as exc:
        result["errors"] = exc.fields
    else:
        result.update(mappings.preview(integration, object_type, specs))
    if result["payload"] is not None:
        result["payload"] = json.dumps(result["payload"], indent=2, ensure_ascii=False)
    return render_template("integrations/_mapping_preview.html", **result)


def _form_rows() -> list[dict]:
    rows = []
    count = min(int(request.form.get("row_count", 0) or 0), 100)
    for i in range(count):
        rows.append(
            {
                name: request.form.get(f"rows-{i}-{name}", "")
                for name in (
                    "local_field",
                    "remote_field",
                    "data_type",
                    "direction",
                    "transform",
                    "required",
                )
            }
        )
    return rows


def _row(spec: MappingSpec) -> dict:
    return {
        "local_field": spec.local_field,
        "remote_field": spec.remote_field,
        "data_type": spec.data_type,
        "direction": spec.direction,
        "transform": spec.transform,
        "required": "on" if spec.required else "",
    }


def _mapping_page(integration, objects, object_type, rows, errors=None, status=200):
    kind = kind_of(object_type)
    blank = {"local_field": "", "remote_field": "", "data_type": "string"}
    rows = list(rows) + [dict(blank, direction="both", transform="none", required="")] * 3
    html = render_template(
        "integrations/mappings.html",
        integration=integration,
        objects=objects,
        object_type=object_type,
        rows=rows,
        errors=errors or {},
        local_fields=local_field_names(kind) if kind else [],
        data_types=mappings.DATA_TYPES,
        directions=mappings.DIRECTIONS,
        transforms=list(TRANSFORMS),
        saved=mappings.has_saved_mappings(integration, object_type),
    )
    return html, status
