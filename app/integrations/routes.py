"""The /integrations admin pages: the hub, one integration's settings, the OAuth hops.

Plain forms that work without JavaScript. The add-integration dialog is opened
by a link (``?tab=crm``) and rendered by the server, so its tabs are anchors;
htmx only swaps a test result in place. Pages that show credential summaries
are sent ``no-store``.
"""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.integrations import oauth, presenters, services
from app.integrations.endpoints import endpoint_rows
from app.integrations.health import latest_results
from app.integrations.registry import (
    CATEGORIES,
    DIRECTIONS,
    FREQUENCIES,
    PROVIDERS,
    Provider,
    providers_by_category,
)
from app.integrations.sync import batch_limit, form_values
from app.integrations.usage import usage_summary
from app.platform.auth.decorators import role_required
from app.platform.models import Integration
from app.platform.models.enums import Role
from app.platform.transactions import commit

bp = Blueprint("integrations", __name__, url_prefix="/integrations")

# Form fields the settings and add forms may send; anything else is ignored.
FORM_FIELDS = (
    ("provider", "name", "status", "sync_direction", "sync_frequency", "batch_size")
    + services.CONFIG_FIELDS
    + services.ALL_SECRET_FIELDS
)
# A ticked "clear" box beside a secret (``clear_verifier_token``) removes it.
CLEAR_PREFIX = "clear_"


def form_data(provider: Provider | None = None) -> dict:
    """The submitted fields; the webhooks checkbox is absent when unticked.

    The settings form of ``provider``'s integration also carries its sync
    settings: ``include_deleted``, the date range and ``filters.<key>``.
    """
    data = {name: request.form[name] for name in FORM_FIELDS if name in request.form}
    for name in services.ALL_SECRET_FIELDS:
        if request.form.get(CLEAR_PREFIX + name) == "on":
            data[name] = None
    if request.form.get("form") == "settings" or "provider" in data:
        data["webhooks_enabled"] = request.form.get("webhooks_enabled") == "on"
    if request.form.get("form") == "settings" and provider is not None:
        for name in ("modified_since", "modified_until"):
            if name in request.form:
                data[name] = request.form[name]
        if provider.lists_deleted:
            data["include_deleted"] = request.form.get("include_deleted") == "on"
        data["filters"] = {
            spec.key: (
                request.form.get(f"filters.{spec.key}") == "on"
                if spec.kind == "flag"
                else request.form.get(f"filters.{spec.key}", "")
            )
            for spec in provider.sync_filters
        }
    return data


