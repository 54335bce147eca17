"""MSAL clients for our Entra ID app registrations (Graph mail, staff sign-in).

One ``ConfidentialClientApplication`` per process, authority, registration and
use: building one fetches the authority's OpenID discovery document, and the
Graph client keeps its app token in the object's in-memory cache until shortly
before it expires, so a busy worker asks Entra ID for a token about once an hour.
"""

from __future__ import annotations

import hashlib
import threading

import msal

_clients: dict[tuple, msal.ConfidentialClientApplication] = {}
_clients_lock = threading.Lock()


class _NoTokenCache(msal.TokenCache):
    """Keeps nothing: sign-in needs the ID token once, not staff tokens held in memory."""

    def add(self, event, **kwargs) -> None:
        return None


def confidential_client(
    authority: str,
    client_id: str,
    secret: str,
    *,
    timeout: float,
    sign_in_only: bool = False,
) -> msal.ConfidentialClientApplication:
    """The process's MSAL client for this registration.

    ``sign_in_only``: the client only proves who a person is, so it asks for no
    refresh token (``offline_access``, which MSAL adds by default) and keeps no
    tokens.
    """
    # The secret is part of the key (hashed) so a rotated secret gets a fresh client.
    secret_hash = hashlib.sha256(secret.encode()).hexdigest()
    key = (authority, client_id, secret_hash, timeout, sign_in_only)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = msal.ConfidentialClientApplication(
                client_id,
                client_credential=secret,
                authority=authority,
                # The authority is taken as configured: no call to Microsoft's
                # instance discovery, so sovereign clouds and test fakes work.
                instance_discovery=False,
                timeout=timeout,
                exclude_scopes=["offline_access"] if sign_in_only else None,
                token_cache=_NoTokenCache() if sign_in_only else None,
            )
            _clients[key] = client
    return client
