"""Sessions end on the server: sign-out, a new password, remembered browsers.

Each test plays the attacker from outside: it copies a browser's cookies into a
second client before the event, and replays them after.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import sqlalchemy as sa
from flask_login.utils import encode_cookie

from app.platform.auth.signin import REMEMBER_COOKIE
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import AuditLog, RememberToken, User
from tests.support.helpers import PASSWORD, AuthActions, csrf_token_from

SESSION_COOKIE = "session"


def cookie(client, name: str) -> str | None:
    found = client.get_cookie(name)
    return found.value if found else None


def copy_of(app, client, *names: str):
    """A second browser holding copies of ``client``'s cookies."""
    thief = app.test_client()
    for name in names or (SESSION_COOKIE, REMEMBER_COOKIE):
        value = cookie(client, name)
        if value is not None:
            thief.set_cookie(name, value)
    return thief


def set_cookie_headers(response, name: str) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]


def signs_in(client) -> bool:
    return client.get("/inbox").status_code == 200


def test_session_cookie_copied_before_logout_is_refused_after(app, client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test")
    auth.login("anouk@switchboard.test")
    thief = copy_of(app, client, SESSION_COOKIE)
    assert signs_in(thief)

    auth.logout()

    response = thief.get("/inbox")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
    assert not signs_in(client)


def test_logout_ends_the_users_sessions_on_every_device(app, make_user):
    make_user("agent", email="anouk@switchboard.test")
    laptop, phone = app.test_client(), app.test_client()
    AuthActions(laptop).login("anouk@switchboard.test")
    AuthActions(phone).login("anouk@switchboard.test")
    assert signs_in(laptop) and signs_in(phone)

    AuthActions(phone).logout()

    assert not signs_in(laptop)


def test_remember_cookie_brings_the_session_back_and_rotates(app, client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test")
    response = auth.login("anouk@switchboard.test", remember=True)
    (header,) = set_cookie_headers(response, REMEMBER_COOKIE)
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert "Max-Age=2592000" in header  # REMEMBER_ME_DAYS, 30 by default
    first = cookie(client, REMEMBER_COOKIE)

    # The browser restarts: only the remember cookie is left.
    restarted = copy_of(app, client, REMEMBER_COOKIE)
    assert signs_in(restarted)
    second = cookie(restarted, REMEMBER_COOKIE)
    assert second and second != first
    # The next requests ride on the new session, not on the token.
    assert signs_in(restarted)
    assert cookie(restarted, REMEMBER_COOKIE) == second

    # The first token was spent by the restart: a copy of it opens nothing.
    stale = copy_of(app, client, REMEMBER_COOKIE)
    assert not signs_in(stale)


def test_remember_cookie_copied_before_logout_is_refused_after(app, client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test")
    auth.login("anouk@switchboard.test", remember=True)
    thief = copy_of(app, client)

    response = auth.logout()
    (cleared,) = set_cookie_headers(response, REMEMBER_COOKIE)
    assert "Max-Age=0" in cleared

    assert not signs_in(thief)
    only_the_token = copy_of(app, thief, REMEMBER_COOKIE)
    assert not signs_in(only_the_token)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RememberToken)) == 0


def test_remember_token_differs_on_each_login_and_is_stored_hashed(app, make_user):
    make_user("agent", email="anouk@switchboard.test")
    tokens = []
    for _ in range(3):
        browser = app.test_client()
        AuthActions(browser).login("anouk@switchboard.test", remember=True)
        tokens.append(cookie(browser, REMEMBER_COOKIE))
    assert len(set(tokens)) == 3
    stored = set(db.session.scalars(sa.select(RememberToken.token_hash)))
    assert stored == {hashlib.sha256(t.encode()).hexdigest() for t in tokens}
    assert not any(token in stored for token in tokens)
    user = db.session.scalar(sa.select(User).where(User.email == "anouk@switchboard.test"))
    assert str(user.id) not in "".join(tokens)


def test_remember_lifetime_is_configurable_and_expired_tokens_open_nothing(
    app, client, auth, make_user
):
    app.config["REMEMBER_ME_DAYS"] = 7  # as REMEMBER_ME_DAYS=7 in the environment
    make_user("agent", email="anouk@switchboard.test")
    response = auth.login("anouk@switchboard.test", remember=True)
    (header,) = set_cookie_headers(response, REMEMBER_COOKIE)
    assert f"Max-Age={7 * 86400}" in header
    record = db.session.scalar(sa.select(RememberToken))
    assert timedelta(days=6, hours=23) < record.expires_at - utcnow() <= timedelta(days=7)

    record.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert not signs_in(copy_of(app, client, REMEMBER_COOKIE))


def test_flask_login_remember_cookie_of_earlier_releases_opens_nothing(app, client, make_user):
    """The old cookie held the user id, signed: a year-long key nobody could revoke."""
    user = make_user("agent", email="anouk@switchboard.test")
    client.set_cookie("remember_token", encode_cookie(str(user.id)))
    response = client.get("/inbox")
    assert response.status_code == 302
    assert set_cookie_headers(response, "remember_token"), "the old cookie is deleted"


def test_sign_in_renews_the_session_and_its_csrf_secret(client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test")
    before = csrf_token_from(client.get("/login").get_data(as_text=True))
    planted_session = cookie(client, SESSION_COOKIE)

    auth.login("anouk@switchboard.test")

    assert cookie(client, SESSION_COOKIE) != planted_session
    # A CSRF token learned before the sign-in (or planted with the session) is void.
    stale = client.post("/notifications/read", headers={"X-CSRFToken": before})
    assert stale.status_code == 400
    fresh = client.post("/notifications/read", headers={"X-CSRFToken": auth.csrf_token()})
    assert fresh.status_code in (200, 204, 302)


def _change_password(client, current: str, new: str, repeat: str | None = None):
    token = csrf_token_from(client.get("/settings/password").get_data(as_text=True))
    return client.post(
        "/settings/password",
        data={
            "csrf_token": token,
            "current_password": current,
            "new_password": new,
            "repeat_password": new if repeat is None else repeat,
        },
    )


def test_password_change_ends_other_sessions_and_keeps_this_one(app, client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test")
    auth.login("anouk@switchboard.test", remember=True)
    other_device = app.test_client()
    AuthActions(other_device).login("anouk@switchboard.test", remember=True)
    copied = copy_of(app, client)

    response = _change_password(client, PASSWORD, "a-new-long-password")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/settings/security")

    assert signs_in(client), "this browser stays signed in, with a fresh session"
    assert cookie(client, REMEMBER_COOKIE) not in (None, cookie(copied, REMEMBER_COOKIE))
    assert not signs_in(other_device)
    assert not signs_in(copied)
    assert not signs_in(copy_of(app, copied, REMEMBER_COOKIE))

    assert AuthActions(app.test_client()).login("anouk@switchboard.test").status_code == 200
    assert (
        AuthActions(app.test_client())
        .login("anouk@switchboard.test", "a-new-long-password")
        .status_code
        == 302
    )
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "password_changed"))
    assert entry.changes == {"password": "changed"}


def test_password_change_refuses_bad_input_naming_the_field(client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test")
    auth.login("anouk@switchboard.test")

    wrong = _change_password(client, "not-my-password", "a-new-long-password")
    assert wrong.status_code == 422
    assert b"That is not your password." in wrong.data

    short = _change_password(client, PASSWORD, "short")
    assert short.status_code == 400
    assert b"Use at least 8 characters." in short.data

    differ = _change_password(client, PASSWORD, "a-new-long-password", "another-password")
    assert differ.status_code == 400
    assert b"The two new passwords differ." in differ.data

    same = _change_password(client, PASSWORD, PASSWORD)
    assert same.status_code == 422
    assert b"different from the current one" in same.data
    assert signs_in(client)


def test_wrong_current_passwords_count_towards_the_lockout(app, client, auth, make_user):
    user = make_user("agent", email="anouk@switchboard.test")
    auth.login("anouk@switchboard.test")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _change_password(client, "guess-guess", "a-new-long-password")
    db.session.refresh(user)
    assert user.is_locked()
    response = _change_password(client, PASSWORD, "a-new-long-password")
    assert response.status_code == 422
    assert b"Too many wrong passwords" in response.data


def test_sign_out_everywhere_button(app, client, auth, make_user):
    make_user("agent", email="anouk@switchboard.test")
    auth.login("anouk@switchboard.test", remember=True)
    other_device = app.test_client()
    AuthActions(other_device).login("anouk@switchboard.test", remember=True)

    page = client.get("/settings/security")
    assert b"Sign out everywhere" in page.data
    assert b"Browsers that keep you signed in" in page.data
    response = client.post(
        "/settings/security/sign-out-everywhere",
        data={"csrf_token": csrf_token_from(page.get_data(as_text=True))},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    assert not signs_in(client)
    assert not signs_in(other_device)


def test_deactivating_a_user_ends_their_session(client, auth, make_user):
    user = make_user("agent", email="anouk@switchboard.test")
    auth.login("anouk@switchboard.test")
    db.session.execute(sa.update(User).where(User.id == user.id).values(is_active_account=False))
    db.session.commit()
    assert not signs_in(client)
