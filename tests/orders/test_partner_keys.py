"""Partner API keys: shown once, stored hashed, rotated with a grace period, revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.orders.partners.keys import (
    ROTATION_GRACE,
    issue_partner_key,
    revoke_partner_key,
    rotate_partner_key,
)
from app.orders.partners.services import create_partner
from app.platform.auth.tokens import find_token, hash_token
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import ApiToken, AuditLog
from app.platform.models.enums import KeyMode, KeyScope, TokenKind
from tests.support.helpers import csrf_token_from


def _partner():
    partner = create_partner("Groendus")
    db.session.commit()
    return partner


def _actions(record_id) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditLog.action)
            .where(AuditLog.record_id == record_id)
            .order_by(AuditLog.created_at)
        )
    )


def test_a_key_is_stored_only_as_a_hash(app, make_user):
    admin = make_user("admin")
    partner = _partner()
    token, plain = issue_partner_key(partner.organization, "Production", admin)
    db.session.commit()
    assert plain.startswith("sbk_live_") and token.prefix == plain[:13]
    assert token.mode == "live" and token.scope == "write"
    assert token.token_hash == hash_token(plain)
    stored = db.session.execute(sa.select(ApiToken.token_hash, ApiToken.prefix)).all()
    assert all(plain not in (h, p) for h, p in stored)
    assert find_token(plain, TokenKind.PARTNER).id == token.id
    assert _actions(token.id) == ["PARTNER_KEY_ISSUED"]


def test_rotation_keeps_both_keys_valid_until_the_old_is_revoked(app, make_user):
    admin = make_user("admin")
    partner = _partner()
    old = find_token(partner.api_key, TokenKind.PARTNER)

    new, new_plain = rotate_partner_key(old, admin)
    db.session.commit()
    assert new_plain != partner.api_key and new.name == old.name
    assert find_token(partner.api_key, TokenKind.PARTNER).id == old.id
    assert find_token(new_plain, TokenKind.PARTNER).id == new.id
    # The old key ends by itself after the grace period.
    assert old.expires_at - utcnow() == pytest.approx(ROTATION_GRACE, abs=timedelta(seconds=30))
    assert new.expires_at is None
    assert not old.is_usable(utcnow() + ROTATION_GRACE + timedelta(seconds=1))

    revoke_partner_key(old, admin)
    db.session.commit()
    assert find_token(partner.api_key, TokenKind.PARTNER) is None
    assert find_token(new_plain, TokenKind.PARTNER).id == new.id
    assert _actions(new.id) == ["PARTNER_KEY_ROTATED"]
    assert _actions(old.id) == ["PARTNER_KEY_REVOKED"]
    rotated = db.session.scalar(sa.select(AuditLog).where(AuditLog.record_id == new.id))
    assert rotated.changes["replaces"] == str(old.id)
    assert rotated.changed_by_user_id == admin.id


def test_revoked_keys_cannot_be_rotated_or_revoked_again(app):
    partner = _partner()
    token = find_token(partner.api_key, TokenKind.PARTNER)
    revoke_partner_key(token)
    with pytest.raises(ValueError, match="already revoked"):
        revoke_partner_key(token)
    with pytest.raises(ValueError, match="revoked or expired"):
        rotate_partner_key(token)


def test_a_blank_key_name_is_refused(app):
    partner = _partner()
    with pytest.raises(ValueError, match="name: required"):
        issue_partner_key(partner.organization, "   ")


def _admin_page(client, auth, make_user, partner):
    admin = make_user("admin")
    auth.login(admin.email)
    page = client.get(f"/partners/{partner.organization.id}")
    return admin, csrf_token_from(page.get_data(as_text=True))


def test_the_page_shows_a_new_key_once_then_only_its_prefix(client, auth, make_user):
    partner = _partner()
    _, csrf = _admin_page(client, auth, make_user, partner)
    old = find_token(partner.api_key, TokenKind.PARTNER)

    rotated = client.post(
        f"/partners/{partner.organization.id}/keys/{old.id}/rotate", data={"csrf_token": csrf}
    )
    assert rotated.status_code == 201
    assert rotated.headers["Cache-Control"] == "no-store"
    html = rotated.get_data(as_text=True)
    new = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.id != old.id).order_by(ApiToken.created_at.desc())
    )
    plain = html.split('data-testid="new-api-key">', 1)[1].split("<", 1)[0]
    assert find_token(plain, TokenKind.PARTNER).id == new.id
    assert "valid until" in html  # the old key's grace period is on the page

    later = client.get(f"/partners/{partner.organization.id}").get_data(as_text=True)
    assert plain not in later and partner.api_key not in later
    assert new.prefix in later and old.prefix in later

    issued = client.post(
        f"/partners/{partner.organization.id}/keys", data={"csrf_token": csrf, "name": "Staging"}
    )
    assert issued.status_code == 201 and 'data-testid="new-api-key"' in issued.get_data(
        as_text=True
    )

    revoked = client.post(
        f"/partners/{partner.organization.id}/keys/{old.id}/revoke", data={"csrf_token": csrf}
    )
    assert revoked.status_code == 303
    db.session.expire_all()  # the request committed in its own session
    assert find_token(partner.api_key, TokenKind.PARTNER) is None
    assert find_token(plain, TokenKind.PARTNER) is not None


def test_key_forms_need_csrf_and_the_right_partner(client, auth, make_user):
    partner = _partner()
    other = create_partner("Essent")
    db.session.commit()
    _, csrf = _admin_page(client, auth, make_user, partner)
    token = find_token(partner.api_key, TokenKind.PARTNER)
    no_csrf = client.post(f"/partners/{partner.organization.id}/keys/{token.id}/revoke")
    assert no_csrf.status_code == 400
    wrong_partner = client.post(
        f"/partners/{other.organization.id}/keys/{token.id}/revoke", data={"csrf_token": csrf}
    )
    assert wrong_partner.status_code == 404
    assert find_token(partner.api_key, TokenKind.PARTNER) is not None


def test_rotating_the_webhook_secret_shows_it_once(client, auth, make_user):
    partner = _partner()
    _, csrf = _admin_page(client, auth, make_user, partner)
    response = client.post(
        f"/partners/{partner.organization.id}/webhook/secret", data={"csrf_token": csrf}
    )
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    secret = html.split('data-testid="new-webhook-secret">', 1)[1].split("<", 1)[0]
    assert secret.startswith("whsec_") and secret != partner.webhook_secret
    db.session.expire_all()
    assert partner.integration.webhook_secret == secret
    assert secret not in client.get(f"/partners/{partner.organization.id}").get_data(as_text=True)
    assert _actions(partner.integration.id) == ["WEBHOOK_SECRET_ROTATED"]


def test_rotation_keeps_the_keys_mode_scope_and_expiry(app):
    partner = _partner()
    expires = utcnow() + timedelta(days=90)
    token, _ = issue_partner_key(
        partner.organization, "Sandbox", mode=KeyMode.TEST, scope=KeyScope.READ, expires_at=expires
    )
    new, plain = rotate_partner_key(token)
    db.session.commit()
    assert plain.startswith("sbk_test_")
    assert (new.mode, new.scope, new.expires_at) == (KeyMode.TEST, KeyScope.READ, expires)
    assert token.expires_at <= utcnow() + ROTATION_GRACE
