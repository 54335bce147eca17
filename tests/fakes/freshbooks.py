"""A fake FreshBooks: OAuth (the fake provider's) plus its webhook callbacks, as documented.

- ``POST /events/account/<account_id>/events/callbacks`` with
  ``{"callback": {"event": …, "uri": …}}`` registers a callback: it gets an id
  and a fresh verifier, starts unverified, and :meth:`verification_form` is the
  ``callback.verify`` post FreshBooks then sends to the URI.
- ``PUT /events/account/<account_id>/events/callbacks/<callback_id>`` with
  ``{"callback": {"verifier": …}}`` verifies it when the verifier is the one
  issued (``{"response": {"result": {"callback": {…, "verified": true}}}}``);
  a wrong verifier is 422, an unknown callback (or another account's) 404, a
  request without a current bearer token 401 — each in FreshBooks' error shape
  ``{"response": {"errors": [{"errno", "field", "message"}]}}``.
- :meth:`signed` is an event post as FreshBooks sends it: form fields and
  ``X-FreshBooks-Hmac-SHA256``, base64 HMAC-SHA256 of ``json.dumps`` of the
  fields keyed with the callback's verifier.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
from urllib.parse import urlencode

from flask import jsonify, request

from tests.fakes.oauth_provider import FakeOAuthProvider


def _error(status: int, errno: int, field: str, message: str):
    return jsonify(
        response={"errors": [{"errno": errno, "field": field, "message": message}]}
    ), status


class FakeFreshBooks(FakeOAuthProvider):
    def __init__(self, account_id: str = "6BApk", **kwargs) -> None:
        super().__init__(**kwargs)
        self.account_id = account_id
        self.callbacks: dict[int, dict] = {}
        self._ids = itertools.count(2001)
        self._callback_routes()

    # -- what tests use ------------------------------------------------------------

    def register(self, event: str, uri: str) -> dict:
        """Register a callback as an app would (no HTTP needed for the test's side)."""
        callback_id = next(self._ids)
        self.callbacks[callback_id] = {
            "callbackid": callback_id,
            "event": event,
            "uri": uri,
            "verified": False,
            "verifier": secrets.token_urlsafe(24),
        }
        return self.callbacks[callback_id]

    def verification_form(self, callback_id: int, verifier: str | None = None) -> dict:
        """The ``callback.verify`` post (``verifier`` given: a forger's copy)."""
        callback = self.callbacks.get(callback_id)
        return {
            "name": "callback.verify",
            "object_id": str(callback_id),
            "verifier": verifier or callback["verifier"],
            "account_id": self.account_id,
            "business_id": "6543",
            "identity_id": "1234",
            "user_id": "1",
        }

    def signed(self, fields: dict, verifier: str) -> tuple[str, dict]:
        """An event post's body and headers, signed with ``verifier``."""
        digest = hmac.new(verifier.encode(), json.dumps(fields).encode(), hashlib.sha256)
        return urlencode(fields), {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-FreshBooks-Hmac-SHA256": base64.b64encode(digest.digest()).decode(),
        }

    # -- the server ----------------------------------------------------------------

    def _callback_routes(self) -> None:
        app = self.app

        @app.post("/events/account/<account_id>/events/callbacks")
        def create_callback(account_id):
            if not self._bearer_ok():
                return _error(401, 1003, "token", "The server could not verify your token.")
            spec = (request.get_json(silent=True) or {}).get("callback") or {}
            if account_id != self.account_id or not spec.get("event") or not spec.get("uri"):
                return _error(422, 1001, "callback", "event and uri are required.")
            callback = self.register(spec["event"], spec["uri"])
            return jsonify(response={"result": {"callback": self._public(callback)}})

        @app.put("/events/account/<account_id>/events/callbacks/<int:callback_id>")
        def verify_callback(account_id, callback_id):
            if not self._bearer_ok():
                return _error(401, 1003, "token", "The server could not verify your token.")
            callback = self.callbacks.get(callback_id)
            if account_id != self.account_id or callback is None:
                return _error(404, 1012, "callbackid", "Callback not found.")
            given = ((request.get_json(silent=True) or {}).get("callback") or {}).get("verifier")
            if not isinstance(given, str) or not hmac.compare_digest(given, callback["verifier"]):
                return _error(422, 1011, "verifier", "Invalid verifier.")
            callback["verified"] = True
            return jsonify(response={"result": {"callback": self._public(callback)}})

    def _bearer_ok(self) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header.removeprefix("Bearer ") in (
            self.access_tokens
        )

    @staticmethod
    def _public(callback: dict) -> dict:
        return {k: v for k, v in callback.items() if k != "verifier"}
