"""Protections every request gets, whichever feature answers it.

- :mod:`app.security.bodies`: the request size limit and JSON nesting (hostile bodies).
"""

from __future__ import annotations

from flask import Flask

from app.security import bodies


def init_app(app: Flask) -> None:
    bodies.init_app(app)
