"""Personal API tokens in the admin UI, and their scope on the JSON API."""

from __future__ import annotations

import sqlalchemy as sa

from app.platform.auth.api_tokens import issue_personal_token
from app.platform.auth.tokens import find_token
from app.platform.extensions import db
from app.platform.models import ApiToken, AuditLog
from app.platform.models.enums import KeyScope, TokenKind
from tests.support.helpers import csrf_token_from

PAGE = "/admin/api-tokens/"


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _shown(response) -> str:
    return response.get_data(as_text=True).split('data-testid="new-api-token">', 1)[1].split("<")[0]


def test_a_read_token_may_get_but_not_post(app, client, make_user):
    agent = make_user("agent")
    _, read = issue_personal_token(agent, "Reporting", scope=KeyScope.READ)
    _, write = issue_personal_token(agent, "Script")
    db.session.commit()

    assert client.get("/api/communication/threads", headers=_bearer(read)).status_code == 200
    refused = client.post("/api/notifications/read", headers=_bearer(read))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "insufficient_scope"
    assert client.post("/api/notifications/read", headers=_bearer(write)).status_code < 400

    token = find_token(read, TokenKind.PERSONAL)
    db.session.refresh(token)
    assert token.last_used_at is not None and token.last_used_ip == "127.0.0.1"


def test_admins_issue_rotate_and_revoke_tokens_shown_once(app, client, auth, make_user):
    admin = make_user("admin")
    service = make_user("agent", email="reporting@switchboard.test")
    auth.login(admin.email)
    csrf = csrf_token_from(client.get(PAGE).get_data(as_text=True))

    issued = client.post(
        PAGE,
        data={
            "csrf_token": csrf,
            "name": "BI export",
            "user_id": str(service.id),
            "scope": "read",
            "expires_at": "2099-06-30",
        },
    )
    assert issued.status_code == 201 and issued.headers["Cache-Control"] == "no-store"
    plain = _shown(issued)
    token = find_token(plain, TokenKind.PERSONAL)
    assert plain.startswith("sbp_") and token.user_id == service.id
    assert token.scope == KeyScope.READ and token.expires_at is not None
    listing = client.get(PAGE).get_data(as_text=True)
    assert (
        plain not in listing and token.prefix in listing and "reporting@switchboard.test" in listing
    )

    rotated = client.post(f"{PAGE}{token.id}/rotate", data={"csrf_token": csrf})
    assert rotated.status_code == 201
    new_plain = _shown(rotated)
    new = find_token(new_plain, TokenKind.PERSONAL)
    assert new.scope == KeyScope.READ and new.user_id == service.id
    assert find_token(plain, TokenKind.PERSONAL) is not None  # in its grace period

    revoked = client.post(f"{PAGE}{token.id}/revoke", data={"csrf_token": csrf})
    assert revoked.status_code == 303
    db.session.expire_all()
    assert find_token(plain, TokenKind.PERSONAL) is None
    assert find_token(new_plain, TokenKind.PERSONAL) is not None
    actions = set(
        db.session.scalars(
            sa.select(AuditLog.action).where(AuditLog.table_name == ApiToken.__tablename__)
        )
    )
    assert {"API_TOKEN_ISSUED", "API_TOKEN_ROTATED", "API_TOKEN_REVOKED"} <= actions


def test_the_form_names_what_is_wrong(app, client, auth, make_user):
    auth.login(make_user("admin").email)
    csrf = csrf_token_from(client.get(PAGE).get_data(as_text=True))
    answer = client.post(
        PAGE, data={"csrf_token": csrf, "name": "", "user_id": "", "expires_at": "1999-01-01"}
    )
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert 'data-field="user_id"' in html and 'data-field="expires_at"' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_only_admins_reach_the_page(app, client, auth, make_user):
    auth.login(make_user("agent").email)
    assert client.get(PAGE).status_code == 403
