"""The JSON API: 401 with a JSON body without credentials, tokens, CSRF for sessions."""

from __future__ import annotations

from app.platform.auth.tokens import issue_token
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models.enums import TokenKind


def _token_for(user) -> str:
    record, plain = issue_token(TokenKind.PERSONAL, "test", user_id=user.id)
    db.session.commit()
    return plain


def test_no_token_is_401_json(client):
    response = client.get("/api/communication/threads")
    assert response.status_code == 401
    assert response.is_json
    assert response.json["error"]["code"] == "authentication_required"


def test_bad_token_is_401_json(client):
    response = client.get(
        "/api/communication/threads", headers={"Authorization": "Bearer sbp_not-a-token"}
    )
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"


def test_personal_token_authenticates(client, make_user):
    user = make_user("agent")
    token = _token_for(user)
    response = client.get(
        "/api/communication/threads", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.json == {"data": [], "next_cursor": None}


def test_token_is_stored_hashed(make_user):
    user = make_user("agent")
    record, plain = issue_token(TokenKind.PERSONAL, "test", user_id=user.id)
    assert plain not in record.token_hash
    assert len(record.token_hash) == 64


def test_revoked_token_is_refused(client, make_user):
    user = make_user("agent")
    record, plain = issue_token(TokenKind.PERSONAL, "test", user_id=user.id)
    record.revoked_at = utcnow()
    db.session.commit()
    response = client.get(
        "/api/communication/threads", headers={"Authorization": f"Bearer {plain}"}
    )
    assert response.status_code == 401


def test_partner_key_is_not_a_personal_token(client, make_user):
    make_user("agent")
    _, plain = issue_token(TokenKind.PARTNER, "partner")
    db.session.commit()
    response = client.get(
        "/api/communication/threads", headers={"Authorization": f"Bearer {plain}"}
    )
    assert response.status_code == 401


def test_token_does_not_open_html_pages(client, make_user):
    token = _token_for(make_user("agent"))
    response = client.get("/inbox", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 302


def test_session_post_needs_csrf_but_token_post_does_not(client, auth, make_user):
    user = make_user("agent", email="api@switchboard.test")
    auth.login("api@switchboard.test")
    refused = client.post("/api/notifications/read")
    assert refused.status_code == 400
    assert refused.json["error"]["code"] == "csrf_failed"
    accepted = client.post("/api/notifications/read", headers={"X-CSRFToken": auth.csrf_token()})
    assert accepted.status_code == 200

    other = client.application.test_client()
    token = _token_for(user)
    with_token = other.post("/api/notifications/read", headers={"Authorization": f"Bearer {token}"})
    assert with_token.status_code == 200


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/does-not-exist")
    assert response.status_code == 404
    assert response.is_json
