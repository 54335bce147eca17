"""A browser's push service (RFC 8030) that checks each push as a real one would.

:meth:`FakePushService.subscribe` plays the browser: it makes a P-256 key pair
and an auth secret and returns what ``PushSubscription.toJSON()`` gives the page
(endpoint on this server, ``keys.p256dh``, ``keys.auth``). Each POST to an
endpoint must carry ``TTL``, ``Content-Encoding: aes128gcm`` and
``Authorization: vapid t=<JWT>, k=<public key>`` (RFC 8292): the JWT is ES256,
signed by the key in ``k``, with ``aud`` this server's origin, an ``exp`` in the
next 24 hours and a ``sub``. The body is decrypted (RFC 8291) with the
subscription's private key; the plaintext lands in :attr:`received`. Checks that
fail land in :attr:`rejections` (answered 400/401/403). :meth:`forget` makes an
endpoint answer 410 Gone, as after the user revoked permission.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Response, request

from tests.fakes import FakeServer


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Push:
    endpoint: str
    payload: dict
    ttl: int
    vapid_subject: str


class FakePushService(FakeServer):
    def __init__(self) -> None:
        super().__init__("fake-push-service")
        self._keys: dict[str, tuple[ec.EllipticCurvePrivateKey, bytes]] = {}
        self._gone: set[str] = set()
        self.received: list[Push] = []
        self.rejections: list[str] = []

        @self.app.post("/push/<token>")
        def push(token):
            endpoint = f"{self.url}/push/{token}"
            with self._lock:
                known = self._keys.get(endpoint)
                gone = endpoint in self._gone
            if known is None or gone:
                return Response(status=410 if gone else 404)
            problem, subject = self._check_headers()
            if problem:
                return self._reject(problem, 401 if "vapid" in problem.lower() else 400)
            private_key, auth = known
            try:
                plain = http_ece.decrypt(
                    request.get_data(), private_key=private_key, auth_secret=auth,
                    version="aes128gcm",
                )
            except Exception as exc:  # noqa: BLE001 - any failure is the sender's fault
                return self._reject(f"payload does not decrypt: {exc!r}", 400)
            with self._lock:
                self.received.append(
                    Push(endpoint, json.loads(plain), int(request.headers["TTL"]), subject)
                )
            return Response(status=201, headers={"Location": f"{endpoint}/m/{len(self.received)}"})

    def subscribe(self) -> dict:
        """A new subscription, as the browser hands it to the page."""
        private_key = ec.generate_private_key(ec.SECP256R1())
        public = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        auth = secrets.token_bytes(16)
        endpoint = f"{self.url}/push/{secrets.token_urlsafe(16)}"
        with self._lock:
            self._keys[endpoint] = (private_key, auth)
        return {"endpoint": endpoint, "keys": {"p256dh": b64url(public), "auth": b64url(auth)}}

    def forget(self, endpoint: str) -> None:
        """From now on ``endpoint`` answers 410 Gone."""
        with self._lock:
            self._gone.add(endpoint)

    def pushes_to(self, endpoint: str) -> list[dict]:
        with self._lock:
            return [push.payload for push in self.received if push.endpoint == endpoint]

    def _reject(self, problem: str, status: int) -> Response:
        with self._lock:
            self.rejections.append(problem)
        return Response(json.dumps({"error": problem}), status=status)

    def _check_headers(self) -> tuple[str | None, str]:
        if request.headers.get("Content-Encoding") != "aes128gcm":
            return "Content-Encoding must be aes128gcm", ""
        if not request.headers.get("TTL", "").isdigit():
            return "TTL header missing", ""
        scheme, _, params = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "vapid":
            return "Authorization is not vapid", ""
        fields = dict(
            part.strip().split("=", 1) for part in params.split(",") if "=" in part
        )
        if "t" not in fields or "k" not in fields:
            return "vapid needs t and k", ""
        try:
            public = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), unb64url(fields["k"])
            )
            claims = jwt.decode(
                fields["t"], key=public, algorithms=["ES256"], audience=self.url,
                options={"require": ["aud", "exp", "sub"]},
            )
        except Exception as exc:  # noqa: BLE001
            return f"vapid token refused: {exc!r}", ""
        if claims["exp"] > time.time() + 24 * 3600:
            return "vapid exp more than 24 h ahead", ""
        return None, claims["sub"]
