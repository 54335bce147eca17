"""Partner callback deliveries per second to a local receiver, with 1 and 2 workers.

    .venv/bin/python benchmarks/partners_callbacks.py [--deliveries 4000] [--workers 1,2]

N signed partner status callbacks are written to the outbox for one partner and
committed the way the app commits them (``app.platform.transactions.commit``: the
worker is woken after the commit) while ``worker.py`` processes (first one,
then two) work them off: claim, address check, sign, POST, attempt log and
partner health. The receiver is a keep-alive HTTP server in
``--receiver-processes`` processes on 127.0.0.1 answering 200, so it is not
what limits the figure (``--receiver-check`` measures it with wrk).

Printed per round: deliveries/s from the commit to the last delivery
committed, and p50/p95 latency of one delivery from that commit to its
``delivered_at`` (a burst of N: the latency is mostly the wait in line). The
receiver counts ``webhook-id``s to show no callback went out twice.

Databases (wiped first): BENCH_CALLBACKS_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1/sb_bench_cb) and BENCH_CALLBACKS_REDIS_URL
(default redis://127.0.0.1:6379/9).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import socket
import subprocess  # noqa: S404  (runs wrk with fixed arguments)
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.orders.deliveries.outbox import record_delivery  # noqa: E402
from app.orders.deliveries.payloads import sample_callback_payload  # noqa: E402
from app.orders.partners.services import create_partner  # noqa: E402
from app.platform.extensions import db  # noqa: E402
from app.platform.models import DeliveryAttempt, OutboundDelivery, PartnerIntegration  # noqa: E402
from app.platform.models.enums import DeliveryKind, OutboundState  # noqa: E402
from app.platform.transactions import commit  # noqa: E402
from benchmarks._support import (  # noqa: E402
    CpuMeter,
    ensure_database,
    percentile,
    start_worker,
    stop_process,
    wait_for_workers,
)

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1/sb_bench_cb"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
SECRET_KEY = "bench-secret-key-for-this-run-only-0123456789"  # noqa: S105  (throwaway, 32+)
HOOK_PATH = "/hooks/chargecars"


class Receiver:
    """A partner's endpoint: ``processes`` forked HTTP servers sharing one listening socket.

    Each answers every POST with 200 over keep-alive and notes the webhook-ids
    it got; :meth:`report` adds them up. Several processes, so the partner's
    side is not what a run measures.
    """

    def __init__(self, processes: int) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0), backlog=1024)
        self.port = self.socket.getsockname()[1]
        context = multiprocessing.get_context("fork")
        self.pipes = []
        self.children = []
        for _ in range(processes):
            parent_end, child_end = context.Pipe()
            child = context.Process(target=_serve, args=(self.socket, child_end), daemon=True)
            child.start()
            self.pipes.append(parent_end)
            self.children.append(child)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{HOOK_PATH}"

    def _ask(self, command: str) -> list:
        for pipe in self.pipes:
            pipe.send(command)
        return [pipe.recv() for pipe in self.pipes]

    def reset(self) -> None:
        self._ask("reset")

    def report(self) -> tuple[int, int]:
        """Requests received and distinct webhook-ids among them."""
        answers = self._ask("report")
        ids: set[str] = set()
        for _, seen in answers:
            ids.update(seen)
        return sum(count for count, _ in answers), len(ids)

    def stop(self) -> None:
        self._ask("stop")
        for child in self.children:
            child.join(timeout=5)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, listening: socket.socket) -> None:
        super().__init__(listening.getsockname(), _Handler, bind_and_activate=False)
        self.socket.close()
        self.socket = listening
        self.lock = threading.Lock()
        self.requests = 0
        self.ids: set[str] = set()

    def handle_error(self, request, client_address) -> None:
        pass  # a client closing its keep-alive connection at the end of a run


def _serve(listening: socket.socket, pipe) -> None:
    server = _Server(listening)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    while True:
        command = pipe.recv()
        with server.lock:
            if command == "reset":
                server.requests = 0
                server.ids.clear()
                pipe.send(None)
            elif command == "report":
                pipe.send((server.requests, list(server.ids)))
            else:
                pipe.send(None)
                return


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
    parser.add_argument("--deliveries", type=int, default=4000)
    parser.add_argument("--workers", default="1,2", help="worker.py counts, one round each")
    parser.add_argument("--receiver-processes", type=int, default=2)
    parser.add_argument(
        "--receiver-check", action="store_true", help="only measure the receiver with wrk"
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds per round at most")
    args = parser.parse_args(argv)
    receiver = Receiver(args.receiver_processes)
    if args.receiver_check:
        _check_receiver(receiver)
        receiver.stop()
        return
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
        for workers in (int(n) for n in args.workers.split(",")):
            rows.append(_round(app, env, receiver, integration_id, workers, args))
    receiver.stop()
    _print_table(rows, args.deliveries)


def _round(app, env, receiver, integration_id, workers: int, args) -> dict:
    _clear_deliveries(app)
    receiver.reset()
    processes = [start_worker(env) for _ in range(workers)]
    try:
        wait_for_workers(app.extensions["broker"].connection, workers)
        time.sleep(2)  # the workers' start-up sweeps are done
        _record(integration_id, args.deliveries)
        cpu = CpuMeter()
        cpu.add("workers", pids=[p.pid for p in processes])
        cpu.add("PostgreSQL", names={"postgres"})
        cpu.add("Redis", names={"redis-server"})
        cpu.add("receiver", pids=[c.pid for c in receiver.children])
        cpu.add("benchmark", pids={os.getpid()}, descendants=False)
        cpu_before = cpu.snapshot()
        started = time.perf_counter()
        committed_at = datetime.now(timezone.utc)
        commit()  # the app's own hand-off to the workers, after the commit
        delivered = _wait_delivered(args.deliveries, started + args.timeout)
        seconds = time.perf_counter() - started
        cpu_after = cpu.snapshot()
    finally:
        for process in processes:
            stop_process(process)
    latencies = [
        (at - committed_at).total_seconds() * 1000
        for at in db.session.scalars(
            sa.select(OutboundDelivery.delivered_at).where(
                OutboundDelivery.delivered_at.is_not(None)
            )
        )
    ]
    db.session.rollback()
    requests, distinct = receiver.report()
    return {
        "workers": workers,
        "delivered": delivered,
        "seconds": seconds,
        "rate": delivered / seconds,
        "p50": percentile(latencies, 50) if latencies else float("nan"),
        "p95": percentile(latencies, 95) if latencies else float("nan"),
        "requests": requests,
        "distinct": distinct,
        "cpu": {name: (cpu_after[name] - cpu_before[name]) * 1000 / max(1, delivered)
                for name in cpu_after},
    }


def _record(integration_id, count: int) -> None:
    """Add ``count`` callbacks to the session; the timed part commits them."""
    integration = db.session.get(PartnerIntegration, integration_id)
    payload = sample_callback_payload(integration)
    for n in range(count):
        payload = {**payload, "event": "status_changed", "partner_order_id": f"BENCH-{n:06d}"}
        record_delivery(
            DeliveryKind.PARTNER_CALLBACK,
            target_url=integration.webhook_url,
            event_type="status_changed",
            payload=payload,
            integration=integration,
        )
    db.session.flush()


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


def _check_receiver(receiver: Receiver) -> None:
    """Requests/s the receiver answers (wrk, 2 threads, 32 keep-alive connections)."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\nwrk.body = \'{"event":"status_changed"}\'\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            'wrk.headers["webhook-id"] = "msg_check"\n'
        )
    try:
        output = subprocess.run(  # noqa: S603
            ["wrk", "-t2", "-c32", "-d5s", "-s", script.name, receiver.url],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    print(output)


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
    header = ("workers", "delivered", "seconds", "deliveries/s", "p50 ms", "p95 ms", "sent twice")
    print("  ".join(f"{h:>12}" for h in header))
    for row in rows:
        print(
            f"{row['workers']:>12}  {row['delivered']:>12}  {row['seconds']:>12.1f}  "
            f"{row['rate']:>12.1f}  {row['p50']:>12.0f}  {row['p95']:>12.0f}  "
            f"{row['requests'] - row['distinct']:>12}"
        )
    print("CPU per callback, ms (2 cores give 2,000 ms a second: 800/s leaves 2.5 ms each)")
    for row in rows:
        cells = ", ".join(f"{name} {ms:.2f}" for name, ms in row["cpu"].items())
        print(f"  {row['workers']} worker(s): {cells}; all {sum(row['cpu'].values()):.2f}")
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
