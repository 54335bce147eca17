"""Signing in and out, lockout, CSRF and role gates."""

from __future__ import annotations

import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import User
from tests.support.helpers import PASSWORD, csrf_token_from


def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b'name="csrf_token"' in response.data


def test_agent_signs_in_and_lands_in_inbox(client, auth, make_user):
    user = make_user("agent", email="anouk@switchboard.test")
    response = auth.login("Anouk@Switchboard.test")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/inbox")
    page = client.get("/inbox")
    assert page.status_code == 200
    assert user.name.encode() in page.data
    db.session.refresh(user)
    assert user.last_login_at is not None


def test_technician_lands_on_phone_view(client, auth, make_user):
    make_user("technician", email="tech@switchboard.test")
    response = auth.login("tech@switchboard.test")
    assert response.headers["Location"].endswith("/m/")


def test_wrong_password_shows_error_and_counts(client, auth, make_user):
    user = make_user("agent", email="a@switchboard.test")
    response = auth.login("a@switchboard.test", "wrong-password")
    assert response.status_code == 200
    assert b"Invalid e-mail or password." in response.data
    db.session.refresh(user)
    assert user.failed_login_count == 1
    # Still signed out.
    assert client.get("/inbox").status_code == 302


def test_unknown_email_gives_same_error(auth):
    response = auth.login("nobody@switchboard.test", "whatever-password")
    assert b"Invalid e-mail or password." in response.data


def test_account_locks_after_repeated_failures(client, auth, make_user, app):
    user = make_user("agent", email="b@switchboard.test")
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        auth.login("b@switchboard.test", "wrong-password")
    db.session.refresh(user)
    assert user.locked_until is not None
    # Even the right password is refused while locked, with the answer a wrong
    # password gets (test_sign_in_throttle.py: the same as for no account at all).
    response = auth.login("b@switchboard.test", PASSWORD)
    assert response.status_code == 200
    assert b"Invalid e-mail or password." in response.data
    assert client.get("/inbox").status_code == 302


def test_address_is_throttled_across_accounts(auth, app):
    attempts = app.config["LOGIN_MAX_FAILURES"] * 4
    for n in range(attempts):
        auth.login(f"guess{n}@switchboard.test", "wrong-password")
    response = auth.login("guess-final@switchboard.test", "wrong-password")
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.data


def test_post_without_csrf_token_is_refused(client, make_user):
    make_user("agent", email="c@switchboard.test")
    response = client.post("/login", data={"email": "c@switchboard.test", "password": PASSWORD})
    assert response.status_code == 400
    assert b"CSRF" in response.data


def test_htmx_header_token_is_accepted(client, auth, make_user):
    make_user("agent", email="d@switchboard.test")
    auth.login("d@switchboard.test")
    token = auth.csrf_token()
    assert client.post("/notifications/read").status_code == 400
    response = client.post(
        "/notifications/read", headers={"X-CSRFToken": token, "HX-Request": "true"}
    )
    assert response.status_code == 200


def test_logout_requires_post_and_signs_out(client, auth, make_user):
    make_user("agent", email="e@switchboard.test")
    auth.login("e@switchboard.test")
    assert client.get("/logout").status_code == 405
    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/inbox").status_code == 302


def test_technician_gets_403_page_on_admin_pages(client, auth, make_user):
    make_user("technician", email="t@switchboard.test")
    auth.login("t@switchboard.test")
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert b"Not allowed" in response.data
    assert client.get("/inbox").status_code == 403


def test_admin_sees_user_list(client, auth, make_user):
    make_user("admin", email="admin@switchboard.test")
    make_user("technician", email="tech2@switchboard.test")
    auth.login("admin@switchboard.test")
    response = client.get("/admin/users")
    assert response.status_code == 200
    assert b"tech2@switchboard.test" in response.data


def test_next_parameter_cannot_redirect_offsite(client, make_user):
    make_user("agent", email="f@switchboard.test")
    page = client.get("/login?next=https://evil.example/")
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post(
        "/login?next=https://evil.example/",
        data={"email": "f@switchboard.test", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"].endswith("/inbox")


def test_anonymous_page_request_redirects_to_login(client):
    response = client.get("/inbox")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_deactivated_user_cannot_sign_in(auth, make_user):
    user = make_user("agent", email="g@switchboard.test")
    db.session.execute(sa.update(User).where(User.id == user.id).values(is_active_account=False))
    db.session.commit()
    response = auth.login("g@switchboard.test")
    assert response.status_code == 200
    assert b"Invalid e-mail or password." in response.data
