"""Recording how providers answer, for the channels page and for alerts."""

from __future__ import annotations

import sqlalchemy as sa

from app.database import utcnow
from app.extensions import db
from app.models import ProviderStatus


def _status(provider: str) -> ProviderStatus:
    status = db.session.scalar(sa.select(ProviderStatus).where(ProviderStatus.provider == provider))
    if status is None:
        status = ProviderStatus(provider=provider, consecutive_failures=0, unhealthy=False)
        db.session.add(status)
    return status


def record_success(provider: str) -> None:
    status = _status(provider)
    status.last_success_at = utcnow()
    status.consecutive_failures = 0
    status.unhealthy = False


def record_failure(provider: str, message: str, *, unhealthy: bool = False) -> ProviderStatus:
    """Note a failed call. Secrets never belong in ``message``: pass the provider's words."""
    status = _status(provider)
    status.last_error_at = utcnow()
    status.last_error_message = message[:2000]
    status.consecutive_failures += 1
    status.unhealthy = status.unhealthy or unhealthy
    return status


def statuses() -> dict[str, ProviderStatus]:
    rows = db.session.scalars(sa.select(ProviderStatus)).all()
    return {row.provider: row for row in rows}
