"""What the readiness probe asks of the process's dependencies."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from app.platform.extensions import db

log = logging.getLogger(__name__)


def database_answers() -> bool:
    """Whether the database answers a ``SELECT 1``; a failed session is rolled back."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any driver error means "not ready", reported by the caller
        log.warning("readiness: database unreachable: %s", exc)
        db.session.rollback()
        return False
    return True
