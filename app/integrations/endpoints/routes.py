"""Admin pages for outgoing webhook endpoints, under ``/integrations/webhooks``.

Plain forms that work without JavaScript; htmx swaps a delivery's row after a
retry. The secret is in the answer to the POST that made it and never again
(such pages are sent ``no-store``).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.integrations.endpoints.events import EVENT_GROUPS
from app.integrations.endpoints.rules import EndpointInvalid, parse_form
from app.integrations.endpoints.services import (
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
from app.orders.deliveries.log import describe_deliveries
from app.platform.auth.decorators import role_required
from app.platform.extensions import db
from app.platform.models import WebhookEndpoint
from app.platform.models.enums import Role
from app.platform.transactions import commit
from app.platform.ui import no_store

bp = Blueprint("integration_webhooks", __name__, url_prefix="/integrations/webhooks")


def _endpoint(endpoint_id) -> WebhookEndpoint:
    endpoint = find_endpoint(endpoint_id)
    if endpoint is None:
        abort(404, _("There is no such webhook endpoint."))
    return endpoint


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    return _index_page()


def _index_page(status: int = 200, errors=None, values=None):
    return render_template(
        "integrations/webhooks.html",
        webhooks=endpoint_rows(),
        event_groups=EVENT_GROUPS,
        errors=errors or {},
        values=values or {},
    ), status


@bp.post("/")
@role_required(Role.ADMIN)
def create():
    try:
        form = parse_form(request.form, creating=True)
    except EndpointInvalid as exc:
        return _index_page(422, exc.fields, _submitted())
    endpoint, secret = create_endpoint(form, current_user)
    commit()
    return _show_page(endpoint, status=201, new_secret=secret, created=True)


@bp.get("/<uuid:endpoint_id>")
@role_required(Role.ADMIN)
def show(endpoint_id):
    return _show_page(_endpoint(endpoint_id))


def _show_page(endpoint, *, status=200, errors=None, values=None, **extra):
    context = dict(
        endpoint=endpoint,
        event_groups=EVENT_GROUPS,
        header_names=sorted((endpoint.custom_headers or {}).keys()),
        log=delivery_log(endpoint, request.args.get("before")),
        errors=errors or {},
        values=values
        or {
            "url": endpoint.url,
            "description": endpoint.description or "",
            "events": endpoint.events or [],
            "max_attempts": endpoint.max_attempts,
            "retry_base_seconds": endpoint.retry_base_seconds or "",
        },
    )
    context.update(extra)
    return no_store(make_response(render_template("integrations/webhook.html", **context), status))


def _submitted() -> dict:
    # Header values are never echoed back: they may be tokens.
    values = {key: request.form.get(key, "") for key in ("url", "description", "max_attempts")}
    values["retry_base_seconds"] = request.form.get("retry_base_seconds", "")
    values["events"] = request.form.getlist("events")
    return values


@bp.post("/<uuid:endpoint_id>")
@role_required(Role.ADMIN)
def update(endpoint_id):
    endpoint = _endpoint(endpoint_id)
    try:
        form = parse_form(request.form, creating=False)
    except EndpointInvalid as exc:
        return _show_page(endpoint, status=422, errors=exc.fields, values=_submitted())
    update_endpoint(endpoint, form, current_user)
    commit()
    flash(_("Webhook endpoint saved."), "info")
    return redirect(url_for("integration_webhooks.show", endpoint_id=endpoint.id), 303)


@bp.post("/<uuid:endpoint_id>/delete")
@role_required(Role.ADMIN)
def delete(endpoint_id):
    endpoint = find_endpoint(endpoint_id)
    if endpoint is not None:  # a second click finds it gone: not an error
        delete_endpoint(endpoint, current_user)
        commit()
        flash(_("Webhook endpoint deleted; its deliveries stay in the log."), "info")
    return redirect(url_for("integration_webhooks.index"), 303)


@bp.post("/<uuid:endpoint_id>/secret")
@role_required(Role.ADMIN)
def new_secret(endpoint_id):
    endpoint = _endpoint(endpoint_id)
    secret = rotate_secret(endpoint, current_user)
    commit()
    return _show_page(endpoint, status=201, new_secret=secret)


@bp.post("/<uuid:endpoint_id>/active")
@role_required(Role.ADMIN)
def switch(endpoint_id):
    endpoint = _endpoint(endpoint_id)
    active = request.form.get("active") == "1"
    set_active(endpoint, active, current_user)
    commit()
    flash(_("Endpoint switched on.") if active else _("Endpoint switched off."), "info")
    return redirect(url_for("integration_webhooks.show", endpoint_id=endpoint.id), 303)


@bp.post("/<uuid:endpoint_id>/test")
@role_required(Role.ADMIN)
def test_event(endpoint_id):
    endpoint = _endpoint(endpoint_id)
    try:
        send_test_event(endpoint, current_user)
        commit()
        flash(_("Test event queued; its attempt appears in the log below."), "info")
    except ValueError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("integration_webhooks.show", endpoint_id=endpoint.id), 303)


@bp.post("/<uuid:endpoint_id>/deliveries/<uuid:delivery_id>/retry")
@role_required(Role.ADMIN)
def retry_one(endpoint_id, delivery_id):
    endpoint = _endpoint(endpoint_id)
    error = None
    try:
        retry(endpoint, delivery_id, current_user)  # commits and queues
    except LookupError:
        abort(404, _("This endpoint has no such delivery."))
    except ValueError as exc:
        db.session.rollback()
        error = str(exc)
    if request.htmx:
        log = describe_deliveries([delivery_of(endpoint, delivery_id)], None)
        return render_template(
            "integrations/_webhook_delivery.html",
            endpoint=endpoint,
            delivery=log.deliveries[0],
            log=log,
            row_error=error,
        )
    flash(error or _("Retry queued; the attempt appears in the log."), "error" if error else "info")
    return redirect(url_for("integration_webhooks.show", endpoint_id=endpoint.id), 303)
