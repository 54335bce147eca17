"""The second factor guards every privileged act (issue 30 point 3).

Three holes an outside review found: the manager-only bulk e-mail JSON route and
an admin changing someone else's signature let a session without a second factor
through. (The third, a Microsoft account bound before the authenticator code,
is tested with the Microsoft sign-in, tests/test_microsoft_sign_in.py.)
"""

from __future__ import annotations

from app.extensions import db

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
