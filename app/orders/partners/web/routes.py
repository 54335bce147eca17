"""Partner admin pages (admins): health list, one partner's setup, delivery log.

Plain forms that work without JavaScript; htmx swaps the SKU table and a
delivery's row in place. A key or secret is shown in the response to the POST
that made it and never again (the page is sent ``no-store``).
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

from app.orders.deliveries.services import reenable_endpoint, retry_delivery, send_test_event
from app.orders.partners import management
from app.orders.partners.config import ConfigInvalid
from app.orders.partners.grants import grant_statuses
from app.orders.partners.health import partner_health
from app.orders.partners.pages import (
    SETTINGS_FLAGS,
    SETTINGS_TEXT,
    invalid,
    partner_or_404,
    saved,
    show_page,
)
from app.orders.partners.performance import (
    LARGEST_BOUND_MS,
    PERIODS,
    partner_performance,
    period_days,
    period_of,
)
from app.orders.partners.performance_export import performance_csv
from app.platform.auth.decorators import role_required
from app.platform.extensions import db
from app.platform.models.enums import Role
from app.platform.transactions import commit

bp = Blueprint("partners", __name__, url_prefix="/partners")

# --- the list ------------------------------------------------------------------


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    return _list_page()


def _list_page(status: int = 200, errors: dict | None = None, values: dict | None = None):
    days = period_days(request.args.get("days"))
    return (
        render_template(
            "partners/index.html",
            partners=partner_health(),
            performance=partner_performance(days),
            period=period_of(days),
            periods=PERIODS,
            largest_bound_ms=LARGEST_BOUND_MS,
            errors=errors or {},
            values=values or {},
        ),
        status,
    )


@bp.get("/performance.csv")
@role_required(Role.ADMIN)
def performance_export():
    days = period_days(request.args.get("days"))
    period = period_of(days)
    body = performance_csv(partner_performance(days), period)
    response = make_response(body.encode("utf-8"))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    filename = f"partner-performance-{period.first_day}-{period.last_day}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.post("/")
@role_required(Role.ADMIN)
def create():
    values = {key: request.form.get(key, "") for key in ("name", "webhook_url", "parent")}
    try:
        new = management.onboard_partner(values["name"], values["parent"], values["webhook_url"])
    except ConfigInvalid as exc:
        db.session.rollback()
        return _list_page(422, exc.fields, values)
    commit()
    return show_page(
        new.organization,
        status=201,
        new_key=new.api_key,
        new_secret=new.webhook_secret,
        new_sandbox_secret=new.sandbox_webhook_secret,
        created=True,
    )


# --- one partner ---------------------------------------------------------------


@bp.get("/<uuid:partner_id>")
@role_required(Role.ADMIN)
def show(partner_id):
    partner = partner_or_404(partner_id)
    response = show_page(partner)
    commit()  # an integration made for a partner that had none
    return response


@bp.post("/<uuid:partner_id>/webhook")
@role_required(Role.ADMIN)
def save_webhook(partner_id):
    partner = partner_or_404(partner_id)
    data = {
        "webhook_url": request.form.get("webhook_url", ""),
        "webhook_events": request.form.getlist("webhook_events"),
    }
    try:
        management.update_integration(management.integration_of(partner), data, current_user)
    except ConfigInvalid as exc:
        submitted = {
            "webhook": {"webhook_url": data["webhook_url"], "events": data["webhook_events"]}
        }
        return invalid(partner, "webhook", exc, submitted)
    return saved(partner, _("Webhook saved."))


@bp.post("/<uuid:partner_id>/webhook/sandbox")
@role_required(Role.ADMIN)
def save_sandbox_webhook(partner_id):
    """The sandbox's callback settings: where test orders' callbacks go."""
    partner = partner_or_404(partner_id)
    data = {
        "webhook_url": request.form.get("webhook_url", ""),
        "webhook_events": request.form.getlist("webhook_events"),
        "test_callbacks_to_live_url": "test_callbacks_to_live_url" in request.form,
    }
    try:
        management.update_sandbox_callbacks(management.integration_of(partner), data, current_user)
    except ConfigInvalid as exc:
        submitted = {
            "sandbox_webhook": {
                "webhook_url": data["webhook_url"],
                "events": data["webhook_events"],
                "to_live": data["test_callbacks_to_live_url"],
            }
        }
        return invalid(partner, "sandbox_webhook", exc, submitted)
    return saved(partner, _("Sandbox webhook saved."))


@bp.post("/<uuid:partner_id>/webhook/reenable")
@role_required(Role.ADMIN)
def reenable(partner_id):
    partner = partner_or_404(partner_id)
    reenable_endpoint(management.integration_of(partner), current_user)  # commits
    flash(_("The endpoint is enabled again; new callbacks will be sent."), "info")
    return redirect(url_for("partners.show", partner_id=partner.id), 303)


@bp.post("/<uuid:partner_id>/settings")
@role_required(Role.ADMIN)
def save_settings(partner_id):
    partner = partner_or_404(partner_id)
    data = {key: request.form.get(key, "") for key in SETTINGS_TEXT}
    data.update({key: key in request.form for key in SETTINGS_FLAGS})
    try:
        management.update_integration(management.integration_of(partner), data, current_user)
    except ConfigInvalid as exc:
        return invalid(partner, "settings", exc, {"settings": data})
    return saved(partner, _("Integration settings saved."))


@bp.post("/<uuid:partner_id>/status-mapping")
@role_required(Role.ADMIN)
def save_status_mapping(partner_id):
    partner = partner_or_404(partner_id)
    outbound = {
        key.removeprefix("out_"): value
        for key, value in request.form.items()
        if key.startswith("out_")
    }
    inbound = list(
        zip(request.form.getlist("in_partner"), request.form.getlist("in_ours"), strict=False)
    )
    submitted = {"outbound": outbound, "inbound": inbound}
    try:
        mapping = management.mapping_from_rows(outbound, inbound)
        management.update_integration(
            management.integration_of(partner), {"status_mapping": mapping}, current_user
        )
    except ConfigInvalid as exc:
        return invalid(partner, "status_mapping", exc, submitted)
    return saved(partner, _("Status mapping saved."))


@bp.post("/<uuid:partner_id>/status-grants")
@role_required(Role.ADMIN)
def save_status_grants(partner_id):
    partner = partner_or_404(partner_id)
    statuses = request.form.getlist("granted")
    try:
        grant_statuses(management.integration_of(partner), statuses, current_user)
    except ConfigInvalid as exc:
        return invalid(partner, "status_grants", exc, {"submitted_grants": statuses})
    return saved(partner, _("Status reach saved."))


@bp.post("/<uuid:partner_id>/parent")
@role_required(Role.ADMIN)
def save_parent(partner_id):
    partner = partner_or_404(partner_id)
    try:
        management.set_parent(
            partner, request.form.get("parent_organization_id") or None, current_user
        )
    except ConfigInvalid as exc:
        return invalid(partner, "parent", exc)
    return saved(partner, _("Channel position saved."))


@bp.post("/<uuid:partner_id>/commission-rates")
@role_required(Role.ADMIN)
def save_commission_rates(partner_id):
    partner = partner_or_404(partner_id)
    rows = list(zip(request.form.getlist("level"), request.form.getlist("rate"), strict=False))
    try:
        management.set_commission_rates(partner, rows, current_user)
    except ConfigInvalid as exc:
        return invalid(partner, "commission_rates", exc, {"rates": rows})
    return saved(partner, _("Commission rates saved."))


# --- SKU mappings (htmx swaps the table) ----------------------------------------


def _sku_table(partner, status: int = 200, sku_errors=None, submitted=None):
    if not request.htmx:
        if sku_errors:
            return show_page(
                partner,
                status=status,
                section="skus",
                errors={},
                submitted={"sku_errors": sku_errors, "sku_submitted": submitted or {}},
            )
        return redirect(url_for("partners.show", partner_id=partner.id), 303)
    return render_template(
        "partners/_skus.html",
        partner=partner,
        mappings=management.sku_mappings(partner),
        articles=management.articles(),
        sku_errors=sku_errors or {},
        sku_submitted=submitted or {},
    ), status


def _sku_form():
    return {key: request.form.get(key, "") for key in ("partner_sku", "article_id", "description")}


@bp.post("/<uuid:partner_id>/skus")
@role_required(Role.ADMIN)
def add_sku(partner_id):
    return _save_sku(partner_or_404(partner_id), None)


@bp.post("/<uuid:partner_id>/skus/<uuid:mapping_id>")
@role_required(Role.ADMIN)
def edit_sku(partner_id, mapping_id):
    partner = partner_or_404(partner_id)
    mapping = management.find_sku_mapping(partner, mapping_id)
    if mapping is None:
        abort(404, _("This partner has no such SKU mapping."))
    return _save_sku(partner, mapping)


def _save_sku(partner, mapping):
    form = _sku_form()
    row = str(mapping.id) if mapping else "new"
    try:
        management.save_sku_mapping(partner, mapping, user=current_user, **form)
    except ConfigInvalid as exc:
        db.session.rollback()
        # 200 for htmx, which swaps only successful answers; the row shows the errors.
        return _sku_table(partner, 200 if request.htmx else 422, {row: exc.fields}, {row: form})
    commit()
    if not request.htmx:
        flash(_("SKU mapping saved."), "info")
    return _sku_table(partner)


@bp.post("/<uuid:partner_id>/skus/<uuid:mapping_id>/delete")
@role_required(Role.ADMIN)
def delete_sku(partner_id, mapping_id):
    partner = partner_or_404(partner_id)
    mapping = management.find_sku_mapping(partner, mapping_id)
    if mapping is not None:  # deleting twice (a double click) is not an error
        management.delete_sku_mapping(mapping, current_user)
        commit()
    return _sku_table(partner)


# --- the delivery log ----------------------------------------------------------


@bp.get("/<uuid:partner_id>/deliveries")
@role_required(Role.ADMIN)
def deliveries(partner_id):
    partner = partner_or_404(partner_id)
    integration = management.integration_of(partner)
    log = management.delivery_log(integration, request.args.get("before"))
    commit()
    return render_template(
        "partners/deliveries.html", partner=partner, integration=integration, log=log
    )


@bp.post("/<uuid:partner_id>/deliveries/<uuid:delivery_id>/retry")
@role_required(Role.ADMIN)
def retry(partner_id, delivery_id):
    partner = partner_or_404(partner_id)
    integration = management.integration_of(partner)
    delivery = management.find_delivery(delivery_id)
    if delivery is None or delivery.partner_integration_id != integration.id:
        abort(404, _("This partner has no such delivery."))
    error = None
    try:
        delivery = retry_delivery(delivery.id, current_user)  # commits and queues
    except ValueError as exc:
        db.session.rollback()
        error = str(exc)
    if request.htmx:
        log = management.describe_deliveries([management.find_delivery(delivery_id)], None)
        return render_template(
            "partners/_delivery.html",
            partner=partner,
            delivery=log.deliveries[0],
            log=log,
            row_error=error,
        )
    flash(error or _("Retry queued; the attempt appears in the log."), "error" if error else "info")
    return redirect(url_for("partners.deliveries", partner_id=partner.id), 303)


@bp.post("/<uuid:partner_id>/deliveries/test")
@role_required(Role.ADMIN)
def test_event(partner_id):
    partner = partner_or_404(partner_id)
    try:
        send_test_event(management.integration_of(partner), current_user)  # commits and queues
        flash(_("Test event queued; its attempt appears below."), "info")
    except ValueError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("partners.deliveries", partner_id=partner.id), 303)
