"""The sign-in throttle behind a load balancer, and answers that reveal no account (14.6)."""

from __future__ import annotations

import re

import pytest

from app import create_app
from app.auth import services
from app.config import Config
from tests.conftest import base_config, opened
from tests.helpers import PASSWORD, AuthActions


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
