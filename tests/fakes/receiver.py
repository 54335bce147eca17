"""A partner's webhook receiver that checks every callback as a partner would.

Each POST is verified twice before anything else: with the ``standardwebhooks``
reference library (``webhook-id``/``-timestamp``/``-signature``) and against the
hex ``X-ChargeCars-Signature`` partners check. Verified callbacks land in
``events``; failures in ``rejections`` (a test asserts that stays empty).

``behave_next`` makes the next requests answer 500, 410, 429 with
``Retry-After``, a redirect, or sleep first (a hanging partner); otherwise the
receiver answers 200.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field

from flask import Response, request
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.fakes import FakeServer


@dataclass(frozen=True)
class Behaviour:
    status: int = 200
    body: str = '{"received": true}'
    headers: dict = field(default_factory=dict)
    sleep: float = 0.0


@dataclass(frozen=True)
class VerifiedEvent:
    webhook_id: str
    event: str
    payload: dict
    body: bytes
    headers: dict
    arrived_at: float  # time.monotonic()
    answered: int


class FakeReceiver(FakeServer):
    def __init__(self, secret: str) -> None:
        super().__init__("fake-partner-receiver")
        self.secret = secret
        self.events: list[VerifiedEvent] = []
        self.rejections: list[str] = []
        self._behaviours: list[Behaviour] = []
        self._release = threading.Event()

        @self.app.post("/<path:hook>")
        def receive(hook):
            arrived = time.monotonic()
            body = request.get_data()
            headers = dict(request.headers)
            with self._lock:
                behaviour = self._behaviours.pop(0) if self._behaviours else Behaviour()
            problem = self._problem(body, headers)
            if problem is not None:
                with self._lock:
                    self.rejections.append(problem)
                return Response(json.dumps({"error": problem}), status=401)
            if behaviour.sleep:
                # Interruptible, so stopping the server never waits on a hang.
                self._release.wait(behaviour.sleep)
            with self._lock:
                self.events.append(
                    VerifiedEvent(
                        webhook_id=headers["Webhook-Id"],
                        event=headers.get("X-Chargecars-Event", ""),
                        payload=json.loads(body),
                        body=body,
                        headers=headers,
                        arrived_at=arrived,
                        answered=behaviour.status,
                    )
                )
            return Response(
                behaviour.body,
                status=behaviour.status,
                headers=behaviour.headers,
                content_type="application/json",
            )

    def behave_next(self, times: int = 1, **behaviour) -> None:
        """The next ``times`` callbacks get this answer (status, body, headers, sleep)."""
        with self._lock:
            self._behaviours.extend(Behaviour(**behaviour) for _ in range(times))

    def delivered(self) -> list[VerifiedEvent]:
        """Verified callbacks answered 2xx."""
        return [e for e in list(self.events) if 200 <= e.answered < 300]

    def stop(self) -> None:
        self._release.set()
        super().stop()

    def _problem(self, body: bytes, headers: dict) -> str | None:
        try:
            Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError as exc:
            return f"standard webhooks: {exc}"
        expected = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        given = headers.get("X-Chargecars-Signature", "")
        if not hmac.compare_digest(expected, given):
            return "X-ChargeCars-Signature does not match"
        if headers.get("Content-Type") != "application/json":
            return f"Content-Type is {headers.get('Content-Type')!r}"
        return None
