"""The "Getting started" of docs/partners.md is run as written.

Its ``curl`` calls are read from the file and sent to the app with a test key,
in order; its ``verify.py`` (the ``standardwebhooks`` library) is served as the
partner's receiver, and the app's real callbacks must reach it verified; its
``verify_hmac.py`` must accept the same callbacks, and both must accept a
callback signed during a secret rotation's overlap with either secret.
"""

from __future__ import annotations

import json
import re
import shlex
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import request
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

from app.orders.deliveries.signing import standard_webhooks_signature
from app.orders.partners.keys import issue_partner_key
from app.orders.partners.services import new_webhook_secret
from app.platform.extensions import db
from app.platform.models.enums import KeyMode
from tests.fakes import SHUTDOWN_POLL_SECONDS
from tests.support.jobs import drain_until
from tests.support.partner_support import make_partner

DOCS = Path(__file__).resolve().parents[2] / "docs" / "partners.md"
DOCS_RECEIVER = "https://partner.example"  # the callback host the guide uses


def getting_started() -> str:
    text = DOCS.read_text(encoding="utf-8")
    section = re.search(r"^## Getting started\n(.*?)^## ", text, re.S | re.M)
    assert section, "docs/partners.md lost its Getting started section"
    return section.group(1)


def fenced(section: str, info: str) -> list[str]:
    """The bodies of the fenced blocks whose info string is exactly ``info``."""
    return re.findall(rf"^```{re.escape(info)}\n(.*?)^```$", section, re.S | re.M)


@dataclass
class Curl:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    data: str | None = None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> str:
        return urlsplit(self.url).query


def shell_commands(block: str) -> list[list[str]]:
    """The block's commands, as the shell splits them (quotes may span lines)."""
    commands, pending = [], ""
    for line in block.splitlines(keepends=True):
        pending += line
        if pending.rstrip().endswith("\\"):
            continue
        try:
            words = shlex.split(pending.replace("\\\n", " "), comments=True)
        except ValueError:  # a quote still open: the command goes on
            continue
        if words:
            commands.append(words)
        pending = ""
    assert not pending.strip(), f"unfinished command: {pending!r}"
    return commands


def parse_curl(words: list[str], env: dict[str, str]) -> Curl:
    words = [re.sub(r"\$\{?(\w+)\}?", lambda m: env[m.group(1)], word) for word in words]
    assert words[0] == "curl", words
    call, rest = Curl("GET", ""), iter(words[1:])
    for word in rest:
        if word in ("-sS", "-s", "-S"):
            continue
        if word == "-X":
            call.method = next(rest)
        elif word == "-H":
            name, _, value = next(rest).partition(":")
            call.headers[name.strip()] = value.strip()
        elif word == "-d":
            call.data = next(rest)
            call.method = "POST" if call.method == "GET" else call.method
        else:
            assert not word.startswith("-"), f"the test does not know curl's {word}"
            call.url = word
    return call


def guide_calls(env: dict[str, str]) -> list[Curl]:
    calls = []
    for block in fenced(getting_started(), "sh"):
        for words in shell_commands(block):
            if words[0] == "export":
                assert words[1].split("=", 1)[0] in env, f"the test does not set {words[1]}"
            else:
                calls.append(parse_curl(words, env))
    return calls


def _json_example(marker: str) -> dict:
    """The guide's one example answer that contains ``marker``."""
    [example] = [
        json.loads(block) for block in fenced(getting_started(), "json") if marker in block
    ]
    return example


def route_exists(app, call: Curl) -> bool:
    try:
        app.url_map.bind("localhost").match(call.path, call.method)
    except HTTPException:
        return False
    return True


def run_snippet(name: str) -> dict:
    [source] = fenced(getting_started(), f"python title={name}")
    namespace: dict = {"__name__": f"docs_{name.removesuffix('.py')}"}
    exec(compile(source, f"docs/partners.md:{name}", "exec"), namespace)  # noqa: S102
    return namespace


class SnippetReceiver:
    """Serves the guide's Flask app; keeps what it was sent and what it answered."""

    def __init__(self, app) -> None:
        self.seen: list[tuple[bytes, Headers, int]] = []

        @app.after_request
        def _keep(response):
            self.seen.append((request.get_data(), Headers(request.headers), response.status_code))
            return response

        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
            daemon=True,
        )

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def partner(app, fake_pdok):
    made = make_partner("Voltaland")
    _, key = issue_partner_key(made.organization, "getting started", mode=KeyMode.TEST)
    db.session.commit()
    assert key.startswith("sbk_test_")
    return made, key


