"""Admin pages for message templates, and the thread-aware preview the composer calls.

``bp`` (``/admin/templates``) is for admins. ``preview_bp`` serves
``POST /templates/<id>/preview?thread_id=`` to every desk role, as JSON.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.conversations.inbox.access import can_access_thread
from app.conversations.message_templates.forms import (
    CATEGORY_LABELS,
    CHANNEL_LABELS,
    ENTITY_LABELS,
    TemplateForm,
)
from app.conversations.message_templates.rendering import (
    VARIABLES,
    TemplateRenderError,
    render_for_thread,
    render_sample,
)
from app.conversations.message_templates.services import (
    StaleTemplate,
    TemplateValidationError,
    activate_template,
    create_template,
    deactivate_template,
    get_template,
    list_templates,
    preview_thread,
    update_template,
    version_of,
)
from app.platform.auth.decorators import role_required
from app.platform.extensions import db
from app.platform.json_api.errors import json_error
from app.platform.models import CommunicationTemplate, CommunicationThread
from app.platform.models.enums import Role
from app.platform.security.access import DESK
from app.platform.transactions import commit

bp = Blueprint("message_templates", __name__, url_prefix="/admin/templates")
preview_bp = Blueprint("template_preview", __name__)

LABELS = dict(
    category_labels=CATEGORY_LABELS,
    template_channel_labels=CHANNEL_LABELS,
    entity_labels=ENTITY_LABELS,
)


def _template_or_404(template_id: uuid.UUID) -> CommunicationTemplate:
    template = get_template(template_id)
    if template is None:
        abort(404, _("No such template."))
    return template


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    channel = request.args.get("channel") or None
    category = request.args.get("category") or None
    try:
        templates = list_templates(channel=channel, category=category)
    except TemplateValidationError as exc:
        problems = "; ".join(f"{k} {v}" for k, v in exc.fields.items())
        abort(400, _("Unknown filter: %(problems)s", problems=problems))
    context = dict(templates=templates, channel=channel, category=category, **LABELS)
    if request.htmx:
        return render_template("message_templates/_list.html", **context)
    return render_template("message_templates/index.html", **context)


def _form_page(form: TemplateForm, template: CommunicationTemplate | None, status: int = 200):
    # After a refused save the preview shows which placeholders are known.
    preview = _sample_preview(form) if request.method == "POST" else None
    page = render_template(
        "message_templates/form.html",
        form=form,
        template=template,
        variables=VARIABLES,
        preview=preview,
    )
    return page, status


def _previewing() -> bool:
    """The form's "Preview" button, submitted without htmx: show the preview, save nothing."""
    return request.method == "POST" and bool(request.form.get("preview"))


def _sample_preview(form: TemplateForm):
    return render_sample(
        form.subject_template.data,
        form.message_template.data,
        form.html_template.data,
        declared=(form.variables.data or "").replace(",", " ").split(),
        agent_name=current_user.name,
    )


def _refused(form: TemplateForm, fields: dict[str, str]) -> None:
    db.session.rollback()
    for message in form.add_errors(fields):
        flash(message, "error")


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new():
    form = TemplateForm()
    if request.method == "GET" or _previewing():
        return _form_page(form, None)
    if not form.validate():
        return _form_page(form, None, 422)
    try:
        template = create_template(form.to_data())
    except TemplateValidationError as exc:
        _refused(form, exc.fields)
        return _form_page(form, None, 422)
    commit()
    flash(_("Template “%(name)s” created.", name=template.display_name), "success")
    return redirect(url_for(".index"), 303)


@bp.route("/<uuid:template_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit(template_id: uuid.UUID):
    template = _template_or_404(template_id)
    form = TemplateForm()
    if request.method == "GET":
        form.fill_from(template, version_of(template))
        return _form_page(form, template)
    if _previewing():
        return _form_page(form, template)
    if not form.validate():
        return _form_page(form, template, 422)
    try:
        update_template(template, form.to_data(), expected_version=form.version.data or None)
    except StaleTemplate as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _form_page(form, template, 409)
    except TemplateValidationError as exc:
        _refused(form, exc.fields)
        return _form_page(form, template, 422)
    commit()
    flash(_("Template “%(name)s” saved.", name=template.display_name), "success")
    return redirect(url_for(".index"), 303)


def _set_active(template_id: uuid.UUID, active: bool):
    template = _template_or_404(template_id)
    if active:
        activate_template(template)
    else:
        deactivate_template(template)
    commit()
    if request.htmx:
        return render_template("message_templates/_row.html", template=template, **LABELS)
    if active:
        flash(_("Template “%(name)s” activated.", name=template.display_name), "success")
    else:
        flash(_("Template “%(name)s” deactivated.", name=template.display_name), "success")
    return redirect(url_for(".index"), 303)


@bp.post("/<uuid:template_id>/deactivate")
@role_required(Role.ADMIN)
def deactivate(template_id: uuid.UUID):
    return _set_active(template_id, False)


@bp.post("/<uuid:template_id>/activate")
@role_required(Role.ADMIN)
def activate(template_id: uuid.UUID):
    return _set_active(template_id, True)


@bp.post("/preview")
@role_required(Role.ADMIN)
def preview():
    """The form's texts filled with example values (a partial for htmx)."""
    form = TemplateForm()
    return render_template("message_templates/_preview.html", preview=_sample_preview(form))


# --- the composer's preview, for every desk role -----------------------------


def _thread(thread_id: str | None) -> CommunicationThread | None:
    try:
        return preview_thread(uuid.UUID(thread_id or ""))
    except ValueError:
        return None


def _overrides() -> dict[str, str]:
    """Values the sender typed: JSON ``{"variables": {...}}`` or form ``variables.<name>``."""
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict) and isinstance(body.get("variables"), dict):
        return {
            str(name): str(value) for name, value in body["variables"].items() if value is not None
        }
    overrides = {}
    for key, value in request.form.items():
        if key.startswith("variables."):
            overrides[key.removeprefix("variables.")] = value
        elif key.startswith("variables[") and key.endswith("]"):
            overrides[key[len("variables[") : -1]] = value
    return overrides


@preview_bp.post("/templates/<template_id>/preview")
@role_required(*DESK)
def thread_preview(template_id: str):
    """``template_id`` filled in for ``?thread_id=``: 200 with the texts, 422 naming gaps."""
    template = get_template(template_id)
    if template is None:
        return json_error(404, "not_found", "No such template.")
    thread = _thread(request.args.get("thread_id") or request.form.get("thread_id"))
    if thread is None:
        return json_error(404, "not_found", "No such thread.", {"thread_id": "not found"})
    if not can_access_thread(current_user, thread):
        return json_error(403, "forbidden", "You cannot see this conversation.")
    if not template.is_active:
        return json_error(
            422, "template_inactive", "This template is deactivated.", {"template_id": "inactive"}
        )
    try:
        rendered = render_for_thread(
            template, thread, current_user._get_current_object(), _overrides()
        )
    except TemplateRenderError as exc:
        return json_error(422, "template_variables", exc.message, exc.fields)
    return jsonify(subject=rendered.subject, body=rendered.body, html=rendered.html)
