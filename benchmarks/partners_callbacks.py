"""Partner callback deliveries per second to a local receiver, with 1 and 2 workers.

    .venv/bin/python benchmarks/partners_callbacks.py [--deliveries 2000]

N signed seed 002 callbacks are written to the outbox for one partner whose
webhook is a threaded HTTP server on 127.0.0.1 answering 200, then their jobs
are queued while ``worker.py`` processes (first one, then two) work them off:
claim, address check, sign, POST, attempt log and partner health, each in its
own commits. The figure is deliveries/s from the first job queued to the last
delivery committed. The receiver counts distinct ``webhook-id``s to show no
callback went out twice.

Databases (wiped first): BENCH_CALLBACKS_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1/sb_bench_cb) and BENCH_CALLBACKS_REDIS_URL
(default redis://127.0.0.1:6379/9).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.deliveries.outbox import DELIVER_JOB, QUEUE, record_delivery  # noqa: E402
from app.deliveries.payloads import sample_callback_payload  # noqa: E402
from app.extensions import db  # noqa: E402
from app.jobs.queues import enqueue  # noqa: E402
from app.models import DeliveryAttempt, OutboundDelivery, PartnerIntegration  # noqa: E402
from app.models.enums import DeliveryKind, OutboundState  # noqa: E402
from app.partners.services import create_partner  # noqa: E402
from benchmarks._support import (  # noqa: E402
    ensure_database,
    start_worker,
    stop_process,
    wait_for_workers,
)

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1/sb_bench_cb"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
SECRET_KEY = "bench-secret-key"  # noqa: S105  (a throwaway key for this run)


class Receiver(ThreadingHTTPServer):
    """Answers every POST with 200 and notes the webhook-id (keep-alive, like a partner)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.requests = 0
        self.ids: set[str] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/hooks/chargecars"

    def reset(self) -> None:
        with self.lock:
            self.requests = 0
            self.ids.clear()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without this, Nagle plus the
    # client's delayed ACK add 40 ms to every keep-alive request.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.requests += 1
            self.server.ids.add(self.headers.get("webhook-id", ""))
        body = b'{"received":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=600, help="seconds per round at most")
    args = parser.parse_args(argv)
    database_url = os.environ.get("BENCH_CALLBACKS_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_CALLBACKS_REDIS_URL", DEFAULT_REDIS)
    encryption_key = Fernet.generate_key().decode()
    ensure_database(database_url)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": SECRET_KEY,
            "ENCRYPTION_KEYS": encryption_key,
            "ALLOW_PRIVATE_WEBHOOK_URLS": True,
        },
        start_embedded_worker=False,
    )
    receiver = Receiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=SECRET_KEY,
        ENCRYPTION_KEYS=encryption_key,
        ALLOW_PRIVATE_WEBHOOK_URLS="1",
        PYTHONPATH=str(ROOT),
    )
    rows = []
    with app.app_context():
        _rebuild(app)
        integration_id = create_partner("Bench Partner", webhook_url=receiver.url).integration.id
        db.session.commit()
        for workers in (1, 2):
            rows.append(_round(app, env, receiver, integration_id, workers, args))
    receiver.shutdown()
    _print_table(rows, args.deliveries)


def _round(app, env, receiver, integration_id, workers: int, args) -> dict:
    _clear_deliveries(app)
    receiver.reset()
    processes = [start_worker(env) for _ in range(workers)]
    try:
        wait_for_workers(app.extensions["broker"].connection, workers)
        ids = _record(integration_id, args.deliveries)
        started = time.perf_counter()
        for delivery_id in ids:
            enqueue(DELIVER_JOB, delivery_id, queue=QUEUE)
        delivered = _wait_delivered(args.deliveries, started + args.timeout)
        seconds = time.perf_counter() - started
    finally:
        for process in processes:
            stop_process(process)
    return {
        "workers": workers,
        "delivered": delivered,
        "seconds": seconds,
        "rate": delivered / seconds,
        "requests": receiver.requests,
        "distinct": len(receiver.ids),
    }


def _record(integration_id, count: int) -> list[str]:
    """Write ``count`` callbacks with a plain commit: the timed loop queues their jobs."""
    integration = db.session.get(PartnerIntegration, integration_id)
    payload = sample_callback_payload(integration)
    ids = []
    for n in range(count):
        payload = {**payload, "event": "status_changed", "partner_order_id": f"BENCH-{n:06d}"}
        delivery = record_delivery(
            DeliveryKind.PARTNER_CALLBACK,
            target_url=integration.webhook_url,
            event_type="status_changed",
            payload=payload,
            integration=integration,
        )
        ids.append(str(delivery.id))
    db.session.commit()  # not transactions.commit(): nothing is queued yet
    return ids


def _wait_delivered(expected: int, deadline: float) -> int:
    delivered = 0
    while time.perf_counter() < deadline:
        delivered = db.session.scalar(
            sa.select(sa.func.count(OutboundDelivery.id)).where(
                OutboundDelivery.state == OutboundState.DELIVERED
            )
        )
        db.session.rollback()
        if delivered >= expected:
            break
        time.sleep(0.05)
    return delivered


def _rebuild(app) -> None:
    db.session.execute(sa.text("DROP SCHEMA public CASCADE"))
    db.session.execute(sa.text("CREATE SCHEMA public"))
    db.session.commit()
    upgrade()
    app.extensions["broker"].connection.flushdb()


def _clear_deliveries(app) -> None:
    db.session.execute(sa.delete(DeliveryAttempt))
    db.session.execute(sa.delete(OutboundDelivery))
    db.session.commit()
    app.extensions["broker"].connection.flushdb()


def _print_table(rows: list[dict], expected: int) -> None:
    print(f"\nCallback deliveries to a local receiver ({expected} per round, PostgreSQL + Redis)")
    header = ("workers", "delivered", "seconds", "deliveries/s", "sent twice")
    print(f"{header[0]:>7}  {header[1]:>9}  {header[2]:>7}  {header[3]:>12}  {header[4]:>10}")
    for row in rows:
        print(
            f"{row['workers']:>7}  {row['delivered']:>9}  {row['seconds']:>7.1f}  "
            f"{row['rate']:>12.1f}  {row['requests'] - row['distinct']:>10}"
        )


if __name__ == "__main__":
    main()