def webhook_url(provider: Provider) -> str:
    """Where the provider is told to send its webhooks (``PUBLIC_BASE_URL``)."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/api/v1/webhooks/{provider.key}"


def _integration(integration_id: uuid.UUID) -> Integration:
    integration = services.get_integration(integration_id)
    if integration is None:
        abort(404, _("There is no such integration."))
    return integration


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the hub -------------------------------------------------------------------


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    return _hub_page()


@bp.post("/")
@role_required(Role.ADMIN)
def create():
    data = form_data()
    try:
        integration = services.create_integration(data, current_user)
    except services.IntegrationInvalid as exc:
        provider = PROVIDERS.get(str(data.get("provider") or ""))
        tab = provider.category if provider else "crm"
        return _hub_page(tab=tab, provider_key=data.get("provider"), errors=exc.errors, status=422)
    commit()
    if integration.auth_method == "oauth2":
        flash(
            _("%(name)s saved. Connect it with OAuth to activate it.", name=integration.name),
            "info",
        )
        return redirect(url_for(".show", integration_id=integration.id), 303)
    flash(_("%(name)s added.", name=integration.name), "info")
    return redirect(url_for(".index"), 303)


def _hub_page(tab=None, provider_key=None, errors=None, status=200):
    tab = tab or request.args.get("tab")
    provider_key = provider_key or request.args.get("provider")
    provider = PROVIDERS.get(provider_key or "")
    if provider is not None:
        tab = provider.category
    integrations = services.list_integrations()
    html = render_template(
        "integrations/index.html",
        integrations=integrations,
        stats=presenters.hub_stats(),
        failed_counts=presenters.failed_record_counts(),
        providers=providers_by_category(),
        providers_by_key=PROVIDERS,
        config_urls={
            p.api_base_key: current_app.config.get(p.api_base_key)
            for p in PROVIDERS.values()
            if p.api_base_key
        },
        redirect_uri=oauth.redirect_uri(),
        categories=CATEGORIES,
        directions=DIRECTIONS,
        frequencies=FREQUENCIES,
        batch_limits={key: batch_limit(p) for key, p in PROVIDERS.items()},
        dialog_open=tab in CATEGORIES,
        tab=tab if tab in CATEGORIES else "crm",
        chosen=provider,
        webhook_url=webhook_url(provider) if provider else None,
        errors=errors or {},
        error_labels=presenters.field_labels(provider),
        values=request.form if errors else {},
        webhooks=endpoint_rows(),
        usage=usage_summary(),
        health=latest_results(),
    )
    return _no_store(make_response(html, status))


# --- one integration -----------------------------------------------------------


@bp.get("/<uuid:integration_id>")
@role_required(Role.ADMIN)
def show(integration_id):
    return _settings_page(_integration(integration_id))


@bp.post("/<uuid:integration_id>")
@role_required(Role.ADMIN)
def update(integration_id):
    integration = _integration(integration_id)
    provider = services.provider_of(integration)
    try:
        changes = services.update_integration(integration, form_data(provider), current_user)
    except services.IntegrationInvalid as exc:
        return _settings_page(integration, errors=exc.errors, status=422)
    commit()
    flash(_("Saved.") if changes else _("Nothing changed."), "info")
    return redirect(url_for(".show", integration_id=integration.id), 303)


@bp.post("/<uuid:integration_id>/delete")
@role_required(Role.ADMIN)
def delete(integration_id):
    integration = _integration(integration_id)
    name = integration.name
    services.delete_integration(integration, current_user)
    commit()
    flash(_("%(name)s deleted.", name=name), "info")
    return redirect(url_for(".index"), 303)


@bp.post("/<uuid:integration_id>/test")
@role_required(Role.ADMIN)
def test(integration_id):
    integration = _integration(integration_id)
    ok, message = services.check_connection(integration, current_user)
    commit()
    message = services.readable_outcome(message)
    if request.headers.get("HX-Request"):
        return render_template(
            "integrations/_test_result.html", integration=integration, ok=ok, message=message
        )
    if ok:
        flash(_("Connection works: %(message)s", message=message), "info")
    else:
        flash(_("Connection failed: %(message)s", message=message), "info")
    if request.form.get("back") == "settings":
        return redirect(url_for(".show", integration_id=integration.id), 303)
    return redirect(url_for(".index"), 303)


def _settings_page(integration: Integration, errors=None, status=200):
    provider = services.provider_of(integration)
    html = render_template(
        "integrations/show.html",
        integration=integration,
        provider=provider,
        batch_max=batch_limit(provider),
        sync_form=form_values(integration, request.form if errors else None),
        credentials=presenters.credential_summary(integration),
        webhook_credential=services.webhook_credential(services.provider_of(integration)),
        webhook_url=webhook_url(services.provider_of(integration)),
        directions=DIRECTIONS,
        frequencies=FREQUENCIES,
        audit=presenters.change_log(integration.id, limit=20),
        errors=errors or {},
        error_labels=presenters.field_labels(provider),
        values=request.form if errors else {},
        redirect_uri=oauth.redirect_uri(),
    )
    return _no_store(make_response(html, status))


# --- OAuth ---------------------------------------------------------------------


@bp.post("/<uuid:integration_id>/oauth/start")
@role_required(Role.ADMIN)
def oauth_start(integration_id):
    integration = _integration(integration_id)
    try:
        url = services.start_oauth(integration, current_user)
    except services.IntegrationInvalid as exc:
        return _settings_page(integration, errors=exc.errors, status=422)
    return redirect(url, 303)


@bp.get("/oauth/callback")
@role_required(Role.ADMIN)
def oauth_callback():
    pending = oauth.claim_state(request.args.get("state", ""), str(current_user.id))
    if pending is None:
        abort(400, _("This sign-in link is unknown, expired or already used. Start again."))
    back = url_for(".show", integration_id=pending.integration_id)
    if request.args.get("error"):
        # The admin declined, or the provider refused; its words, shortened.
        reason = request.args.get("error", "")[:100]
        flash(
            _("The provider did not authorize the connection (%(reason)s).", reason=reason), "info"
        )
        return redirect(back, 303)
    code = request.args.get("code", "")
    if not code or len(code) > 2000:
        abort(400, _("The provider sent no authorization code."))
    try:
        integration = services.complete_oauth(pending, code, current_user, request.args)
    except oauth.IntegrationAuthError as exc:
        commit()  # the failure is kept on the integration and in the audit log
        flash(_("Connecting failed: %(problem)s", problem=exc), "info")
        return redirect(back, 303)
    commit()
    flash(_("%(name)s is connected.", name=integration.name), "info")
    return redirect(back, 303)
