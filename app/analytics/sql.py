"""Dialect-neutral SQL pieces the analytics queries need.

Durations and local (Amsterdam) calendar days have to be computed inside the
database, so each figure stays one ``GROUP BY`` however many rows it covers.
PostgreSQL has the functions built in; SQLite (the test database) gets small
Python functions registered on its connection by :func:`prepare_connection`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.platform.extensions import db

ZONE_NAME = "Europe/Amsterdam"
ZONE = ZoneInfo(ZONE_NAME)


class seconds_between(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """Wall-clock seconds from ``start`` to ``end`` (two timestamp columns)."""

    type = sa.Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "postgresql")
def _seconds_between_pg(element, compiler, **kw):
    end, start = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    end, start = list(element.clauses)
    # julianday() is a float of days: round off its sub-millisecond noise.
    return (
        f"round((julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)})) * 86400.0, 3)"
    )


class local_date(FunctionElement):  # noqa: N801
    """The Amsterdam calendar day of a UTC timestamp column."""

    type = sa.Date()
    inherit_cache = True
    name = "local_date"


@compiles(local_date, "postgresql")
def _local_date_pg(element, compiler, **kw):
    (value,) = list(element.clauses)
    return f"CAST(timezone('{ZONE_NAME}', {compiler.process(value, **kw)}) AS DATE)"


@compiles(local_date, "sqlite")
def _local_date_sqlite(element, compiler, **kw):
    (value,) = list(element.clauses)
    return f"sb_local_date({compiler.process(value, **kw)})"


class local_clock(FunctionElement):  # noqa: N801
    """The Amsterdam wall-clock time of a UTC timestamp as ``HH:MM`` text."""

    type = sa.String()
    inherit_cache = True
    name = "local_clock"


@compiles(local_clock, "postgresql")
def _local_clock_pg(element, compiler, **kw):
    (value,) = list(element.clauses)
    return f"to_char(timezone('{ZONE_NAME}', {compiler.process(value, **kw)}), 'HH24:MI')"


@compiles(local_clock, "sqlite")
def _local_clock_sqlite(element, compiler, **kw):
    (value,) = list(element.clauses)
    return f"sb_local_clock({compiler.process(value, **kw)})"


def _sqlite_local(value: str | None, fmt: str) -> str | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(ZONE).strftime(fmt)


def prepare_connection() -> None:
    """Ready the transaction for analytics: SQLite's local-time functions, no JIT on PostgreSQL.

    Registered on the session's current connection before the queries run;
    registering again is harmless and costs microseconds.
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # These are short aggregate scans: JIT compilation (triggered by their
        # row estimates) costs more than it saves, up to 150 ms a query.
        connection.exec_driver_sql("SET LOCAL jit = off")
        return
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    raw.create_function(
        "sb_local_date", 1, lambda v: _sqlite_local(v, "%Y-%m-%d"), deterministic=True
    )
    raw.create_function(
        "sb_local_clock", 1, lambda v: _sqlite_local(v, "%H:%M"), deterministic=True
    )
