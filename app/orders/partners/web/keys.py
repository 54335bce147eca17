"""Partner admin page, credentials: API keys, signing secret, IP allow-list.

A key or secret is shown in the answer to the POST that made it and never again
(the page is sent ``no-store``). Each route parses the form, calls one service
of :mod:`app.orders.partners.keys` or :mod:`app.orders.partners.allowlist`, commits.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, request
from flask_babel import gettext as _
from flask_login import current_user

from app.orders.partners import management
from app.orders.partners.allowlist import save_ip_allowlist
from app.orders.partners.config import ConfigInvalid
from app.orders.partners.key_forms import OverlapRefused, parse_choice, parse_expiry, parse_overlap
from app.orders.partners.keys import (
    end_secret_overlap,
    find_partner_key,
    issue_partner_key,
    revoke_partner_key,
    rotate_partner_key,
    rotate_webhook_secret,
)
from app.orders.partners.pages import invalid, partner_or_404, saved, show_page
from app.platform.auth.decorators import role_required
from app.platform.models import ApiToken
from app.platform.models.enums import KeyMode, KeyScope, Role
from app.platform.transactions import commit

bp = Blueprint("partner_keys", __name__, url_prefix="/partners")


@bp.post("/<uuid:partner_id>/keys")
@role_required(Role.ADMIN)
def issue_key(partner_id):
    partner = partner_or_404(partner_id)
    form = request.form
    submitted = {"key_form": form.to_dict()}
    try:
        mode = parse_choice(KeyMode, form.get("mode"), KeyMode.LIVE)
        scope = parse_choice(KeyScope, form.get("scope"), KeyScope.WRITE)
        expires_at = parse_expiry(form.get("expires_at"))
        _token, plain = issue_partner_key(
            partner,
            form.get("name", ""),
            current_user,
            mode=mode,
            scope=scope,
            expires_at=expires_at,
        )
    except ConfigInvalid as exc:
        return invalid(partner, "keys", exc, submitted)
    except ValueError as exc:
        return invalid(
            partner, "keys", ConfigInvalid({"name": str(exc).partition(": ")[2]}), submitted
        )
    commit()
    return show_page(partner, status=201, new_key=plain)


def _key(partner, token_id: uuid.UUID) -> ApiToken:
    token = find_partner_key(partner, token_id)
    if token is None:
        abort(404, _("This partner has no such key."))
    return token


@bp.post("/<uuid:partner_id>/keys/<uuid:token_id>/rotate")
@role_required(Role.ADMIN)
def rotate_key(partner_id, token_id):
    partner = partner_or_404(partner_id)
    try:
        _token, plain = rotate_partner_key(_key(partner, token_id), current_user)
    except ValueError as exc:
        return invalid(partner, "keys", ConfigInvalid({"key": str(exc)}))
    commit()
    return show_page(partner, status=201, new_key=plain, rotated=True)


@bp.post("/<uuid:partner_id>/keys/<uuid:token_id>/revoke")
@role_required(Role.ADMIN)
def revoke_key(partner_id, token_id):
    partner = partner_or_404(partner_id)
    token = _key(partner, token_id)
    try:
        revoke_partner_key(token, current_user)
    except ValueError as exc:
        return invalid(partner, "keys", ConfigInvalid({"key": str(exc)}))
    return saved(
        partner, _("Key %(prefix)s… is revoked; requests with it now get 401.", prefix=token.prefix)
    )


@bp.post("/<uuid:partner_id>/webhook/secret")
@role_required(Role.ADMIN)
def rotate_secret(partner_id):
    return _rotate(partner_or_404(partner_id), sandbox=False)


@bp.post("/<uuid:partner_id>/webhook/sandbox/secret")
@role_required(Role.ADMIN)
def rotate_sandbox_secret(partner_id):
    """The sandbox's own secret, which signs test orders' callbacks."""
    return _rotate(partner_or_404(partner_id), sandbox=True)


def _rotate(partner, *, sandbox: bool):
    section = "sandbox_webhook" if sandbox else "webhook"
    try:
        typed = parse_overlap(request.form.get("overlap_hours"))
    except OverlapRefused as exc:
        return _bad_overlap(partner, section, exc.text, exc.fields["overlap_hours"])
    try:
        secret = rotate_webhook_secret(
            management.integration_of(partner),
            current_user,
            overlap=typed.overlap,
            sandbox=sandbox,
        )
    except ValueError as exc:
        return _bad_overlap(partner, section, typed.text, str(exc))
    commit()
    shown = {"new_sandbox_secret": secret} if sandbox else {"new_secret": secret}
    return show_page(partner, status=201, overlap_given=typed.hours, **shown)


def _bad_overlap(partner, section: str, raw: str, message: str):
    value = "sandbox_overlap_value" if section == "sandbox_webhook" else "overlap_value"
    return invalid(partner, section, ConfigInvalid({"overlap_hours": message}), {value: raw})


@bp.post("/<uuid:partner_id>/webhook/secret/end-overlap")
@role_required(Role.ADMIN)
def end_overlap(partner_id):
    partner = partner_or_404(partner_id)
    try:
        end_secret_overlap(management.integration_of(partner), current_user)
    except ValueError as exc:
        return invalid(partner, "webhook", ConfigInvalid({"overlap_hours": str(exc)}))
    return saved(partner, _("The previous signing secret no longer works."))


@bp.post("/<uuid:partner_id>/ip-allowlist")
@role_required(Role.ADMIN)
def save_allowlist(partner_id):
    partner = partner_or_404(partner_id)
    text = request.form.get("ip_allowlist", "")
    try:
        networks = save_ip_allowlist(management.integration_of(partner), text, current_user)
    except ConfigInvalid as exc:
        return invalid(partner, "allowlist", exc, {"allowlist": text})
    if networks:
        return saved(
            partner, _("IP allow-list saved: the partner's keys work only from these networks.")
        )
    return saved(partner, _("IP allow-list cleared: the partner's keys work from anywhere."))
