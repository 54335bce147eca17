"""Protections every request gets, whichever feature answers it.

- :mod:`app.security.access`: who may call each route; an undeclared route is refused.
- :mod:`app.security.bodies`: the request size limit and JSON nesting (hostile bodies).
- :mod:`app.security.headers`: Content-Security-Policy and the other response headers.
- :mod:`app.security.redaction`: secrets in query strings kept out of the logs.
- :mod:`app.security.spreadsheets`: CSV cells a spreadsheet would run as formulas.
- :mod:`app.security.outbound`: where the server may send requests (SSRF).
"""

from __future__ import annotations

from flask import Flask

from app.security import access, bodies, headers


def init_app(app: Flask) -> None:
    access.init_app(app)
    bodies.init_app(app)
    headers.init_app(app)
