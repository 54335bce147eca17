"""Recording how providers answer, for the channels page and for alerts."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.platform.database import upsert_insert, utcnow
from app.platform.extensions import db
from app.platform.models import ProviderStatus
from app.platform.transactions import after_commit


def _status(provider: str) -> ProviderStatus:
    status = db.session.scalar(sa.select(ProviderStatus).where(ProviderStatus.provider == provider))
    if status is None:
        status = ProviderStatus(provider=provider, consecutive_failures=0, unhealthy=False)
        db.session.add(status)
    return status


# A success younger than this is not written again: the channels page shows
# minutes, and every send of a busy provider would otherwise queue on one row.
SUCCESS_RESOLUTION = timedelta(minutes=1)
# A process that noted a success this long ago does not ask PostgreSQL again: with a
# busy provider every send asked twice (the UPDATE finding the row fresh, then the
# INSERT finding it there), 2 of a send's ~15 round trips. Noted per app once the
# caller's commit holds it, forgotten at this process's own failure; a failure
# another process noted is cleared by this one's success at most this much later.
SUCCESS_MEMO = timedelta(seconds=30)


def record_success(provider: str) -> None:
    """Note a successful call (real or sandbox), in the caller's transaction.

    Race-safe without select-then-insert: a conditional UPDATE (which leaves a
    fresh, healthy row untouched and unlocked), else an INSERT that yields to a
    row another process made first.
    """
    now = utcnow()
    noted = _noted_successes()
    if noted.fresh(provider, now):
        return
    failures = noted.failures[provider]
    table = ProviderStatus.__table__
    updated = db.session.execute(
        sa.update(table)
        .where(
            table.c.provider == provider,
            sa.or_(
                table.c.last_success_at.is_(None),
                table.c.last_success_at < now - SUCCESS_RESOLUTION,
                table.c.consecutive_failures > 0,
                table.c.unhealthy.is_(True),
            ),
        )
        .values(last_success_at=now, consecutive_failures=0, unhealthy=False, updated_at=now)
    )
    if updated.rowcount == 0:
        db.session.execute(
            upsert_insert(ProviderStatus, db.engine.dialect.name)
            .values(
                id=uuid.uuid4(),
                created_at=now,
                updated_at=now,
                provider=provider,
                last_success_at=now,
                consecutive_failures=0,
                unhealthy=False,
            )
            .on_conflict_do_nothing(index_elements=["provider"])
        )
    # Rows of this table already in the session would show the old state.
    for instance in db.session.identity_map.values():
        if isinstance(instance, ProviderStatus) and instance.provider == provider:
            db.session.expire(instance)
    after_commit(lambda: noted.note(provider, now, failures))


class _NotedSuccesses:
    """When this process last saw each provider's success committed, and how many
    failures it has noted of each: a success is kept only if no failure came between
    its write and its commit (a failure's own commit may come later)."""

    def __init__(self) -> None:
        self.at: dict[str, datetime] = {}
        self.failures: Counter[str] = Counter()

    def fresh(self, provider: str, now: datetime) -> bool:
        at = self.at.get(provider)
        return at is not None and now - at < SUCCESS_MEMO

    def note(self, provider: str, at: datetime, failures_then: int) -> None:
        if self.failures[provider] == failures_then:
            self.at[provider] = at

    def forget(self, provider: str) -> None:
        self.failures[provider] += 1
        self.at.pop(provider, None)


def _noted_successes() -> _NotedSuccesses:
    return current_app.extensions.setdefault("provider_successes", _NotedSuccesses())


def record_failure(provider: str, message: str, *, unhealthy: bool = False) -> ProviderStatus:
    """Note a failed call. Secrets never belong in ``message``: pass the provider's words."""
    _noted_successes().forget(provider)  # the next success writes again
    status = _status(provider)
    status.last_error_at = utcnow()
    status.last_error_message = message[:2000]
    status.consecutive_failures += 1
    status.unhealthy = status.unhealthy or unhealthy
    return status


def statuses() -> dict[str, ProviderStatus]:
    rows = db.session.scalars(sa.select(ProviderStatus)).all()
    return {row.provider: row for row in rows}
