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
import sqlalchemy as sa
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
    """Who calls: each request starts from a new client holding only their session.

    That session (a CSRF token and, for a user, the signed-in user, their session
    version and whether they gave a second factor) is signed once, and again only
    when a route has ended it (their session version moved): signing it for each of
    the 2,880 requests, after reloading the user through the ORM twice, was a quarter
    of the test's time.
    """

    def __init__(self, name: str, role: Role | None, user: User | None, second_factor: bool):
        self.name, self.role, self.second_factor = name, role, second_factor
        self.user_id = user.id if user is not None else None
        self.version: int | None = None  # the session version the cookie names
        self._cookie = None
        self._headers: dict[str, str] | None = None

    def client(self, app, versions):
        if self._headers is None:
            # A signed-out visitor holds a CSRF token too, so the gate under test is
            # the sign-in, not the forgery check in front of it.
            self._raw = secrets.token_hex(20)
            token = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(self._raw)
            self._headers = {"X-CSRFToken": token}
        version = versions.of(self.user_id)  # a route may have ended it
        if self._cookie is None or version != self.version:
            signing = app.test_client()
            with signing.session_transaction() as session:
                session["csrf_token"] = self._raw
                if self.user_id is not None:
                    session["_user_id"] = f"{self.user_id}:{version}"
                    session["_fresh"] = True
                    session["second_factor"] = self.second_factor
            self._cookie = signing.get_cookie(app.config["SESSION_COOKIE_NAME"])
            self.version = version
        client = app.test_client()
        cookie = self._cookie
        client.set_cookie(
            cookie.key,
            cookie.value,
            domain=cookie.domain,
            origin_only=cookie.origin_only,
            path=cookie.path,
        )
        return client, dict(self._headers)


class SessionVersions:
    """A user's current session version, read on a connection of its own that holds
    no transaction open between requests (one round trip, no ORM)."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.query = sa.select(User.session_version).where(User.id == sa.bindparam("user_id"))

    def of(self, user_id) -> int | None:
        if user_id is None:
            return None
        return self.connection.execute(self.query, {"user_id": user_id}).scalar_one()


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


def _verdict(access, caller: Caller, response, versions: SessionVersions) -> str | None:
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
        if _signed_out_by_it(caller, versions):
            return None  # a sign-out's own answer: its session ended
        return f"refused though declared ({status} {location})"
    return None


def _signed_out_by_it(caller: Caller, versions: SessionVersions) -> bool:
    return versions.of(caller.user_id) != caller.version


def test_every_route_answers_every_caller_as_it_declares(app, callers, capsys):
    results: Counter[str] = Counter()
    disagreements: list[str] = []
    rules = [
        rule for rule in app.url_map.iter_rules() if rule.endpoint not in UNDECLARED_ON_PURPOSE
    ]
    calls = 0
    connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    versions = SessionVersions(connection)
    for rule in sorted(rules, key=lambda r: r.rule):
        access = access_of(app, rule.endpoint)
        url = _url(rule)
        for method in sorted(rule.methods - SKIPPED_METHODS):
            for caller in callers:
                client, headers = caller.client(app, versions)
                response = client.open(url, method=method, headers=headers, json={})
                calls += 1
                wrong = _verdict(access, caller, response, versions)
                results["agree" if wrong is None else "disagree"] += 1
                if wrong:
                    disagreements.append(f"{method} {rule.rule} as {caller.name}: {wrong}")
    connection.close()
    with capsys.disabled():
        print(
            f"\nroute matrix: {len(rules)} routes, {calls // len(callers)} route-methods × "
            f"{len(callers)} callers = {calls} requests; {results['agree']} agree with "
            f"their declaration, {results['disagree']} do not"
        )
    assert disagreements == [], "\n".join(disagreements)
