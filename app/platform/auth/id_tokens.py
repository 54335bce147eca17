"""Checking an OpenID Connect ID token from Microsoft Entra ID before we trust it.

MSAL 1.38+ only decodes the ID token it got from the token endpoint; it checks
state and nonce but not the signature, issuer, audience or lifetime (its
``decode_id_token`` is deprecated, see AzureAD/microsoft-authentication-library-
for-python#911). Signing someone in on the strength of the claims needs all of
those, so they are checked here: the RS256 signature against the keys the
authority publishes (``jwks_uri`` of its discovery document), ``iss`` against the
discovery ``issuer`` (whose ``{tenantid}`` placeholder, in the multi-tenant
documents, is the token's own ``tid``), ``aud`` against our client id, and
``exp``/``nbf``/``iat`` with a few minutes' leeway for clock skew.

Discovery documents and key sets are kept per process for a day; a token
signed with a key we have not seen makes us fetch the keys again once, which is
how Entra's key rollover reaches us.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import requests
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

CACHE_SECONDS = 24 * 3600
CLOCK_SKEW_SECONDS = 300
ALGORITHMS = ["RS256"]


class IdTokenRejected(Exception):
    """The ID token is not one we may rely on; the message says why (no token content)."""


class KeysUnavailable(IdTokenRejected):
    """The authority's discovery document or keys could not be read: try again later."""


@dataclass
class _Cached:
    value: dict
    fetched_at: float


_cache: dict[str, _Cached] = {}
_cache_lock = threading.Lock()


def verify_id_token(id_token: str, *, discovery_url: str, client_id: str, timeout: float) -> dict:
    """The claims of ``id_token`` once signature, issuer, audience and times check out."""
    discovery = _fetch(discovery_url, timeout)
    jwks_uri = discovery.get("jwks_uri")
    issuer_template = discovery.get("issuer")
    if not isinstance(jwks_uri, str) or not isinstance(issuer_template, str):
        raise IdTokenRejected("the discovery document names no jwks_uri or issuer")
    try:
        token = _decode(id_token, _fetch(jwks_uri, timeout))
    except InvalidKeyIdError:
        # A key we have not seen: Entra may have rolled its keys since we fetched them.
        try:
            token = _decode(id_token, _fetch(jwks_uri, timeout, refresh=True))
        except InvalidKeyIdError as exc:
            raise IdTokenRejected("signed with a key the authority does not publish") from exc

    claims = token.claims
    tenant = claims.get("tid")
    if not isinstance(tenant, str) or not tenant:
        raise IdTokenRejected("the token names no tenant (tid)")
    expected = {
        "iss": {"essential": True, "value": issuer_template.replace("{tenantid}", tenant)},
        "aud": {"essential": True, "value": client_id},
        "exp": {"essential": True},
        "iat": {"essential": True},
        "oid": {"essential": True},
    }
    try:
        jwt.JWTClaimsRegistry(leeway=CLOCK_SKEW_SECONDS, **expected).validate(claims)
    except JoseError as exc:
        raise IdTokenRejected(f"claim check failed: {exc}") from exc
    if isinstance(claims["aud"], list) and claims["aud"] != [client_id]:
        raise IdTokenRejected("the token is also meant for other audiences")
    if f"/{tenant}/" not in claims["iss"]:
        # Entra's issuer is https://<host>/<tid>/v2.0: a tid that disagrees with it
        # would bind the account under a tenant that did not sign it in.
        raise IdTokenRejected("the token's tid is not the tenant in its issuer")
    return claims


def _decode(id_token: str, jwks: dict) -> jwt.Token:
    try:
        return jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=ALGORITHMS)
    except InvalidKeyIdError:
        raise
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        raise IdTokenRejected(f"signature check failed: {exc.__class__.__name__}") from exc


def _fetch(url: str, timeout: float, *, refresh: bool = False) -> dict:
    """``url``'s JSON document, from the process cache when fresh enough."""
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(url)
    if cached is not None and not refresh and now - cached.fetched_at < CACHE_SECONDS:
        return cached.value
    try:
        answer = requests.get(url, timeout=timeout)
        answer.raise_for_status()
        document = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise KeysUnavailable(f"could not read {url}: {exc.__class__.__name__}") from exc
    if not isinstance(document, dict):
        raise KeysUnavailable(f"{url} did not answer a JSON object")
    with _cache_lock:
        _cache[url] = _Cached(document, now)
    return document
