"""Where an inbound WhatsApp message's job spends its time, in one process.

    .venv/bin/python benchmarks/inbound_profile.py [--messages 300] [--new-share 0.3]
                                                   [--batch 1] [--aged] [--cprofile 25] [--reuse]

Stores signed Meta text-message events as the webhook does (one row each, no
HTTP, no queue), a pool of 200 senders with an open conversation first, then
runs the webhook job (``app.platform.webhooks.processing.process_event``) on each event
in turn, in its own app context as a worker would, listeners included; with
``--batch N`` the batch job (``process_events``) on N events at a time, as a
worker's consumer claims them under load. Prints the job's wall time per message
(p50/p95) and the CPU time this process spent on it (steadier than wall time
on a busy machine: it leaves out waiting for PostgreSQL and Redis), the SQL
statements, commits, connection checkouts, PostgreSQL round trips (statements
plus transaction commands) and Redis round trips per message,
the statements by kind, and with ``--cprofile N`` the N functions with the
most time of their own.

``--aged`` dates the 200 open conversations two days back, as a steady
customer's usually is: a message then touches a past day's analytics roll-up,
which a conversation opened today does not.

No RQ and no second process: the figures are the job's own cost, without the
queue's per-job overhead, which ``benchmarks/e2e.py`` measures from outside.

Databases (wiped first; ``--reuse`` keeps the schema): BENCH_DATABASE_URL
(default postgresql+psycopg://postgres@127.0.0.1:5432/sb_bench_inbound_profile)
and BENCH_REDIS_URL (default redis://127.0.0.1:6379/13).
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import os
import pstats
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg._connection_base  # noqa: E402
import redis  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.platform.extensions import db  # noqa: E402
from app.platform.transactions import commit  # noqa: E402
from app.platform.webhooks import processing  # noqa: E402
from app.platform.webhooks.recording import body_digest, record_event  # noqa: E402
from benchmarks._support import ensure_database, percentile  # noqa: E402
from tests.fakes.whatsapp import (  # noqa: E402
    ACCESS_TOKEN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    contact,
    signed,
    text_message,
    webhook,
)

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/sb_bench_inbound_profile"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
POOL = 200
TEXTS = (
    "Hallo, mijn laadpaal geeft een rood lampje en laadt niet.",
    "Wanneer komt de monteur langs voor de installatie?",
    "Wat is de status van mijn bestelling?",  # the order-status answer looks for an order
    "Bedankt, tot morgen!",
)


class Tally:
    """Statements, commits and checkouts on every engine, counted while ``on``."""

    def __init__(self) -> None:
        self.on = False
        self.statements = 0
        self.commits = 0
        self.checkouts = 0
        self.redis = 0
        self.commands = 0
        self.kinds: collections.Counter[str] = collections.Counter()
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", self._statement)
        sa.event.listen(sa.engine.Engine, "commit", self._commit)
        sa.event.listen(sa.pool.Pool, "checkout", self._checkout)
        # Every Redis command or pipeline goes out through one packed send.
        send = redis.connection.AbstractConnection.send_packed_command
        tally = self

        def counted(connection, command, check_health=True):
            if tally.on:
                tally.redis += 1
            return send(connection, command, check_health)

        redis.connection.AbstractConnection.send_packed_command = counted
        # BEGIN, COMMIT, ROLLBACK and savepoints go to PostgreSQL as commands of
        # their own, outside the statement events: each is a round trip too.
        exec_command = psycopg._connection_base.BaseConnection._exec_command

        def counted_command(connection, *args, **kwargs):
            if tally.on:
                tally.commands += 1
            return exec_command(connection, *args, **kwargs)

        psycopg._connection_base.BaseConnection._exec_command = counted_command

    def _statement(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.on:
            self.statements += 1
            self.kinds[" ".join(statement.split())[:100]] += 1

    def _commit(self, conn) -> None:
        if self.on:
            self.commits += 1

    def _checkout(self, dbapi_connection, record, proxy) -> None:
        if self.on:
            self.checkouts += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--new-share", type=float, default=0.3, help="share of first-time senders")
    parser.add_argument("--cprofile", type=int, default=0, help="print the N costliest functions")
    parser.add_argument("--batch", type=int, default=1, help="events per job (process_events)")
    parser.add_argument("--aged", action="store_true", help="open conversations from 2 days ago")
    parser.add_argument("--reuse", action="store_true", help="keep the schema")
    args = parser.parse_args()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    ensure_database(database_url)
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS),
            "SECRET_KEY": uuid.uuid4().hex,
            "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "WHATSAPP_APP_SECRET": APP_SECRET,
            "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            # Nothing listens on port 9: an automatic answer's send job is only queued.
            "WHATSAPP_API_BASE": "http://127.0.0.1:9/",
        }
    )
    app = create_app(start_embedded_worker=False)
    rng = random.Random(2026)
    with app.app_context():
        if not args.reuse:
            db.session.execute(sa.text("DROP SCHEMA public CASCADE"))
            db.session.execute(sa.text("CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        app.extensions["broker"].connection.flushdb()
        run = uuid.uuid4().hex[:6]
        pool = [f"3161{n:07d}" for n in range(POOL)]
        opened = time.time() - (2 * 86400 if args.aged else 0)
        seeded = [_store(phone, f"{run}s{n}", rng, opened) for n, phone in enumerate(pool)]
        commit()
    for event_id in seeded:
        _process(app, [event_id])
    with app.app_context():
        events = []
        for n in range(args.messages):
            if rng.random() < args.new_share:
                phone = f"3162{rng.randrange(10**7):07d}"
            else:
                phone = rng.choice(pool)
            events.append(_store(phone, f"{run}m{n}", rng))
        commit()

    tally = Tally()
    profile = cProfile.Profile() if args.cprofile else None
    seconds = []
    cpu_seconds = []
    size = max(1, args.batch)
    for start in range(0, len(events), size):
        batch = events[start : start + size]
        tally.on = True
        started, cpu_started = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        _process(app, batch)
        if profile:
            profile.disable()
        # A batch's time shared by its messages: the job's cost per message.
        seconds.extend([(time.perf_counter() - started) / len(batch)] * len(batch))
        cpu_seconds.extend([(time.process_time() - cpu_started) / len(batch)] * len(batch))
        tally.on = False
    count = len(events)
    print(
        f"{count} messages ({args.new_share:.0%} first-time senders), "
        f"{'one at a time' if size == 1 else f'{size} a job'}{', aged' if args.aged else ''}: "
        f"job p50 {statistics.median(seconds) * 1000:.1f} ms, "
        f"p95 {percentile(seconds, 95) * 1000:.1f} ms (CPU of this process "
        f"{statistics.median(cpu_seconds) * 1000:.1f} / "
        f"{percentile(cpu_seconds, 95) * 1000:.1f} ms); "
        "per message "
        f"{tally.statements / count:.1f} statements, {tally.commits / count:.1f} commits, "
        f"{tally.checkouts / count:.1f} connection checkouts, "
        f"{(tally.statements + tally.commands) / count:.1f} PostgreSQL and "
        f"{tally.redis / count:.2f} Redis round trips; load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    print("\nstatements per message, by kind")
    for statement, n in tally.kinds.most_common(40):
        print(f"{n / count:6.2f}  {statement}")
    if profile:
        print()
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.cprofile)


def _store(phone: str, key: str, rng: random.Random, at: float | None = None) -> str:
    sent = int(at if at is not None else time.time())
    payload = webhook(
        messages=[text_message(phone, rng.choice(TEXTS), f"wamid.{key}", sent)],
        contacts=[contact(phone, f"Klant {phone[-5:]}")],
    )
    body, _ = signed(payload, APP_SECRET)
    event, _ = record_event(
        "whatsapp", body_digest(body), body, event_type="message", headers={}, process=False
    )
    return str(event.id)


def _process(app, event_ids: list[str]) -> None:
    with app.app_context():
        try:
            if len(event_ids) == 1:
                processing.process_event(event_ids[0])
            else:
                processing.process_events(event_ids)
        finally:
            db.session.remove()


if __name__ == "__main__":
    main()
