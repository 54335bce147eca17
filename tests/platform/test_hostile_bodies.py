"""Hostile bodies: JSON nested too deep, and bodies too large.

Deep JSON is a 400 in the errors' JSON format wherever a body is read: the partner
API, the app's JSON API and the webhooks, before any authentication. A body over
the limit is a 413 from its Content-Length alone, before anything reads it (a
stream that counts what was read proves it), and a chunked body without a
Content-Length is cut off once it passes the limit. Upload routes keep their own
larger limits, also applied before the body is read.
"""

from __future__ import annotations

import io
import json
import socket
import time

import pytest
from werkzeug.exceptions import BadRequest

from app.platform.auth.tokens import issue_token
from app.platform.config import Config
from app.platform.extensions import db
from app.platform.models.enums import ChannelType, TokenKind
from app.platform.security.bodies import MAX_JSON_DEPTH, JSONTooDeep, loads
from tests.support import factories
from tests.support.mobile_support import visit
from tests.support.partner_support import make_partner

MB = 1024 * 1024
HOSTILE_JSON = b"[" * 100_000


class CountingStream(io.RawIOBase):
    """A request body of ``size`` bytes (endless with None) that counts what is read."""

    def __init__(self, size: int | None) -> None:
        self.size = size
        self.position = 0
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self.size is not None

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = self.size if whence == 2 else offset
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        left = len(buffer) if self.size is None else min(len(buffer), self.size - self.position)
        buffer[:left] = b"{" * left
        self.position += left
        self.bytes_read += left
        return left


def bearer(user) -> dict[str, str]:
    _, token = issue_token(TokenKind.PERSONAL, "tests", user_id=user.id)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.content_type.startswith("application/json")
    error = response.get_json()["error"]
    assert error["code"] == code
    return error


# --- deeply nested JSON -----------------------------------------------------------


def test_deep_json_is_400_on_the_partner_api(client):
    partner = make_partner()
    for path in ("orders", "integration-config"):
        response = client.post(
            f"/api/v1/partners/{partner.id}/{path}",
            data=HOSTILE_JSON,
            headers={**partner.headers, "Content-Type": "application/json"},
        )
        error = assert_json_error(response, 400, "bad_request")
        assert "nests more than 64 levels" in error["message"]


def test_deep_json_is_400_on_the_json_api(client, make_user):
    headers = {**bearer(make_user("admin")), "Content-Type": "application/json"}
    for path in (
        "/api/tasks",
        "/api/communication/threads",
        "/api/communication/messages",
        "/api/templates",
        "/api/v1/external/send-whatsapp",
    ):
        response = client.post(path, data=HOSTILE_JSON, headers=headers)
        error = assert_json_error(response, 400, "bad_request")
        assert "nests more than 64 levels" in error["message"], path


def test_deep_json_is_400_on_the_webhooks_before_any_authentication(client):
    outlook = client.post("/api/v1/webhooks/outlook", data=HOSTILE_JSON)
    error = assert_json_error(outlook, 400, "malformed_json")
    assert "nests more than 64 levels" in error["message"]
    for path in (
        "/api/v1/webhooks/whatsapp",
        "/api/v1/webhooks/sendgrid",
        "/api/v1/webhooks/fillout",
        "/api/v1/webhooks/make/order-created",
    ):
        response = client.post(path, data=HOSTILE_JSON, content_type="application/json")
        assert response.status_code in (400, 401), path  # refused, never a 500


