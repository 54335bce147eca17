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
    keep_tokens: bool = True,
) -> msal.ConfidentialClientApplication:
    """The process's MSAL client for this registration; ``keep_tokens=False`` caches none."""
    # The secret is part of the key (hashed) so a rotated secret gets a fresh client.
    key = (authority, client_id, hashlib.sha256(secret.encode()).hexdigest(), timeout, keep_tokens)
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
                token_cache=None if keep_tokens else _NoTokenCache(),
            )
            _clients[key] = client
    return client
