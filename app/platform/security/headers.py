"""Security headers on every response, set in one place.

The Content-Security-Policy allows nothing inline: no ``<script>`` blocks, no
event-handler attributes, no ``style=""`` attributes (the pages use classes from
``static/css``; htmx's injected indicator style is turned off by the
``htmx-config`` meta tag of ``base.html`` and lives in ``app.css``). Scripts,
styles, fonts and fetches come from our own origin; ``'self'`` also covers the
same-origin ``ws:``/``wss:`` of Socket.IO (CSP level 3). Images may also be
``data:`` and ``blob:`` (previews of files chosen in the composer).

``form-action`` is ``'self'`` plus the providers a form may lead to: Chromium
checks a form post's redirects too, so "Connect" on an integration, which posts
to us and is redirected to the provider's authorize page, needs that origin.
Every such URL is a setting ending in ``_AUTHORIZE_URL`` or ``_AUTHORITY``.

A route may set its own policy (attachments: a sandbox) or its own
``Cache-Control``; everything else that is not a static file is ``no-store``,
as nearly every page and API answer carries customers' data.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, current_app, request

# Browsers must stay on https for a year once they have seen it over https.
HSTS = "max-age=31536000"
PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"
REDIRECTING_URL_SUFFIXES = ("_AUTHORIZE_URL", "_AUTHORITY")

CSP_DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
)


@lru_cache(maxsize=32)
def content_security_policy(form_target_urls: tuple[str | None, ...]) -> str:
    """The policy, with the origins of ``form_target_urls`` allowed to receive forms."""
    origins = set()
    for url in form_target_urls:
        parts = urlsplit(url or "")
        if parts.scheme in ("http", "https") and parts.netloc:
            origins.add(f"{parts.scheme}://{parts.netloc}")
    form_action = " ".join(("form-action 'self'", *sorted(origins)))
    return "; ".join((*CSP_DIRECTIVES, form_action))


def add_security_headers(response):
    headers = response.headers
    config = current_app.config
    urls = tuple(config.get(key) for key in current_app.extensions["form_target_settings"])
    policy = content_security_policy(urls)
    headers.setdefault("Content-Security-Policy", policy)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    if request.is_secure:  # behind the load balancer, as ProxyFix reports it
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static":
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    # Which settings name such pages is fixed; their values are read per request
    # (a test may point one at a fake after the app is built).
    app.extensions["form_target_settings"] = tuple(
        key for key in app.config if key.endswith(REDIRECTING_URL_SUFFIXES)
    )
    app.after_request(add_security_headers)
