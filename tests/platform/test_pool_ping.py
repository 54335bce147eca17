"""Pooled connections are pinged only after idling, and a dead one is replaced unseen."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.platform.database import ping_when_idle
from tests.conftest import TEST_DATABASE_URL

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="needs PostgreSQL to end a connection (CI runs it)"
)


def _engine(idle_seconds: float) -> sa.Engine:
    engine = sa.create_engine(TEST_DATABASE_URL, pool_size=1, max_overflow=0)
    ping_when_idle(engine, idle_seconds=idle_seconds)
    return engine


def _backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.text("SELECT pg_backend_pid()"))


def _end_backend(pid: int) -> None:
    killer = sa.create_engine(TEST_DATABASE_URL, poolclass=sa.pool.NullPool)
    with killer.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    killer.dispose()


def test_a_connection_that_died_while_idle_is_replaced_before_use():
    engine = _engine(idle_seconds=0)
    try:
        first = _backend_pid(engine)
        _end_backend(first)  # a database restart, a firewall dropping quiet connections
        assert _backend_pid(engine) != first  # no error reached the caller
    finally:
        engine.dispose()


def test_a_connection_in_use_moments_ago_is_handed_out_without_a_ping():
    engine = _engine(idle_seconds=60)
    sent: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    pings = []
    original = engine.dialect.do_ping
    engine.dialect.do_ping = lambda connection: pings.append(1) or original(connection)
    try:
        _backend_pid(engine)  # a new connection: pinged once
        _backend_pid(engine)
        _backend_pid(engine)
        assert len(pings) == 1
        assert sent == ["SELECT pg_backend_pid()"] * 3
    finally:
        engine.dispose()
