"""Every route, called as every role and signed out, answers as it declares.

The matrix is generated from ``app.url_map`` and each route's declaration
(app/platform/security/access.py): every rule and method is called by a signed-out
visitor, by each role with a second factor, by a manager and an admin without one and by a
partner's portal user, with placeholder ids. A caller the declaration leaves
out must be refused (401, 403, 404 or the sign-in page) and never answered; a
caller it lets in must not be refused for who they are; a route that needs a
second factor must send a caller without one to set it up; nothing may fail
with a 5xx. The size of the matrix and its result are printed.
"""

from __future__ import annotations

import secrets
import uuid
from collections import Counter

import pytest
from itsdangerous import URLSafeTimedSerializer

from app.platform.extensions import db
from app.platform.models import User
from app.platform.models.enums import Role
from app.platform.security.access import PARTNER_KEY, UNDECLARED_ON_PURPOSE, access_of
from tests.support.partner_support import make_partner

SKIPPED_METHODS = {"HEAD", "OPTIONS"}
PLACEHOLDERS = {"UUIDConverter": uuid.UUID(int=7), "IntegerConverter": 7}
SIGN_IN_PAGES = ("/login", "/portal/login")
TWO_FACTOR_SETUP = "/settings/security"


def _url(rule) -> str:
    values = {
        name: PLACEHOLDERS.get(type(converter).__name__, "x7")
        for name, converter in rule._converters.items()
    }
    return rule.build(values, append_unknown=False)[1]


class Caller:
    def __init__(self, name: str, role: Role | None, user: User | None, second_factor: bool):
        self.name, self.role, self.user, self.second_factor = name, role, user, second_factor

    def client(self, app):
        client = app.test_client()
        raw = secrets.token_hex(20)
        # A signed-out visitor holds a CSRF token too, so the gate under test is the
        # sign-in, not the forgery check in front of it.
        with client.session_transaction() as session:
            session["csrf_token"] = raw
            if self.user is not None:
                db.session.refresh(self.user, ["session_version"])  # a route may have ended it
                session["_user_id"] = f"{self.user.id}:{self.user.session_version}"
                session["_fresh"] = True
                session["second_factor"] = self.second_factor
        token = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)
        return client, {"X-CSRFToken": token}


@pytest.fixture
def callers(app, make_user):
    partner = make_partner("Matrix Partner")
    people = [Caller("signed out", None, None, False)]
    for role in (Role.AGENT, Role.TECHNICIAN, Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN):
        people.append(Caller(role.value, role, make_user(role.value, two_factor=True), True))
    for role in (Role.MANAGER, Role.ADMIN):
        user = make_user(role.value, two_factor=False)
        people.append(Caller(f"{role.value} without 2FA", role, user, False))
    portal_user = make_user(
        "partner", two_factor=True, partner_organization_id=partner.organization.id
    )
    people.append(Caller("partner (portal)", Role.PARTNER, portal_user, True))
    db.session.commit()
    return people


def _refused(status: int, location: str) -> bool:
    return status in (401, 403, 404) or (300 <= status < 400 and location.startswith(SIGN_IN_PAGES))


def _verdict(access, caller: Caller, response) -> str | None:
    """None when the answer agrees with the declaration, else what is wrong."""
    status = response.status_code
    location = response.headers.get("Location", "").split("?")[0]
    location = location.replace("http://localhost", "")
    if status >= 500:
        return f"{status} server error"
    if access.public:
        return None
    if access.roles == PARTNER_KEY or caller.role is None or caller.role not in access.roles:
        return None if _refused(status, location) else f"not refused ({status} {location})"
    if access.two_factor and not caller.second_factor:
        body = response.get_json(silent=True) or {}
        asked = body.get("error", {}).get("code") == "two_factor_required" or (
            location.startswith(TWO_FACTOR_SETUP)
        )
        return None if asked else f"second factor not asked ({status} {location})"
    if caller.role in access.own_only:
        return None  # the placeholder is nobody's own record: refused or not, both agree
    if status in (401, 403) or (300 <= status < 400 and location.startswith(SIGN_IN_PAGES)):
        if _signed_out_by_it(caller):
            return None  # a sign-out's own answer: its session ended
        return f"refused though declared ({status} {location})"
    return None


def _signed_out_by_it(caller: Caller) -> bool:
    version = caller.user.session_version
    db.session.refresh(caller.user, ["session_version"])
    return caller.user.session_version != version


def test_every_route_answers_every_caller_as_it_declares(app, callers, capsys):
    results: Counter[str] = Counter()
    disagreements: list[str] = []
    rules = [
        rule for rule in app.url_map.iter_rules() if rule.endpoint not in UNDECLARED_ON_PURPOSE
    ]
    calls = 0
    for rule in sorted(rules, key=lambda r: r.rule):
        access = access_of(app, rule.endpoint)
        url = _url(rule)
        for method in sorted(rule.methods - SKIPPED_METHODS):
            for caller in callers:
                client, headers = caller.client(app)
                response = client.open(url, method=method, headers=headers, json={})
                calls += 1
                wrong = _verdict(access, caller, response)
                results["agree" if wrong is None else "disagree"] += 1
                if wrong:
                    disagreements.append(f"{method} {rule.rule} as {caller.name}: {wrong}")
                db.session.rollback()
    with capsys.disabled():
        print(
            f"\nroute matrix: {len(rules)} routes, {calls // len(callers)} route-methods × "
            f"{len(callers)} callers = {calls} requests; {results['agree']} agree with "
            f"their declaration, {results['disagree']} do not"
        )
    assert disagreements == [], "\n".join(disagreements)