def _overlap_headers(headers: Headers, body: bytes, new: str, old: str) -> dict:
    """The headers of ``body``'s callback as sent during a rotation: ``v1,<new> v1,<old>``."""
    msg_id, timestamp = headers["webhook-id"], int(headers["webhook-timestamp"])
    signatures = [standard_webhooks_signature(s, msg_id, timestamp, body) for s in (new, old)]
    return {**dict(headers), "webhook-signature": " ".join(signatures)}


def test_the_getting_started_runs_as_written(app, client, partner, monkeypatch):
    made, key = partner
    # Test orders' callbacks are signed with the sandbox's own secret.
    secret = made.integration.sandbox_webhook_secret
    monkeypatch.setenv("CHARGECARS_WEBHOOK_SECRET", secret)
    verify_py = run_snippet("verify.py")
    env = {"SB": "http://localhost", "PARTNER_ID": made.id, "SB_KEY": key}
    env["SB_LIVE_KEY"] = made.api_key  # the mapping is a live setting
    calls = guide_calls(env)
    assert [c.path.rsplit("/", 1)[-1] for c in calls[:3]] == [
        "integration-config",
        "integration-config",
        "orders",
    ]

    with SnippetReceiver(verify_py["app"]) as receiver:
        answers = []
        for call in calls:
            if not route_exists(app, call):
                continue  # announced by another branch; see the test below
            data = call.data.replace(DOCS_RECEIVER, receiver.url) if call.data else None
            answer = client.open(
                call.path,
                method=call.method,
                query_string=call.query,
                headers=call.headers,
                data=data,
            )
            assert 200 <= answer.status_code < 300, (call.path, answer.get_json())
            answers.append((call, answer.get_json()))

        created = next(a for c, a in answers if c.path.endswith("/orders") and c.method == "POST")
        example = _json_example('"estimated_processing_time"')
        assert set(created["data"]) == set(example["data"])
        assert created["data"]["status"] == example["data"]["status"]
        assert created["data"]["needs_review"] is True  # the unmapped SKU, as the guide says

        listed = [a for c, a in answers if c.path.endswith("/orders") and c.method == "GET"]
        for page in listed:  # once the order list is merged (h-orderapi)
            example = _json_example('"next_cursor"')
            assert set(page) == set(example)
            # A test key lists test orders only: the order made with it is one.
            ids = [order["partner_order_id"] for order in page["data"]]
            assert ids == ["TEST-0001"], "the test key's own order is not in its list"
            assert set(example["data"][0]) <= set(page["data"][0])

        sandbox_moved = any(
            "/sandbox/" in c.path and c.path.endswith("/status") for c, _ in answers
        )
        expected = {"RECEIVED", "CONFIRMED"} if sandbox_moved else {"RECEIVED"}
        got = verify_py["received"]
        drain_until(app, lambda: expected <= {status for _, _, status in got}, timeout=20)

    assert got[0][1:] == ("order_created", "RECEIVED")
    assert [status for *_, status in receiver.seen] == [204] * len(receiver.seen)
    body, headers, _ = receiver.seen[0]
    assert got[0][0] == headers["webhook-id"]

    # The guide's receiver refuses what is not ours.
    refused = (
        verify_py["app"]
        .test_client()
        .post("/chargecars/callbacks", data=body + b" ", headers=dict(headers))
    )
    assert refused.status_code == 400

    verify = run_snippet("verify_hmac.py")["verify"]
    assert verify(secret, body, headers) is True
    assert verify(secret, body.replace(b"RECEIVED", b"CANCELLED"), headers) is False
    assert verify(new_webhook_secret(), body, headers) is False


def test_during_an_overlap_either_secret_verifies_with_both_snippets(app, client, partner):
    """The guide's step 8: ``v1,<new> v1,<old>`` passes a verifier holding either."""
    made, _ = partner
    assert "`v1,<new> v1,<old>`" in getting_started()
    old, new, stranger = made.integration.webhook_secret, new_webhook_secret(), new_webhook_secret()
    body = json.dumps({"event": "status_changed", "status": "PLANNED"}).encode()
    headers = Headers({"webhook-id": "msg_overlap", "webhook-timestamp": str(int(time.time()))})
    sent = _overlap_headers(headers, body, new, old)
    verify = run_snippet("verify_hmac.py")["verify"]
    for secret in (old, new):
        assert Webhook(secret).verify(body, sent)["status"] == "PLANNED"
        assert verify(secret, body, sent) is True
    with pytest.raises(WebhookVerificationError):
        Webhook(stranger).verify(body, sent)
    assert verify(stranger, body, sent) is False


def test_every_call_in_the_getting_started_is_a_route(app):
    env = {"SB": "http://localhost", "PARTNER_ID": "p", "SB_KEY": "sbk_test_x"}
    env["SB_LIVE_KEY"] = "sbk_live_x"
    missing = [f"{c.method} {c.path}" for c in guide_calls(env) if not route_exists(app, c)]
    assert not missing, f"the guide calls what the app does not have: {missing}"
