"""The second factor guards every privileged act.

Three holes an outside review found: the manager-only bulk e-mail JSON route and
an admin changing someone else's signature let a session without a second factor
through, and so did the pages where managers set a technician's hours and
days off. (The third, a Microsoft account bound before the authenticator code,
is tested with the Microsoft sign-in, tests/platform/test_microsoft_sign_in.py.)
"""

from __future__ import annotations

import sqlalchemy as sa

from app.platform.auth.two_factor import PRIVILEGED_ROLES
from app.platform.extensions import db
from app.platform.models import TechnicianAbsence
from app.platform.models.enums import Role
from app.platform.security.access import access_of

BULK = {
    "subject": "Onderhoud",
    "html": "<p>Morgen onderhoud.</p>",
    "recipients": [{"email": "klant@example.nl"}],
}


def test_bulk_email_json_asks_a_manager_for_the_second_factor(client, auth, make_user):
    make_user("manager", email="manager@switchboard.test", two_factor=False)
    auth.login("manager@switchboard.test")
    response = client.post(
        "/api/v1/external/send-bulk-email", json=BULK, headers={"X-CSRFToken": auth.csrf_token()}
    )
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "two_factor_required"


def test_an_admin_changes_another_users_signature_only_with_the_second_factor(
    client, auth, make_user
):
    agent = make_user("agent")
    make_user("admin", email="admin@switchboard.test", two_factor=False)
    auth.login("admin@switchboard.test")
    token = auth.csrf_token("/settings/signature")
    response = client.post(
        f"/settings/signature/{agent.id}", data={"signature": "Gekaapt", "csrf_token": token}
    )
    assert response.status_code in (302, 303, 403)
    assert "/settings/security" in response.headers.get("Location", "/settings/security")
    db.session.refresh(agent)
    assert agent.email_signature != "Gekaapt"
    # Their own signature is desk work and needs no second factor.
    own = client.post(
        "/settings/signature", data={"signature": "Met groet, Beheer", "csrf_token": token}
    )
    assert own.status_code == 303


def test_a_technicians_hours_and_days_off_ask_the_manager_for_the_second_factor(
    client, auth, make_user
):
    technician = make_user("technician")
    make_user("manager", email="manager@switchboard.test", two_factor=False)
    auth.login("manager@switchboard.test")
    token = auth.csrf_token("/settings/security")
    page = client.get(f"/planning/technicians/{technician.id}")
    assert page.status_code in (302, 303)
    assert "/settings/security" in page.headers["Location"]
    absence = client.post(
        f"/planning/technicians/{technician.id}/absences",
        data={
            "starts_on": "2026-12-01",
            "ends_on": "2026-12-02",
            "reason": "Gekaapt",
            "csrf_token": token,
        },
    )
    assert absence.status_code in (302, 303)
    assert "/settings/security" in absence.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TechnicianAbsence)) == 0


def test_every_route_only_managers_and_admins_may_call_asks_for_the_second_factor(app):
    """The declarations say so for every such route, so none can forget it again."""
    forgetful = []
    for rule in app.url_map.iter_rules():
        access = access_of(app, rule.endpoint)
        roles = {role for role in (access.roles if access else ()) if isinstance(role, Role)}
        if roles and roles <= PRIVILEGED_ROLES - {Role.PARTNER} and not access.two_factor:
            forgetful.append(rule.rule)
    assert forgetful == []
