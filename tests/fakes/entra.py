"""A fake Microsoft Entra ID for "Sign in with Microsoft", over HTTPS.

It speaks the documented v2.0 OpenID Connect shapes: discovery per tenant path
(a tenant id, or ``organizations``/``common`` whose issuer carries the
``{tenantid}`` placeholder), the JWKS at ``jwks_uri``, the authorize endpoint
(checks client, redirect URI, nonce and PKCE challenge, then sends the browser
back with ``code`` and ``state`` or with ``error``), and the token endpoint
(authorization-code grant: client secret, one-time code, the same redirect URI,
the PKCE verifier) answering an RS256-signed ID token carrying the nonce from
the authorize request. The signing key is made here with ``cryptography``.

Tests choose who signs in (:meth:`EntraFake.sign_in_as`) and can spoil the
next ID token: other claims (:attr:`EntraFake.token_overrides`) or a key the
JWKS does not publish (:attr:`EntraFake.sign_with_unpublished_key`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import jsonify, redirect, request

from tests.fakes import FakeServer
from tests.fakes.graph_resources import openid_configuration

MULTI_TENANT_PATHS = ("organizations", "common")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int_b64url(number: int) -> str:
    return b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))


def _entra_error(status: int, error: str, description: str):
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    return response


class EntraFake(FakeServer):
    """One Entra tenant with one app registration and whoever the test signs in as."""

    tls = True

    def __init__(self, *, redirect_uri: str) -> None:
        super().__init__("entra-fake")
        self.tenant_id = str(uuid.uuid4())
        self.client_id = str(uuid.uuid4())
        self.client_secret = f"entra-secret-{uuid.uuid4().hex}"
        self.redirect_uris = {redirect_uri}
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex
        self.account: dict = {}
        self.token_overrides: dict = {}
        self.sign_with_unpublished_key = False
        self.deny_with: tuple[str, str] | None = None
        self._codes: dict[str, dict] = {}
        self.sign_in_as("someone@chargecars.nl")
        self._routes()

    # -- test controls -------------------------------------------------------

    def app_config(self, tenant: str | None = None) -> dict:
        return {
            "MICROSOFT_SIGNIN_CLIENT_ID": self.client_id,
            "MICROSOFT_SIGNIN_CLIENT_SECRET": self.client_secret,
            "MICROSOFT_SIGNIN_TENANT": tenant or self.tenant_id,
            "MICROSOFT_SIGNIN_AUTHORITY_BASE": self.url,
        }

    def sign_in_as(self, email: str | None, **claims) -> dict:
        """The work account the next authorize request signs in (claims as Entra sends them)."""
        self.account = {
            "oid": str(uuid.uuid4()),
            "tid": self.tenant_id,
            "name": "Test Person",
            "preferred_username": email,
            "email": email,
            "amr": ["pwd"],
            **claims,
        }
        return self.account

    def rotate_key(self) -> None:
        """Sign from now on with a new key under a new kid, as Entra's key rollover does."""
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex

    # -- protocol ------------------------------------------------------------

    def issuer(self, tenant_id: str) -> str:
        return f"{self.url}/{tenant_id}/v2.0"

    def jwks(self) -> dict:
        numbers = self.key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": self.kid,
                    "x5t": self.kid,
                    "n": _int_b64url(numbers.n),
                    "e": _int_b64url(numbers.e),
                    "issuer": f"{self.url}/{{tenantid}}/v2.0",
                }
            ]
        }

    def id_token(self, claims: dict) -> str:
        key = self.key
        if self.sign_with_unpublished_key:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid}
        encoded = (b64url(json.dumps(part).encode()) for part in (header, claims))
        signing_input = ".".join(encoded)
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"

    def _known_tenant(self, tenant: str) -> bool:
        return tenant == self.tenant_id or tenant in MULTI_TENANT_PATHS

    def _routes(self) -> None:
        app = self.app

        @app.get("/<tenant>/v2.0/.well-known/openid-configuration")
        def _discovery(tenant):
            if not self._known_tenant(tenant):
                return _entra_error(400, "invalid_tenant", "AADSTS90002: Tenant not found.")
            issuer = self.issuer("{tenantid}" if tenant in MULTI_TENANT_PATHS else tenant)
            return jsonify(openid_configuration(f"{self.url}/{tenant}", issuer=issuer))

        @app.get("/<tenant>/discovery/v2.0/keys")
        def _keys(tenant):
            return jsonify(self.jwks())

        @app.get("/<tenant>/oauth2/v2.0/authorize")
        def _authorize(tenant):
            args = request.args
            if args.get("client_id") != self.client_id:
                return _entra_error(400, "unauthorized_client", "AADSTS700016: unknown app")
            if args.get("redirect_uri") not in self.redirect_uris:
                return _entra_error(400, "invalid_request", "AADSTS50011: redirect URI mismatch")
            problem = _authorize_problem(args)
            if problem:
                return _entra_error(400, "invalid_request", problem)
            back = {"state": args["state"]}
            if self.deny_with is not None:
                back["error"], back["error_description"] = self.deny_with
            else:
                code = secrets.token_urlsafe(32)
                self._codes[code] = {
                    "redirect_uri": args["redirect_uri"],
                    "nonce": args["nonce"],
                    "code_challenge": args["code_challenge"],
                    "scope": args["scope"],
                    "account": dict(self.account),
                }
                back["code"] = code
                back["session_state"] = str(uuid.uuid4())
            return redirect(f"{args['redirect_uri']}?{urlencode(back)}")

        @app.post("/<tenant>/oauth2/v2.0/token")
        def _token(tenant):
            form = request.form
            if form.get("client_id") != self.client_id or (
                form.get("client_secret") != self.client_secret
            ):
                return _entra_error(401, "invalid_client", "AADSTS7000215: Invalid client secret.")
            if form.get("grant_type") != "authorization_code":
                return _entra_error(400, "unsupported_grant_type", "AADSTS70003")
            grant = self._codes.pop(form.get("code", ""), None)
            if grant is None:
                return _entra_error(400, "invalid_grant", "AADSTS70008: code expired or used.")
            if form.get("redirect_uri") != grant["redirect_uri"]:
                return _entra_error(400, "invalid_grant", "AADSTS50011: redirect URI mismatch")
            verifier = form.get("code_verifier", "")
            if b64url(hashlib.sha256(verifier.encode()).digest()) != grant["code_challenge"]:
                return _entra_error(400, "invalid_grant", "AADSTS501481: PKCE check failed.")
            return jsonify(self._token_answer(grant))

    def _token_answer(self, grant: dict) -> dict:
        account = grant["account"]
        now = int(time.time())
        claims = {
            "aud": self.client_id,
            "iss": self.issuer(account["tid"]),
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "nonce": grant["nonce"],
            "sub": hashlib.sha256(account["oid"].encode()).hexdigest()[:43],
            "ver": "2.0",
            "uti": secrets.token_urlsafe(16),
            **{key: value for key, value in account.items() if value is not None},
        }
        claims.update(self.token_overrides)
        client_info = {"uid": account["oid"], "utid": account["tid"]}
        return {
            "token_type": "Bearer",
            "scope": grant["scope"],
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": f"fake-user-token-{uuid.uuid4().hex}",
            "id_token": self.id_token(claims),
            "client_info": b64url(json.dumps(client_info).encode()),
        }


def _authorize_problem(args) -> str | None:
    """What Entra would refuse about an authorization request, or None."""
    if args.get("response_type") != "code":
        return "AADSTS900144: response_type must be code"
    if "openid" not in args.get("scope", "").split():
        return "AADSTS900144: scope must include openid"
    for name in ("state", "nonce", "code_challenge"):
        if not args.get(name):
            return f"AADSTS900144: {name} is required"
    if args.get("code_challenge_method") != "S256":
        return "AADSTS501491: code_challenge_method must be S256"
    return None
