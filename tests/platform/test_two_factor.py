"""Two-factor sign-in: setup, the second step, recovery codes, and the admin gate (14.11)."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

import pyotp
import pytest
import sqlalchemy as sa
from flask import session

from app.platform.auth import two_factor
from app.platform.auth.signin import PENDING_KEY, SECOND_FACTOR_KEY, finish_sign_in
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import AuditLog, RecoveryCode, TotpCredential, User
from app.platform.models.enums import TokenKind
from tests.support.helpers import (
    PASSWORD,
    AuthActions,
    csrf_token_from,
    enroll_two_factor,
    second_factor_code,
)

SECRET_ON_PAGE = re.compile(r'data-testid="totp-secret">([A-Z2-7 ]+)<')
CODES_ON_PAGE = re.compile(
    r"<li><code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code></li>"
)


def post_form(client, page_path: str, action: str, **fields):
    token = csrf_token_from(client.get(page_path).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **fields})


def set_up_through_the_pages(client) -> tuple[str, list[str]]:
    """Turn two-factor sign-in on as a person would; the secret and recovery codes."""
    start = post_form(client, "/settings/security", "/settings/security/two-factor/start")
    assert start.status_code == 302
    page = client.get(start.headers["Location"])
    html = page.get_data(as_text=True)
    secret = SECRET_ON_PAGE.search(html).group(1).replace(" ", "")
    response = client.post(
        "/settings/security/two-factor",
        data={"csrf_token": csrf_token_from(html), "code": pyotp.TOTP(secret).now()},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return secret, CODES_ON_PAGE.findall(response.get_data(as_text=True))


def user_named(email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


# --- setup -----------------------------------------------------------------------


def test_a_user_turns_two_factor_on_from_the_security_page(client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test")
    auth.login("anouk@switchboard.test")
    assert b"Set up two-factor sign-in" in client.get("/settings/security").data

    start = post_form(client, "/settings/security", "/settings/security/two-factor/start")
    setup = client.get(start.headers["Location"])
    html = setup.get_data(as_text=True)
    assert setup.headers["Cache-Control"] == "no-store"
    assert '<svg width="' in html and 'class="segno"' in html  # the QR code, drawn inline
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "no inline script (CSP)"
    secret = SECRET_ON_PAGE.search(html).group(1).replace(" ", "")
    assert len(secret) == 32

    wrong = client.post(
        "/settings/security/two-factor",
        data={"csrf_token": csrf_token_from(html), "code": "000000"},
    )
    assert wrong.status_code == 422
    assert b"That code is not right" in wrong.data

    done = client.post(
        "/settings/security/two-factor",
        data={"csrf_token": csrf_token_from(html), "code": pyotp.TOTP(secret).now()},
    )
    assert done.status_code == 200
    codes = CODES_ON_PAGE.findall(done.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10

    page = client.get("/settings/security").get_data(as_text=True)
    assert "10 recovery codes left." in page
    assert not CODES_ON_PAGE.search(page), "recovery codes are shown once"


def test_the_secret_is_stored_encrypted_and_the_codes_hashed(client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test")
    auth.login("anouk@switchboard.test")
    secret, codes = set_up_through_the_pages(client)

    raw_secret = db.session.execute(sa.text("SELECT secret FROM totp_credentials")).scalar_one()
    assert secret not in raw_secret and raw_secret.startswith("gAAAA")  # Fernet
    stored = " ".join(db.session.execute(sa.text("SELECT code_hash FROM recovery_codes")).scalars())
    for code in codes:
        assert code not in stored and code.replace("-", "") not in stored


def test_the_otpauth_address_names_switchboard_and_the_user(app, make_user):
    user = make_user("agent", email="anouk@switchboard.test")
    credential = two_factor.start_setup(user)
    uri = two_factor.provisioning_uri(user, credential)
    assert uri.startswith("otpauth://totp/Switchboard:anouk%40switchboard.test?")
    assert "issuer=Switchboard" in uri


# --- signing in with the second step -----------------------------------------------


def test_sign_in_asks_for_the_code_before_the_session_starts(client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test", two_factor=True)

    response = auth.login("anouk@switchboard.test", second_factor=False)
    assert response.headers["Location"].endswith("/login/verify")
    assert client.get("/inbox").status_code == 302, "a password alone opens nothing"
    page = client.get("/login/verify")
    assert b"authenticator app" in page.data

    code = second_factor_code("anouk@switchboard.test")
    wrong = auth.verify(f"{(int(code) + 1) % 1_000_000:06d}")
    assert wrong.status_code == 200
    assert b"That code is not right" in wrong.data

    right = auth.verify(code)
    assert right.status_code == 302
    assert right.headers["Location"].endswith("/inbox")
    assert client.get("/inbox").status_code == 200


def test_a_code_is_accepted_once(app, make_user):
    make_user("agent", email="anouk@switchboard.test", two_factor=True)
    code = second_factor_code("anouk@switchboard.test")

    first = AuthActions(app.test_client())
    first.login("anouk@switchboard.test", second_factor=False)
    assert first.verify(code).status_code == 302

    # Someone who saw the code types it within its 30 seconds.
    second = AuthActions(app.test_client())
    second.login("anouk@switchboard.test", second_factor=False)
    replay = second.verify(code)
    assert replay.status_code == 200
    assert b"That code is not right" in replay.data


def test_a_recovery_code_signs_in_once(app, make_user):
    user = make_user("agent", email="anouk@switchboard.test")
    codes = enroll_two_factor(user)

    first = AuthActions(app.test_client())
    first.login("anouk@switchboard.test", second_factor=False)
    assert first.verify(codes[3].upper().replace("-", " ")).status_code == 302

    again = AuthActions(app.test_client())
    again.login("anouk@switchboard.test", second_factor=False)
    assert again.verify(codes[3]).status_code == 200
    remaining = db.session.scalar(
        sa.select(sa.func.count()).select_from(RecoveryCode).where(RecoveryCode.used_at.is_(None))
    )
    assert remaining == 9


def test_wrong_codes_count_towards_the_lockout(app, client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test", two_factor=True)
    auth.login("anouk@switchboard.test", second_factor=False)
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit - 1):
        assert auth.verify("000000").status_code == 200
    locked = auth.verify("000000")
    assert locked.status_code == 302
    assert locked.headers["Location"].endswith("/login")
    assert b"Too many wrong codes" in client.get("/login").data
    assert user_named("anouk@switchboard.test").is_locked()

    # Starting over with the right password and a right code does not get in.
    again = auth.login("anouk@switchboard.test")
    assert again.status_code == 200
    assert b"Invalid e-mail or password." in again.data
    assert client.get("/inbox").status_code == 302


def test_a_known_password_buys_no_fresh_guesses_at_the_code(app, client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test", two_factor=True)
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        auth.login("anouk@switchboard.test", second_factor=False)
        auth.verify("000000")
    assert user_named("anouk@switchboard.test").is_locked()


def test_the_pending_sign_in_expires(client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test", two_factor=True)
    auth.login("anouk@switchboard.test", second_factor=False)
    with client.session_transaction() as session:
        session[PENDING_KEY] = {**session[PENDING_KEY], "expires": int(time.time()) - 1}
    response = client.get("/login/verify")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")


def test_verify_without_a_password_first_goes_to_the_login(client):
    response = client.get("/login/verify")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")


def test_remembered_browser_keeps_the_second_factor(app, client, auth, make_user):
    make_user("admin", email="admin@switchboard.test")
    auth.login("admin@switchboard.test", remember=True)
    restarted = app.test_client()
    restarted.set_cookie("switchboard_remember", client.get_cookie("switchboard_remember").value)
    assert restarted.get("/admin/users").status_code == 200


# --- Microsoft sign-in through the seam ----------------------------------------------


@pytest.mark.parametrize("mfa", [True, False])
def test_microsoft_sign_in_skips_the_code_only_after_its_own_mfa(app, make_user, mfa):
    user = make_user("agent", email="anouk@switchboard.test", two_factor=True)
    with app.test_request_context("/auth/microsoft/callback"):
        response = finish_sign_in(
            user, remember=False, method="microsoft", next_url="/tasks", second_factor=mfa
        )
        if mfa:
            assert response.headers["Location"] == "/tasks"
            assert session[SECOND_FACTOR_KEY] is True
        else:
            assert response.headers["Location"].endswith("/login/verify")
            assert session[PENDING_KEY]["method"] == "microsoft"
            assert "_user_id" not in session


# --- admins and managers -------------------------------------------------------------


def test_admin_without_two_factor_is_sent_to_setup(client, auth, make_user):
    make_user("admin", email="admin@switchboard.test", two_factor=False)
    auth.login("admin@switchboard.test")

    for path in ("/admin/users", "/integrations/", "/partners/", "/analytics"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/settings/security?next="), path
    page = client.get("/settings/security?next=/admin/users")
    assert b"need two-factor sign-in" in page.data
    assert b"Your role needs two-factor sign-in" in page.data
    # Desk pages keep working.
    assert client.get("/inbox").status_code == 200
    assert client.get("/tasks").status_code == 200

    htmx = client.get("/admin/users", headers={"HX-Request": "true"})
    assert htmx.status_code == 403
    assert htmx.headers["HX-Redirect"].startswith("/settings/security")


def test_admin_json_routes_answer_two_factor_required(app, client, auth, make_user):
    admin = make_user("admin", email="admin@switchboard.test", two_factor=False)
    auth.login("admin@switchboard.test")
    response = client.get("/api/integrations")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "two_factor_required"

    # A personal API token is a credential of its own: not asked for a code.
    _, token = issue_token(TokenKind.PERSONAL, "script", user_id=admin.id)
    db.session.commit()
    script = app.test_client()  # a script holds the token, no browser session
    with_token = script.get("/api/integrations", headers={"Authorization": f"Bearer {token}"})
    assert with_token.status_code == 200


def test_manager_without_two_factor_is_sent_to_setup_for_analytics(client, auth, make_user):
    make_user("manager", email="manager@switchboard.test", two_factor=False)
    auth.login("manager@switchboard.test")
    assert client.get("/analytics").headers["Location"].startswith("/settings/security")
    assert client.get("/inbox").status_code == 200


def test_admin_sets_up_two_factor_and_the_pages_open(client, auth, make_user):
    make_user("admin", email="admin@switchboard.test", two_factor=False)
    auth.login("admin@switchboard.test")
    token = csrf_token_from(client.get("/settings/security").get_data(as_text=True))
    start = client.post(
        "/settings/security/two-factor/start?next=/admin/users", data={"csrf_token": token}
    )
    assert "next=/admin/users" in start.headers["Location"]
    html = client.get(start.headers["Location"]).get_data(as_text=True)
    secret = SECRET_ON_PAGE.search(html).group(1).replace(" ", "")
    done = client.post(
        start.headers["Location"],
        data={"csrf_token": csrf_token_from(html), "code": pyotp.TOTP(secret).now()},
    )
    assert 'href="/admin/users"' in done.get_data(as_text=True)  # "continue" goes back
    assert client.get("/admin/users").status_code == 200


def test_a_session_without_the_code_steps_up_on_the_security_page(client, auth, make_user):
    admin = make_user("admin", email="admin@switchboard.test", two_factor=False)
    auth.login("admin@switchboard.test")
    enroll_two_factor(admin)  # turned on elsewhere (another browser)
    assert client.get("/admin/users").status_code == 302

    page = client.get("/settings/security?next=/admin/users")
    assert b'data-testid="step-up-form"' in page.data
    response = client.post(
        "/settings/security/confirm?next=/admin/users",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "code": second_factor_code("admin@switchboard.test"),
        },
    )
    assert response.headers["Location"] == "/admin/users"
    assert client.get("/admin/users").status_code == 200


def test_admin_with_two_factor_opens_admin_pages(client, auth, make_user):
    make_user("admin", email="admin@switchboard.test")  # enrolled by the factory
    response = auth.login("admin@switchboard.test")
    assert response.status_code == 302
    assert client.get("/admin/users").status_code == 200
    assert client.get("/api/integrations").status_code == 200


# --- changing and resetting ----------------------------------------------------------


def test_new_recovery_codes_and_turning_off_need_a_current_code(client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test", two_factor=True)
    auth.login("anouk@switchboard.test")

    refused = post_form(
        client, "/settings/security", "/settings/security/recovery-codes", code="000000"
    )
    assert refused.status_code == 302
    assert b"That code is not right" in client.get("/settings/security").data

    fresh = post_form(
        client,
        "/settings/security",
        "/settings/security/recovery-codes",
        code=second_factor_code("anouk@switchboard.test"),
    )
    assert len(CODES_ON_PAGE.findall(fresh.get_data(as_text=True))) == 10

    off = post_form(
        client,
        "/settings/security",
        "/settings/security/two-factor/disable",
        code=second_factor_code("anouk@switchboard.test"),
    )
    assert off.status_code == 302
    assert b"Two-factor sign-in is off." in client.get("/settings/security").data
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TotpCredential)) == 0
    actions = set(db.session.scalars(sa.select(AuditLog.action)))
    assert {"recovery_codes_regenerated", "two_factor_disabled"} <= actions


def test_admin_resets_a_lost_phone(app, client, auth, make_user):
    make_user("admin", email="admin@switchboard.test")
    lost = make_user("agent", email="anouk@switchboard.test", two_factor=True)
    their_browser = app.test_client()
    AuthActions(their_browser).login("anouk@switchboard.test")
    auth.login("admin@switchboard.test")

    page = client.get("/admin/users").get_data(as_text=True)
    assert 'data-testid="two-factor-anouk@switchboard.test">on' in page
    response = client.post(
        f"/admin/users/{lost.id}/two-factor/reset", data={"csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 302
    assert b"is reset and their sessions are ended" in client.get("/admin/users").data

    assert their_browser.get("/inbox").status_code == 302, "their sessions ended"
    again = AuthActions(app.test_client()).login("anouk@switchboard.test", second_factor=False)
    assert again.headers["Location"].endswith("/inbox"), "password alone, until set up again"

    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "two_factor_reset"))
    assert entry.record_id == lost.id
    assert entry.changed_by_user_id == user_named("admin@switchboard.test").id
    assert entry.changes["two_factor"] == "removed"


def test_only_admins_reset_two_factor(app, client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test")
    target = make_user("agent", email="bram@switchboard.test", two_factor=True)
    auth.login("anouk@switchboard.test")
    token = auth.csrf_token()
    response = client.post(f"/admin/users/{target.id}/two-factor/reset", data={"csrf_token": token})
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TotpCredential)) == 1


def test_clock_drift_of_one_step_is_accepted(app, make_user):
    user = make_user("agent", email="anouk@switchboard.test", two_factor=True)
    credential = two_factor.credential_for(user)
    totp = pyotp.TOTP(credential.secret)
    now = datetime.now(timezone.utc)
    step = totp.timecode(now)
    assert two_factor.verify_second_factor(user, totp.generate_otp(step + 1), now)
    assert not two_factor.verify_second_factor(user, totp.generate_otp(step + 2), now)
    assert not two_factor.verify_second_factor(user, PASSWORD, now)
