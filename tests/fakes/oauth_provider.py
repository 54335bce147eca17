"""A fake OAuth 2.0 provider (RFC 6749 + PKCE, RFC 7636) with one protected API.

- ``GET /authorize`` checks the client, redirect URI, ``response_type=code`` and an
  S256 ``code_challenge``, then redirects back with ``code`` and the same ``state``
  (``realmId`` too, as QuickBooks does), as a provider does once the person
  clicks "allow". ``deny_next`` makes it answer ``error=access_denied`` instead.
- ``POST /token`` takes ``grant_type=authorization_code`` (the code once, with a
  ``code_verifier`` whose S256 hash is the challenge, and the same redirect URI)
  and ``grant_type=refresh_token``; the client authenticates with HTTP Basic or
  in the form. Refresh tokens rotate: a spent one is refused with
  ``invalid_grant``, and ``fail_refresh`` refuses every refresh.
- Any other path is the provider's API: 200 ``{"results": []}`` for a current
  bearer token, 401 otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from urllib.parse import urlencode

from flask import jsonify, redirect, request

from tests.fakes import FakeServer


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class FakeOAuthProvider(FakeServer):
    def __init__(
        self,
        client_id: str = "client-123",
        client_secret: str = "client-secret-abcdef-0123456789",  # noqa: S107
        expires_in: int = 3600,
        realm_id: str | None = "9130350000000001",
    ) -> None:
        super().__init__("fake-oauth-provider")
        self.client_id = client_id
        self.client_secret = client_secret
        self.expires_in = expires_in
        self.realm_id = realm_id
        self.fail_refresh = False
        self.deny_next = False
        self.codes: dict[str, dict] = {}
        self.refresh_tokens: set[str] = set()
        self.access_tokens: set[str] = set()
        self.issued: list[dict] = []
        self._routes()

    # -- what tests look at ----------------------------------------------------

    @property
    def authorize_url(self) -> str:
        return f"{self.url}/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    def token_requests(self, grant_type: str | None = None):
        return [
            r
            for r in self.requests_to("/token", "POST")
            if grant_type is None or r.form().get("grant_type") == grant_type
        ]

    # -- the server ----------------------------------------------------------------

    def _routes(self) -> None:
        app = self.app

        @app.get("/authorize")
        def authorize():
            args = request.args
            problems = []
            if args.get("response_type") != "code":
                problems.append("response_type")
            if args.get("client_id") != self.client_id:
                problems.append("client_id")
            if not args.get("redirect_uri"):
                problems.append("redirect_uri")
            if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
                problems.append("code_challenge")
            if not args.get("state"):
                problems.append("state")
            if problems:
                return jsonify(error="invalid_request", fields=problems), 400
            params = {"state": args["state"]}
            if self.deny_next:
                self.deny_next = False
                params["error"] = "access_denied"
            else:
                code = secrets.token_urlsafe(16)
                self.codes[code] = {
                    "challenge": args["code_challenge"],
                    "redirect_uri": args["redirect_uri"],
                    "scope": args.get("scope"),
                }
                params["code"] = code
                if self.realm_id:
                    params["realmId"] = self.realm_id
            return redirect(f"{args['redirect_uri']}?{urlencode(params)}", 302)

        @app.post("/token")
        def token():
            form = request.form
            if not self._client_ok(form):
                return jsonify(error="invalid_client"), 401
            grant = form.get("grant_type")
            if grant == "authorization_code":
                issued = self.codes.pop(form.get("code", ""), None)
                if issued is None:
                    return jsonify(error="invalid_grant", error_description="unknown code"), 400
                if form.get("redirect_uri") != issued["redirect_uri"]:
                    return jsonify(error="invalid_grant", error_description="redirect_uri"), 400
                if s256(form.get("code_verifier", "")) != issued["challenge"]:
                    return jsonify(error="invalid_grant", error_description="code_verifier"), 400
                return jsonify(self._issue())
            if grant == "refresh_token":
                spent = form.get("refresh_token", "")
                if self.fail_refresh or spent not in self.refresh_tokens:
                    return jsonify(error="invalid_grant", error_description="refresh refused"), 400
                self.refresh_tokens.discard(spent)
                return jsonify(self._issue())
            return jsonify(error="unsupported_grant_type"), 400

        @app.route("/<path:anything>", methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
        def api(anything):
            header = request.headers.get("Authorization", "")
            if header.removeprefix("Bearer ") not in self.access_tokens:
                return jsonify(status="error", message="invalid token"), 401
            return jsonify(results=[], data=[])

    def _client_ok(self, form) -> bool:
        auth = request.authorization
        if auth is not None and auth.type == "basic":
            return auth.username == self.client_id and auth.password == self.client_secret
        return form.get("client_id") == self.client_id and (
            form.get("client_secret") == self.client_secret
        )

    def _issue(self) -> dict:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        token = {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": self.expires_in,
        }
        self.issued.append({**token, "at": time.time()})
        return token
