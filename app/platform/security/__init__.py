"""Protections every request gets, whichever feature answers it.

- :mod:`app.platform.security.access`: who may call each route; an undeclared route is refused.
- :mod:`app.platform.security.bodies`: the request size limit and JSON nesting (hostile bodies).
- :mod:`app.platform.security.headers`: Content-Security-Policy and the other response headers.
- :mod:`app.platform.security.redaction`: secrets in query strings kept out of the logs.
- :mod:`app.platform.security.spreadsheets`: CSV cells a spreadsheet would run as formulas.
- :mod:`app.platform.security.outbound`: where the server may send requests (SSRF).
"""

from __future__ import annotations

from flask import Flask

from app.platform.security import access, bodies, headers


def init_app(app: Flask) -> None:
    access.init_app(app)
    bodies.init_app(app)
    headers.init_app(app)
