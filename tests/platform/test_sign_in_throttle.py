"""The sign-in throttle behind a load balancer, and answers that reveal no account (14.6);
its 429 says when to try again."""

from __future__ import annotations

import re
import time

import pytest

from app import create_app
from app.platform.auth import services
from app.platform.config import Config
from tests.conftest import base_config, opened
from tests.support.helpers import PASSWORD, AuthActions, csrf_token_from, enroll_two_factor
from tests.support.partner_support import make_partner


def client_from(app, forwarded_for: str | None = None):
    """A browser whose requests arrive through the load balancer (or straight)."""
    client = app.test_client()
    if forwarded_for is not None:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client


def exhaust_address_budget(app, client) -> None:
    auth = AuthActions(client)
    for n in range(app.config["LOGIN_MAX_FAILURES"] * 4):
        assert auth.login(f"guess{n}@switchboard.test", "wrong-password").status_code == 200


def throttled(client) -> bool:
    response = AuthActions(client).login("someone@switchboard.test", "wrong-password")
    return response.status_code == 429


@pytest.fixture
def behind_one_proxy(make_app):
    with opened(make_app(TRUSTED_PROXY_HOPS=1)) as app:
        yield app


def test_behind_the_load_balancer_each_client_has_its_own_budget(behind_one_proxy):
    app = behind_one_proxy
    office = client_from(app, "203.0.113.5")
    home = client_from(app, "198.51.100.7")

    exhaust_address_budget(app, office)

    assert throttled(office)
    assert not throttled(home), "another client behind the same balancer signs in"


def test_behind_the_load_balancer_a_forged_first_hop_changes_nothing(behind_one_proxy):
    """The balancer appends the real address; what the client wrote before it is ignored."""
    app = behind_one_proxy
    exhaust_address_budget(app, client_from(app, "10.9.9.9, 203.0.113.5"))
    assert throttled(client_from(app, "1.2.3.4, 203.0.113.5"))
    assert throttled(client_from(app, "203.0.113.5"))


def test_without_trusted_proxies_x_forwarded_for_is_ignored(app):
    assert app.config["TRUSTED_PROXY_HOPS"] == 0
    exhaust_address_budget(app, client_from(app, "203.0.113.5"))
    # A new X-Forwarded-For per attempt does not buy a new budget.
    assert throttled(client_from(app, "198.51.100.7"))
    assert throttled(client_from(app))


def test_a_negative_hop_count_is_refused(migrated_database):
    with pytest.raises(RuntimeError, match="TRUSTED_PROXY_HOPS"):
        create_app(base_config(TRUSTED_PROXY_HOPS=-1), start_embedded_worker=False)