def test_json_parses_up_to_the_depth_limit_and_no_deeper():
    deepest = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert loads(deepest) == json.loads(deepest)
    nested = '{"a": ' * MAX_JSON_DEPTH + "1" + "}" * MAX_JSON_DEPTH
    assert loads(nested)["a"]["a"]["a"]
    with pytest.raises(JSONTooDeep):
        loads("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))
    with pytest.raises(ValueError, match="nests more than"):
        loads(HOSTILE_JSON)


def test_request_get_json_reads_through_the_depth_limit(app):
    too_deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    for silent in (True, False):
        with app.test_request_context(data=too_deep, content_type="application/json") as context:
            with pytest.raises(BadRequest, match="nests more than 64 levels"):
                context.request.get_json(silent=silent)


# --- size -------------------------------------------------------------------------


def test_the_limit_is_two_megabytes_unless_configured(monkeypatch, tmp_path):
    monkeypatch.delenv("MAX_REQUEST_BYTES", raising=False)
    assert Config.from_env(str(tmp_path))["MAX_CONTENT_LENGTH"] == 2 * MB
    monkeypatch.setenv("MAX_REQUEST_BYTES", "5000000")
    assert Config.from_env(str(tmp_path))["MAX_CONTENT_LENGTH"] == 5_000_000


def test_a_40_mb_json_body_is_413_before_it_is_read(client, make_user):
    body = CountingStream(40 * MB)
    response = client.post(
        "/api/tasks",
        input_stream=body,
        headers={**bearer(make_user("agent")), "Content-Type": "application/json"},
    )
    error = assert_json_error(response, 413, "request_entity_too_large")
    assert error["message"] == "The request is larger than 2 MB, the most this address takes."
    assert body.bytes_read == 0


def test_a_2_gb_upload_to_login_is_413_before_it_is_read(client):
    body = CountingStream(2 * 1024 * MB)
    response = client.post(
        "/login", input_stream=body, content_type="multipart/form-data; boundary=x"
    )
    assert response.status_code == 413
    assert response.content_type.startswith("text/html")
    page = response.get_data(as_text=True)
    assert "Too large" in page and "larger than 2 MB" in page
    assert body.bytes_read == 0


def chunked(stream) -> dict:
    """The environ of a chunked request body, as gunicorn and Werkzeug's server give it."""
    return {"wsgi.input": stream, "wsgi.input_terminated": True}


def test_a_chunked_body_without_length_is_cut_off_at_the_limit(client, make_user):
    endless = CountingStream(None)
    response = client.post(
        "/api/tasks",
        headers={
            **bearer(make_user("agent")),
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides=chunked(endless),
    )
    assert_json_error(response, 413, "request_entity_too_large")
    assert 2 * MB < endless.bytes_read <= 2 * MB + 64 * 1024


def test_a_chunked_body_under_the_limit_is_read_as_usual(client, make_user):
    body = io.BytesIO(b'{"task_title": "Bel klant terug", "priority": "high"}')
    response = client.post(
        "/api/tasks",
        headers={
            **bearer(make_user("agent")),
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides=chunked(body),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["data"]["task_title"] == "Bel klant terug"


def test_a_large_body_under_the_limit_is_read_as_usual(client, make_user):
    title = "x" * (MB + MB // 2)
    response = client.post(
        "/api/tasks", json={"task_title": title}, headers=bearer(make_user("agent"))
    )
    assert response.status_code != 413


def test_upload_routes_refuse_over_their_own_limit_before_reading(client, auth, make_user):
    tech = make_user("technician")
    order = visit(tech)
    agent = make_user("agent")
    thread = factories.thread(factories.channel(ChannelType.EMAIL_OUTLOOK), factories.contact())
    db.session.commit()

    auth.login(tech.email)
    photo = CountingStream(11 * MB)
    answer = client.post(
        f"/m/visits/{order.id}/photo",
        input_stream=photo,
        content_type="multipart/form-data; boundary=x",
        headers={"HX-Request": "true"},
    )
    assert "The photo is over the 10 MB limit." in answer.get_data(as_text=True)
    assert photo.bytes_read == 0

    auth.logout()
    auth.login(agent.email)
    files = CountingStream(41 * MB)
    answer = client.post(
        f"/threads/{thread.id}/reply",
        input_stream=files,
        content_type="multipart/form-data; boundary=x",
        headers={"HX-Request": "true"},
    )
    assert "The attached files are over 40 MB together" in answer.get_data(as_text=True)
    assert files.bytes_read == 0

    eml = CountingStream(6 * MB)
    answer = client.post(
        "/intake/drafts/upload", input_stream=eml, content_type="multipart/form-data; boundary=x"
    )
    assert answer.status_code == 413
    assert "The file is larger than 5 MB." in answer.get_data(as_text=True)
    assert eml.bytes_read == 0


def test_an_eml_between_the_global_and_its_own_limit_is_read(client, auth, make_user):
    partner = make_partner("Alva")
    auth.login(make_user("agent").email)
    token = auth.csrf_token("/intake/drafts")
    answer = client.post(
        "/intake/drafts/upload",
        data={
            "csrf_token": token,
            "partner_id": partner.id,
            "eml": (io.BytesIO(b"Subject: big\r\n\r\n" + b"x" * 3 * MB), "big.eml"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code != 413


def test_413_arrives_over_a_real_socket_without_the_body_being_sent(live_server):
    host, port = live_server.url.removeprefix("http://").split(":")
    request = (
        "POST /login HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\n"
        f"Content-Length: {2 * 1024 * MB}\r\n"
        "\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)  # the headers only: not one byte of the 2 GB
        started = time.monotonic()
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:300]
    assert time.monotonic() - started < 5


def test_a_chunked_upload_over_a_real_socket_is_413_at_the_limit(live_server):
    host, port = live_server.url.removeprefix("http://").split(":")
    head = (
        "POST /login HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        "Transfer-Encoding: chunked\r\n"
        "\r\n"
    ).encode()
    chunk = b"a" * (64 * 1024)
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head)
        for _ in range(3 * MB // len(chunk)):  # 3 MB, one more MB than the limit
            connection.sendall(frame)
        connection.sendall(b"0\r\n\r\n")
        answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]


def test_a_deeply_nested_cursor_is_refused_not_a_crash(client, auth, make_user):
    """Paging cursors are base64 JSON we hand out; a forged one nesting thousands of
    lists must be an invalid cursor (4xx), not a RecursionError (500)."""
    import base64

    agent = make_user("agent")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    thread = factories.thread(channel, factories.contact())
    db.session.commit()
    forged = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode().rstrip("=")

    api = bearer(agent)
    assert client.get(f"/api/communication/threads?cursor={forged}", headers=api).status_code == 422
    answer = client.get(
        f"/api/communication/messages?thread_id={thread.id}&cursor={forged}", headers=api
    )
    assert answer.status_code == 422
    auth.login(agent.email)
    assert client.get(f"/threads/{thread.id}/timeline?before={forged}").status_code == 400


def test_admin_json_fields_refuse_deep_nesting_by_name():
    from app.conversations.assignment.rules import InvalidRules, parse_rules_text

    with pytest.raises(InvalidRules) as refused:
        parse_rules_text("[" * 5000 + "]" * 5000)
    assert "nests more than" in refused.value.fields["rules"]
