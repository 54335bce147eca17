"""``/portal``: a partner user's own API keys, webhook, IP allow-list and performance.

Only the user's own organisation: a parent never sees a sub-partner's keys or
settings. Fresh keys and secrets are shown once, on a page that is not stored.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

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

from app.orders.deliveries.partner_events import EVENTS as PARTNER_EVENTS
from app.orders.partners import management
from app.orders.partners.allowlist import save_ip_allowlist
from app.orders.partners.config import ConfigInvalid
from app.orders.partners.keys import (
    find_partner_key,
    partner_keys,
    revoke_partner_key,
    rotate_webhook_secret,
)
from app.orders.partners.performance import PERIODS, partner_performance, period_days, period_of
from app.orders.portal.access import current_integration, current_scope, me
from app.orders.portal.key_forms import (
    DEFAULT_OVERLAP_HOURS,
    MAX_OVERLAP_HOURS,
    issue_key_from_form,
    overlap_hours,
)
from app.platform.auth.decorators import role_required
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import ApiToken
from app.platform.models.enums import KeyMode, KeyScope, Role
from app.platform.transactions import commit
from app.platform.ui import no_store

bp = Blueprint("portal_settings", __name__, url_prefix="/portal")


# --- API keys ------------------------------------------------------------------


@bp.get("/keys")
@role_required(Role.PARTNER)
def keys():
    return _keys_page()


def _keys_page(status: int = 200, errors: dict | None = None, **extra):
    scope = current_scope()
    page = render_template(
        "portal/keys.html",
        keys=partner_keys(scope.organization),
        partner_id=scope.organization.id,
        now=utcnow(),
        modes=KeyMode.values(),
        scopes=KeyScope.values(),
        errors=errors or {},
        active="keys",
        **extra,
    )
    return no_store(make_response(page, status))


@bp.post("/keys")
@role_required(Role.PARTNER)
def create_key():
    scope = current_scope()
    try:
        plain = issue_key_from_form(scope.organization, request.form, me())
    except ConfigInvalid as exc:
        db.session.rollback()
        return _keys_page(422, exc.fields)
    commit()
    return _keys_page(201, new_key=plain)


def _own_key(token_id: uuid.UUID) -> ApiToken:
    scope = current_scope()
    token = find_partner_key(scope.organization, token_id)
    if token is None:
        abort(404)
    return token


@bp.get("/keys/<uuid:token_id>/revoke")
@role_required(Role.PARTNER)
def confirm_revoke(token_id: uuid.UUID):
    token = _own_key(token_id)
    return render_template("portal/revoke_key.html", key=token, active="keys")


@bp.post("/keys/<uuid:token_id>/revoke")
@role_required(Role.PARTNER)
def revoke_key(token_id: uuid.UUID):
    token = _own_key(token_id)
    try:
        revoke_partner_key(token, me())
    except ValueError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        commit()
        flash(
            _("Key %(prefix)s… is revoked; requests with it now get 401.", prefix=token.prefix),
            "info",
        )
    return redirect(url_for("portal_settings.keys"), 303)


# --- webhook -------------------------------------------------------------------


@bp.get("/webhook")
@role_required(Role.PARTNER)
def webhook():
    return _webhook_page()


def _webhook_page(
    status: int = 200,
    errors: dict | None = None,
    submitted=None,
    sandbox_submitted=None,
    **extra,
):
    """The live and the Test (sandbox) callback settings side by side."""
    integration = current_integration(current_scope())
    values = submitted or {
        "webhook_url": integration.webhook_url or "",
        "events": list(integration.webhook_events or []),
    }
    sandbox_values = sandbox_submitted or {
        "webhook_url": integration.sandbox_webhook_url or "",
        "events": list(integration.sandbox_webhook_events or []),
        "to_live": integration.test_callbacks_to_live_url,
    }
    errors = errors or {}
    page = render_template(
        "portal/webhook.html",
        integration=integration,
        values=values,
        sandbox_values=sandbox_values,
        known_events=PARTNER_EVENTS,
        errors=errors.get("live", {}),
        sandbox_errors=errors.get("sandbox", {}),
        now=utcnow(),
        default_overlap=DEFAULT_OVERLAP_HOURS,
        max_overlap=MAX_OVERLAP_HOURS,
        active="webhook",
        **extra,
    )
    return no_store(make_response(page, status))


@bp.post("/webhook")
@role_required(Role.PARTNER)
def save_webhook():
    integration = current_integration(current_scope())
    data = {
        "webhook_url": request.form.get("webhook_url", ""),
        "webhook_events": request.form.getlist("webhook_events"),
    }
    try:
        management.update_integration(integration, data, me())
    except ConfigInvalid as exc:
        db.session.rollback()
        submitted = {"webhook_url": data["webhook_url"], "events": data["webhook_events"]}
        return _webhook_page(422, {"live": exc.for_people}, submitted)
    commit()
    flash(_("Webhook saved."), "info")
    return redirect(url_for("portal_settings.webhook"), 303)


@bp.post("/webhook/sandbox")
@role_required(Role.PARTNER)
def save_sandbox_webhook():
    """Where test orders' callbacks go: the sandbox's own URL and events."""
    integration = current_integration(current_scope())
    data = {
        "webhook_url": request.form.get("webhook_url", ""),
        "webhook_events": request.form.getlist("webhook_events"),
        "test_callbacks_to_live_url": "test_callbacks_to_live_url" in request.form,
    }
    try:
        management.update_sandbox_callbacks(integration, data, me())
    except ConfigInvalid as exc:
        db.session.rollback()
        submitted = {
            "webhook_url": data["webhook_url"],
            "events": data["webhook_events"],
            "to_live": data["test_callbacks_to_live_url"],
        }
        return _webhook_page(422, {"sandbox": exc.for_people}, sandbox_submitted=submitted)
    commit()
    flash(_("Sandbox webhook saved."), "info")
    return redirect(url_for("portal_settings.webhook"), 303)


@bp.post("/webhook/secret")
@role_required(Role.PARTNER)
def rotate_secret():
    return _rotate_secret(sandbox=False)


@bp.post("/webhook/sandbox/secret")
@role_required(Role.PARTNER)
def rotate_sandbox_secret():
    return _rotate_secret(sandbox=True)


def _rotate_secret(*, sandbox: bool):
    integration = current_integration(current_scope())
    section = "sandbox" if sandbox else "live"
    try:
        hours = overlap_hours(request.form.get("overlap_hours"))
    except ConfigInvalid as exc:
        return _webhook_page(422, {section: exc.fields})
    secret = rotate_webhook_secret(
        integration, me(), overlap=timedelta(hours=hours), sandbox=sandbox
    )
    commit()
    if sandbox:
        return _webhook_page(201, new_sandbox_secret=secret)
    return _webhook_page(201, new_secret=secret)


# --- IP allow-list -------------------------------------------------------------


@bp.get("/allowlist")
@role_required(Role.PARTNER)
def allowlist():
    integration = current_integration(current_scope())
    text = "\n".join(integration.ip_allowlist or [])
    return render_template("portal/allowlist.html", text=text, errors={}, active="allowlist")


@bp.post("/allowlist")
@role_required(Role.PARTNER)
def save_allowlist():
    integration = current_integration(current_scope())
    text = request.form.get("ip_allowlist", "")
    try:
        save_ip_allowlist(integration, text, me())
    except ConfigInvalid as exc:
        db.session.rollback()
        page = render_template(
            "portal/allowlist.html", text=text, errors=exc.fields, active="allowlist"
        )
        return page, 422
    commit()
    flash(_("IP allow-list saved."), "info")
    return redirect(url_for("portal_settings.allowlist"), 303)


# --- performance ---------------------------------------------------------------


@bp.get("/performance")
@role_required(Role.PARTNER)
def performance():
    scope = current_scope()
    days = period_days(request.args.get("days"))
    own = next(
        (row for row in partner_performance(days) if row.organization.id == scope.organization.id),
        None,
    )
    return render_template(
        "portal/performance.html",
        row=own,
        period=period_of(days),
        periods=PERIODS,
        active="performance",
    )
