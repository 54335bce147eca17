"""The partner admin page as every form on it renders it (shared by its route modules).

A form that fails re-renders the whole page with its section's errors and the
submitted values; one that succeeds commits and redirects (303) with a flash.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _

from app.orders.deliveries.partner_events import EVENTS as PARTNER_EVENTS
from app.orders.partners import management
from app.orders.partners.allowlist import allowlist_text
from app.orders.partners.config import ConfigInvalid, granted_statuses
from app.orders.partners.keys import DEFAULT_SECRET_OVERLAP, ROTATION_GRACE, partner_keys
from app.orders.partners.portal_users import portal_users
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models.enums import (
    AuthenticationType,
    KeyMode,
    KeyScope,
    OrderStatus,
    SyncFrequency,
)
from app.platform.transactions import commit
from app.platform.ui import no_store

SETTINGS_TEXT = (
    "integration_name",
    "api_base_url",
    "api_version",
    "authentication_type",
    "sync_frequency",
    "rate_limit_per_minute",
    "max_delivery_attempts",
    "alert_email",
    "order_email_address",
)
SETTINGS_FLAGS = ("is_active", "sync_enabled")


def partner_or_404(partner_id: uuid.UUID):
    partner = management.find_partner(partner_id)
    if partner is None:
        abort(404, _("There is no such partner."))
    return partner


def show_page(partner, *, status: int = 200, errors=None, section=None, submitted=None, **extra):
    """The partner page; ``section``'s form shows ``submitted`` values and ``errors``."""
    integration = management.integration_of(partner)
    mapping = integration.status_mapping or {}
    now = utcnow()
    context = dict(
        partner=partner,
        integration=integration,
        keys=partner_keys(partner),
        now=now,
        rotation_days=ROTATION_GRACE.days,
        key_modes=KeyMode.values(),
        key_scopes=KeyScope.values(),
        overlap_hours=int(DEFAULT_SECRET_OVERLAP.total_seconds() // 3600),
        previous_secret_valid=integration.previous_secret_is_valid(now),
        previous_sandbox_secret_valid=integration.previous_sandbox_secret_is_valid(now),
        allowlist=allowlist_text(integration),
        parents=management.possible_parents(partner),
        chain=partner.channel_chain(),
        children=sorted(partner.children, key=lambda org: org.name.lower()),
        mappings=management.sku_mappings(partner),
        articles=management.articles(),
        statuses=OrderStatus.values(),
        reportable_statuses=granted_statuses(integration),
        known_events=PARTNER_EVENTS,
        authentication_types=AuthenticationType.values(),
        sync_frequencies=SyncFrequency.values(),
        outbound=mapping.get("chargecars_to_partner", {}),
        inbound=sorted(mapping.get("partner_to_chargecars", {}).items()),
        rates=sorted((partner.commission_rates or {}).items(), key=lambda kv: int(kv[0])),
        settings={key: getattr(integration, key) for key in SETTINGS_TEXT + SETTINGS_FLAGS},
        webhook={"webhook_url": integration.webhook_url, "events": integration.webhook_events},
        sandbox_webhook={
            "webhook_url": integration.sandbox_webhook_url,
            "events": integration.sandbox_webhook_events,
            "to_live": integration.test_callbacks_to_live_url,
        },
        errors={},
        sku_errors={},
        sku_submitted={},
        portal_users=portal_users(partner),
    )
    if section:
        context["errors"] = {section: errors or {}}
        context.update(submitted or {})
    context.update(extra)
    return no_store(make_response(render_template("partners/show.html", **context), status))


def invalid(partner, section: str, exc: ConfigInvalid, submitted: dict | None = None):
    db.session.rollback()
    return show_page(
        partner, status=422, errors=exc.for_people, section=section, submitted=submitted
    )


def saved(partner, message: str):
    commit()
    flash(message, "info")
    return redirect(url_for("partners.show", partner_id=partner.id), 303)
