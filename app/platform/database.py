"""Declarative base, column types and mixins shared by every model."""

from __future__ import annotations

import select
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB

# Stable constraint names, so Alembic can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON documents: JSONB on PostgreSQL (indexable, compact), plain JSON elsewhere.
JSONDocument = sa.JSON().with_variant(JSONB(), "postgresql")


# How far the clock has been moved on: always nothing, except in a test that moves
# it instead of sleeping (the ``clock`` fixture, tests/conftest.py). Every "now" of
# the app's own (leases, holds, SLA deadlines, sweeps) is ``utcnow()``.
_moved_on = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(timezone.utc) + _moved_on


class UTCDateTime(sa.TypeDecorator):
    """A timezone-aware UTC timestamp on every backend.

    SQLite has no timezone type and hands back naive values; attaching UTC on
    the way out means comparisons with ``utcnow()`` never mix naive and aware.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use utcnow()")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def upsert_insert(model, dialect: str):
    """An INSERT into ``model`` that offers ``on_conflict_do_update``/``_nothing``.

    Both databases the app runs on have ``INSERT … ON CONFLICT``; SQLAlchemy
    spells it per dialect, so callers pass the session's dialect name.
    """
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def insert_unless_taken(
    table: sa.Table, conflict: tuple[str, ...], returning: str
) -> sa.TextClause:
    """``INSERT`` of every column of ``table`` ``… ON CONFLICT (conflict) DO NOTHING
    RETURNING returning``, as a statement SQLAlchemy compiles once.

    For statements run with every new customer: the dialects' ``insert()`` has no
    cache key (``postgresql.Insert`` sets ``inherit_cache = False`` for its
    ``ON CONFLICT`` clauses), so SQLAlchemy compiled it anew on each execution; a
    text statement is cached by its text. Both databases read this SQL the same.
    Parameters: one per column, named as the column.
    """
    names = [column.name for column in table.c]
    # Names from the model's own table, never from input.
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) "  # noqa: S608
        f"VALUES ({', '.join(':' + name for name in names)}) "
        f"ON CONFLICT ({', '.join(conflict)}) DO NOTHING RETURNING {returning}"
    )
    return (
        sa.text(sql)
        .bindparams(*(sa.bindparam(column.name, type_=column.type) for column in table.c))
        .columns(table.c[returning])
    )


HELD_LOCKS = "switchboard_held_locks"


@sa.event.listens_for(so.Session, "after_transaction_end")
def _locks_end_with_the_transaction(session: so.Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(HELD_LOCKS, None)


# SQLite (``make run``, ``make test`` without PostgreSQL) has the web threads and the
# embedded worker write to one file. In its default journal a reader blocks a writer
# and the second writer fails at once ("database is locked"); with a write-ahead log
# readers never block, and a writer waits its turn.
SQLITE_BUSY_MILLISECONDS = 10_000


@sa.event.listens_for(sa.Engine, "connect")
def _sqlite_takes_turns(dbapi_connection, _record) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MILLISECONDS}")
        cursor.close()


def hold_advisory_lock(session: so.Session, key: str) -> None:
    """Wait for, and hold until the transaction ends, the lock named ``key``.

    A PostgreSQL transaction-scoped advisory lock: transactions naming the same
    key take turns, others run in parallel, and nothing needs releasing. SQLite
    lets one writer at a time anyway, so there it is not needed.
    """
    held = session.info.setdefault(HELD_LOCKS, set())
    if key in held:
        return  # already ours in this transaction
    if session.get_bind().dialect.name == "postgresql":
        held.add(key)
        session.execute(_ADVISORY_LOCK, {"key": key})


# One statement object for the process: it works out its cache key once.
_ADVISORY_LOCK = sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


def enum_column(enum_cls, **kwargs: Any) -> sa.Enum:
    """A string-backed enum column storing the member values."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
        **kwargs,
    )


class Base(so.DeclarativeBase):
    # One registry carries both the naming convention and the type map, because
    # Flask-SQLAlchemy copies the base class and per-base maps do not survive that.
    registry = so.registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={
            datetime: UTCDateTime(),
            uuid.UUID: sa.Uuid(),
            dict[str, Any]: JSONDocument,
            list[Any]: JSONDocument,
        },
    )


class IdMixin:
    id: so.Mapped[uuid.UUID] = so.mapped_column(primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)


class Entity(IdMixin, TimestampMixin):
    """UUID primary key plus ``created_at``/``updated_at``: every table has these."""


# A pooled connection unused for this long is checked before it is handed out.
IDLE_PING_SECONDS = 10.0


