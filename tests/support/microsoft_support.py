"""Shared by the "Sign in with Microsoft" tests: the fake Entra ID and a round trip."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from tests.fakes.entra import EntraFake

CALLBACK_PATH = "/login/microsoft/callback"


def entra_fake(monkeypatch, public_base_url: str):
    """Yield a running fake Entra ID that the app's HTTPS clients trust."""
    fake = EntraFake(redirect_uri=public_base_url.rstrip("/") + CALLBACK_PATH).start()
    # MSAL and the ID token check both go through requests' CA bundle.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle)
    yield fake
    fake.stop()


def to_microsoft(client, start: str = "/login/microsoft") -> str:
    """Press "Sign in with Microsoft": the authorize URL the app sends the browser to."""
    started = client.get(start)
    assert started.status_code == 302, started.get_data(as_text=True)[:500]
    return started.headers["Location"]


def at_microsoft(entra: EntraFake, authorize_url: str) -> str:
    """What Entra ID sends the browser back to (path and query of the redirect URI)."""
    assert authorize_url.startswith(entra.url), authorize_url
    answer = requests.get(authorize_url, allow_redirects=False, verify=entra.ca_bundle, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.path == CALLBACK_PATH
    return f"{back.path}?{back.query}"


def round_trip(client, entra: EntraFake, start: str = "/login/microsoft"):
    """Sign in with Microsoft from ``start``; the app's answer to the callback."""
    return client.get(at_microsoft(entra, to_microsoft(client, start)))