def _answer(response, email: str) -> tuple[int, str]:
    """Status and page, without what differs per browser (CSRF token) or was typed."""
    html = response.get_data(as_text=True).replace(email, "EMAIL")
    html = re.sub(r'(csrf-token" content|name="csrf_token" type="hidden" value)="[^"]+"', "", html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
    return response.status_code, html


def test_a_locked_account_answers_as_no_account_does(app, make_user):
    make_user("agent", email="anouk@switchboard.test")
    attacker = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        AuthActions(attacker).login("anouk@switchboard.test", "wrong-password")

    # Now the account is locked: the right password, a wrong one, and an
    # address nobody has all get one and the same answer.
    locked_right = AuthActions(app.test_client()).login("anouk@switchboard.test", PASSWORD)
    locked_wrong = AuthActions(app.test_client()).login("anouk@switchboard.test", "nope-nope")
    nobody = AuthActions(app.test_client()).login("nobody@switchboard.test", "nope-nope")

    expected = _answer(nobody, "nobody@switchboard.test")
    assert expected[0] == 200
    assert "Invalid e-mail or password." in expected[1]
    assert "locked for 15 minutes" in expected[1]  # the policy, said to everyone
    assert _answer(locked_right, "anouk@switchboard.test") == expected
    assert _answer(locked_wrong, "anouk@switchboard.test") == expected


def test_every_failure_costs_one_password_check(app, make_user, monkeypatch):
    """Timing: an unknown or locked address is checked against a dummy hash, as a
    wrong password is against the real one, so neither answers faster."""
    make_user("agent", email="anouk@switchboard.test")
    checks = []
    real = services.verify_password
    monkeypatch.setattr(services, "verify_password", lambda h, p: checks.append(h) or real(h, p))
    auth = AuthActions(app.test_client())
    for _ in range(app.config["LOGIN_MAX_FAILURES"] + 1):  # the last one meets a lock
        auth.login("anouk@switchboard.test", "wrong-password")
    auth.login("nobody@switchboard.test", "wrong-password")
    assert len(checks) == app.config["LOGIN_MAX_FAILURES"] + 2


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("TRUSTED_PROXY_HOPS", raising=False)
    monkeypatch.delenv("REMEMBER_ME_DAYS", raising=False)
    defaults = Config.from_env(str(tmp_path))
    assert (defaults["TRUSTED_PROXY_HOPS"], defaults["REMEMBER_ME_DAYS"]) == (0, 30)
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "2")
    monkeypatch.setenv("REMEMBER_ME_DAYS", "14")
    config = Config.from_env(str(tmp_path))
    assert (config["TRUSTED_PROXY_HOPS"], config["REMEMBER_ME_DAYS"]) == (2, 14)


# --- Retry-After ---------------------------------------------------


@pytest.fixture
def short_window(make_app):
    """A throttle window of three seconds, so a test can wait it out."""
    with opened(make_app(LOGIN_LOCKOUT_SECONDS=3)) as app:
        yield app


def retry_after(response) -> int:
    assert response.status_code == 429
    value = response.headers.get("Retry-After")
    assert value is not None and value.isdigit(), value  # delay-seconds (RFC 9110 10.2.3)
    return int(value)


def test_the_throttled_sign_in_says_when_to_try_again(app):
    client = app.test_client()
    exhaust_address_budget(app, client)
    first = retry_after(AuthActions(client).login("someone@switchboard.test", "wrong-password"))
    window = app.config["LOGIN_LOCKOUT_SECONDS"]
    assert window - 5 <= first <= window
    page = AuthActions(client).login("someone@switchboard.test", "wrong-password")
    minutes = -(-window // 60)
    assert f"Try again in {minutes} minutes." in page.get_data(as_text=True)


def test_retry_after_counts_down_and_the_try_after_it_is_let_in(short_window, make_user):
    app = short_window
    make_user("agent", email="anouk@switchboard.test")
    client = app.test_client()
    exhaust_address_budget(app, client)
    wait = retry_after(AuthActions(client).login("anouk@switchboard.test", PASSWORD))
    assert 1 <= wait <= 3
    time.sleep(1.1)
    assert retry_after(AuthActions(client).login("anouk@switchboard.test", PASSWORD)) < wait
    time.sleep(wait)
    assert AuthActions(client).login("anouk@switchboard.test", PASSWORD).status_code == 302


@pytest.mark.parametrize("role", ["manager", "partner"])
def test_the_throttled_second_step_says_when_to_try_again(app, make_user, role):
    """The code step of a staff sign-in and of a portal sign-in (partners' users sign in
    on the same pages), throttled between the password and the code."""
    fields = {}
    if role == "partner":
        fields["partner_organization_id"] = make_partner("Delta").organization.id
    user = make_user(role, email=f"{role}@switchboard.test", **fields)
    if role == "partner":
        enroll_two_factor(user)
    client = app.test_client()
    step = AuthActions(client).login(user.email, second_factor=False)
    assert step.headers["Location"].endswith("/login/verify")
    exhaust_address_budget(app, app.test_client())  # the same address, other accounts
    token = csrf_token_from(client.get("/login/verify").get_data(as_text=True))
    answer = client.post("/login/verify", data={"code": "000000", "csrf_token": token})
    assert 1 <= retry_after(answer) <= app.config["LOGIN_LOCKOUT_SECONDS"]