def ping_when_idle(engine: sa.Engine, idle_seconds: float = IDLE_PING_SECONDS) -> None:
    """Check a pooled connection on checkout only when it has been idle a while.

    ``pool_pre_ping`` pings on every checkout, and a session checks out once per
    transaction: an inbound message's job took three or four extra round trips
    that way. A connection that was in use seconds ago is alive, unless the
    server hung up on it since (a restart: the socket then has the goodbye or the
    end of the stream to read, found by one ``poll`` that does not wait); one idle
    longer (a firewall dropping quiet connections) is pinged too, and a dead one
    is replaced before anyone uses it, as ``pool_pre_ping`` would.
    """

    @sa.event.listens_for(engine, "checkin")
    def _note_idle(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy) -> None:
        since = record.info.get("idle_since")
        recent = since is not None and time.monotonic() - since < idle_seconds
        if recent and not _hung_up(dbapi_connection, record.info):
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool drops this connection and hands out a fresh one.
            raise sa.exc.DisconnectionError(str(exc)) from exc
        if not alive:
            raise sa.exc.DisconnectionError("the connection did not answer a ping")


def _hung_up(dbapi_connection, info: dict) -> bool:
    """Whether an idle connection's socket has something to read: between
    statements the server sends nothing, unless it is saying goodbye.

    The poller is made once per connection and kept with it (``info``).
    """
    poller = info.get("hangup_poller")
    if poller is None:
        pgconn = getattr(dbapi_connection, "pgconn", None)  # psycopg; SQLite has no socket
        if pgconn is None:
            return False
        try:
            poller = select.poll()
            poller.register(pgconn.socket, select.POLLIN)
        except Exception:  # closed already (no socket): certainly not usable  # noqa: BLE001
            return True
        info["hangup_poller"] = poller
    return bool(poller.poll(0))


class DriverStatement:
    """A Core statement compiled once and run straight on a psycopg connection.

    For a statement a process runs many times a second whose cost is nearly all
    SQLAlchemy's execution around it: the inbox consumer's claim, made at every
    wake-up by every worker, took 0.38 ms of CPU through a pooled ``Connection``
    and 0.06 ms like this (psycopg prepares it after a few runs). The columns'
    types still convert the values both ways, as an execution would.
    """

    def __init__(self, statement: sa.sql.ClauseElement, dialect: sa.Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        processors = {
            compiled.bind_names[bind]: processor
            for bind in compiled.binds.values()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect))
        }
        # The values the statement holds are converted once; those given per run, each run.
        given = {bind.key for bind in compiled.binds.values() if bind.required}
        fixed = compiled.construct_params(dict.fromkeys(given))
        self._fixed = {
            name: processors[name](value) if name in processors else value
            for name, value in fixed.items()
            if name not in given
        }
        self._bind = {name: processor for name, processor in processors.items() if name in given}
        returned = statement.exported_columns if isinstance(statement, sa.ReturnsRows) else ()
        # In the order the statement returns them (asking the cursor's description
        # for them was half of a claim's CPU here).
        self._names = tuple(column.name for column in returned)
        self._result = {
            column.name: processor
            for column in returned
            if (processor := column.type.dialect_impl(dialect).result_processor(dialect, None))
        }

    def rows(self, connection, parameters: dict[str, Any]) -> list[dict[str, Any]]:
        """Run on ``connection`` (a psycopg connection); each returned row as a dict."""
        values = {**self._fixed, **parameters}
        for name, processor in self._bind.items():
            values[name] = processor(values[name])
        cursor = connection.execute(self.sql, values)
        if not self._names:
            return []
        found = []
        for row in cursor.fetchall():
            record = dict(zip(self._names, row, strict=True))
            for name, processor in self._result.items():
                record[name] = processor(record[name])
            found.append(record)
        return found


def without_waiting_for_disk(statement: sa.Update, dialect: str) -> sa.Update:
    """``statement``, made to say that its transaction's commit returns before its WAL
    reaches the disk.

    For a transaction whose loss in a database crash (at most the last ~0.6 s,
    whole transactions, never half of one) something else makes good, and which
    is still seen by every other session the moment it commits. Waiting for the
    disk was most of an inbound message's cost: two commits per message, each a
    WAL flush (several ms on a busy machine). The event itself was stored durably
    before the provider got its 200; its claim and its processing, taken back,
    leave it ``received`` or ``processing``, which the stalled-event sweep
    processes again, the message's unique key keeping it single. A send's claim
    taken back leaves its message pending for the stalled-send sweep. Any later
    ordinary commit (an automatic answer, a send's result) flushes the WAL up to
    itself, so nothing that depends on these outlives them. Only these
    transactions: every other commit of the app still waits for the disk.

    The setting is made by the statement itself (``set_config(…, true)`` in its
    ``RETURNING``, as ``SET LOCAL`` would, for this transaction only; PostgreSQL
    reads it at the commit), which saves a round trip per transaction. It is said
    once per returned row, so a statement that touches nothing leaves the setting as
    it was: its transaction has nothing of it to commit.
    """
    if dialect != "postgresql":
        return statement
    return statement.returning(sa.func.set_config("synchronous_commit", "off", True))
