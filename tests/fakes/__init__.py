"""Fake provider servers for tests: real HTTP on a local port, documented wire formats.

Each fake is a small Flask app served from a thread. It records every request it
gets (method, path, query, headers, body) so a test can assert exactly what left
Switchboard, and it can be told to answer the next calls with an error.
"""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from flask import Flask, Response, request
from werkzeug.serving import make_server

from tests.fakes.tls import local_tls_files

# How often a served test server looks whether it should stop: ``shutdown()`` waits
# for that look, and Werkzeug's default half second was most of many tests' teardown.
SHUTDOWN_POLL_SECONDS = 0.02


@dataclass
class RecordedRequest:
    method: str
    path: str
    args: dict
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)

    def form(self) -> dict:
        return dict(parse_qsl(self.body.decode()))


@dataclass
class QueuedAnswer:
    status: int
    body: object
    headers: dict = field(default_factory=dict)


class FakeServer:
    """Serve ``self.app`` on 127.0.0.1 and record what it receives.

    A subclass with ``tls = True`` serves HTTPS with the throwaway certificate of
    :mod:`tests.fakes.tls` (MSAL refuses plain-http authorities); a test trusts
    :attr:`ca_bundle`, e.g. through ``REQUESTS_CA_BUNDLE``.
    """

    tls = False

    def __init__(self, name: str) -> None:
        self.app = Flask(name)
        self.requests: list[RecordedRequest] = []
        self._answers: list[QueuedAnswer] = []
        # (match, answer, times left): answers for requests that match, e.g. page 3 only.
        self._answers_when: list[list] = []
        self._lock = threading.Lock()

        @self.app.before_request
        def _record():
            with self._lock:
                self.requests.append(
                    RecordedRequest(
                        method=request.method,
                        path=request.path,
                        args=request.args.to_dict(),
                        headers=dict(request.headers),
                        body=request.get_data(),
                    )
                )
                answer = self._answers.pop(0) if self._answers else None
                recorded = self.requests[-1]
                for rule in self._answers_when:
                    if answer is None and rule[2] > 0 and rule[0](recorded):
                        answer, rule[2] = rule[1], rule[2] - 1
            if answer is not None:
                body = (
                    answer.body
                    if isinstance(answer.body, (str, bytes))
                    else json.dumps(answer.body)
                )
                return Response(
                    body,
                    status=answer.status,
                    headers=answer.headers,
                    content_type="application/json",
                )
            return None

        self._server = None
        self._thread = None
        self.url = ""
        self.ca_bundle = ""

    def answer_next(self, status: int, body: object, headers: dict | None = None, times: int = 1):
        """Make the next ``times`` requests get this answer instead of the normal one."""
        with self._lock:
            self._answers.extend(QueuedAnswer(status, body, headers or {}) for _ in range(times))

    def answer_when(
        self, match, status: int, body: object, times: int = 1, headers: dict | None = None
    ) -> None:
        """Answer the next ``times`` requests for which ``match(RecordedRequest)`` holds
        this way instead of the normal one (a provider failing on page 3, say)."""
        with self._lock:
            self._answers_when.append([match, QueuedAnswer(status, body, headers or {}), times])

    def start(self) -> "FakeServer":
        context = None
        if self.tls:
            cert, key, self.ca_bundle = local_tls_files()
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True, ssl_context=context)
        scheme = "https" if self.tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)

    def requests_to(self, path_part: str, method: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in list(self.requests)
            if path_part in r.path and (method is None or r.method == method)
        ]
