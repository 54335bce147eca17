"""Soak: the deployment at a steady rate for a long while.

    .venv/bin/python benchmarks/soak.py [--rate 30] [--minutes 30] [--window-minutes 5]

Deploys as ``benchmarks/e2e.py`` does (gunicorn for pages and Socket.IO, a second
gunicorn for the webhooks, two ``worker.py``, PostgreSQL, Redis, a fake Graph API)
and posts the steady mix of signed WhatsApp messages (70 % repeat senders, 30 %
new) at ``--rate`` a second, open loop, for ``--minutes``. Each message is timed
from its POST to its ``message:new`` on a manager's Socket.IO connection.

Prints, for each window of ``--window-minutes``: messages, p50 and p95 delivery
time, missing messages and PostgreSQL's connection count; and the resident memory
of every process after warm-up and at the end, with the growth. Memory should
grow less than 10 % after warm-up and p95 should not drift.

Databases as in e2e.py: BENCH_DATABASE_URL, BENCH_REDIS_URL (wiped first).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from app import create_app  # noqa: E402
from app.platform.extensions import db  # noqa: E402
from benchmarks._support import (  # noqa: E402
    CpuMeter,
    ensure_database,
    gunicorn,
    percentile,
    resident_kib,
    start_worker,
    stop_process,
    wait_for_workers,
)
from benchmarks.e2e import (  # noqa: E402
    DEFAULT_DB,
    DEFAULT_REDIS,
    MANAGER_EMAIL,
    MANAGER_PASSWORD,
    Listener,
    Poster,
    Senders,
    open_desk,
    pages_server,
    prepare,
    warm_up,
)
from tests.fakes.whatsapp import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, FakeWhatsApp  # noqa: E402
from tests.support.live_server import signed_in_session  # noqa: E402

# Messages are made and posted in chunks of this many seconds.
CHUNK_SECONDS = 10
# A message not arrived this long after its POST counts as missing in its window.
DRAIN_SECONDS = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=30, help="messages a second")
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--window-minutes", type=float, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--senders", type=int, default=500, help="pool of repeat senders")
    args = parser.parse_args()
    args.reuse, args.new_share, args.agents = False, 0.3, 0  # what e2e.prepare reads
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    ensure_database(database_url)

    scratch = Path(tempfile.mkdtemp(prefix="soak-"))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    fake = FakeWhatsApp().start()
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": uuid.uuid4().hex,
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SWITCHBOARD_INSTANCE_PATH": str(scratch),
        "ATTACHMENTS_DIR": str(scratch / "attachments"),
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "WHATSAPP_API_BASE": fake.url,
    }
    os.environ.update(env)
    app = create_app(start_embedded_worker=False)
    with app.app_context():
        fresh_from = prepare(app, args)
        open_desk(True)
    senders = Senders(args.senders, args.new_share, fresh_from)

    with contextlib.ExitStack() as stack:
        pages = stack.enter_context(pages_server("gevent", env))
        hooks = stack.enter_context(gunicorn("wsgi:app", 3, 4, env))
        worker_env = dict(os.environ, PYTHONPATH=str(ROOT))
        workers = []
        for _ in range(args.workers):
            process = start_worker(worker_env, log=scratch / "worker.log")
            stack.callback(stop_process, process)
            workers.append(process.pid)
        groups = CpuMeter()
        groups.add("webhooks gunicorn", marker=hooks.removeprefix("http://"))
        groups.add("pages gunicorn", marker=pages.removeprefix("http://"))
        groups.add("worker.py", pids=workers)
        groups.add("PostgreSQL", names={"postgres"})
        groups.add("Redis", names={"redis-server"})
        wait_for_workers(app.extensions["broker"].connection, args.workers)
        listener = Listener(
            pages, signed_in_session(pages, MANAGER_EMAIL, MANAGER_PASSWORD), scratch / "socket.log"
        )
        stack.callback(listener.close)
        poster = Poster(f"{hooks}/api/v1/webhooks/whatsapp")
        stack.callback(poster.close)
        print(
            f"soak: {args.rate:g} msg/s for {args.minutes:g} min, windows of "
            f"{args.window_minutes:g} min; logs in {scratch}"
        )
        warm_up(poster, listener, senders.messages(f"{uuid.uuid4().hex[:6]}w", 50))
        before = memory(groups)

        windows = max(1, round(args.minutes / args.window_minutes))
        chunks = max(1, round(args.window_minutes * 60 / CHUNK_SECONDS))
        posted_in: list[list] = []
        print(f"{'window':>8} {'messages':>9} {'p50':>7} {'p95':>7} {'missing':>8} {'db conns':>9}")
        for window in range(windows):
            messages = []
            for chunk in range(chunks):
                batch = senders.messages(
                    f"s{window:02d}{chunk:03d}", int(args.rate * CHUNK_SECONDS)
                )
                poster.send(batch, args.rate)
                messages.extend(batch)
            posted_in.append(messages)
            report_window(window, args.window_minutes, messages, listener, app)
        # The last window's stragglers.
        deadline = time.time() + DRAIN_SECONDS
        while time.time() < deadline and any(
            m.wamid not in listener.arrived for m in posted_in[-1] if m.status == 200
        ):
            time.sleep(0.2)
        after = memory(groups)
        peak = memory(groups, "VmHWM")
    fake.stop()
    print_memory(before, after, peak)
    total = sum(len(w) for w in posted_in)
    arrived = sum(m.wamid in listener.arrived for w in posted_in for m in w)
    print(f"messages posted {total}, arrived {arrived}, missing {total - arrived}")


def report_window(window, minutes, messages, listener, app) -> None:
    """One window's figures, once its own messages had their time to arrive."""
    deadline = time.time() + 5  # the next window has started posting meanwhile
    accepted = [m for m in messages if m.status == 200]
    while time.time() < deadline and any(m.wamid not in listener.arrived for m in accepted):
        time.sleep(0.1)
    latencies = [
        listener.arrived[m.wamid] - m.posted for m in accepted if m.wamid in listener.arrived
    ]
    with app.app_context():
        connections = db.session.scalar(
            sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        )
        db.session.remove()
    p50 = statistics.median(latencies) * 1000 if latencies else float("nan")
    p95 = percentile(latencies, 95) * 1000 if latencies else float("nan")
    label = f"{window * minutes:g}-{(window + 1) * minutes:g}"
    print(
        f"{label:>8} {len(messages):>9} {p50:>5.0f}ms {p95:>5.0f}ms "
        f"{len(messages) - len(latencies):>8} {connections:>9}",
        flush=True,
    )


def memory(groups: CpuMeter, field: str = "VmRSS") -> dict[str, dict[int, int]]:
    """Resident KiB of every process, by group (``VmHWM``: the peak of its life)."""
    return {
        name: {pid: resident_kib(pid, field) for pid in sorted(pids)}
        for name, pids in groups.members().items()
    }


def print_memory(before, after, peak) -> None:
    print(
        f"\n{'resident memory':<22} {'after warm-up':>14} {'at the end':>11} {'growth':>8}"
        f" {'peak':>8}"
    )
    for name, processes in before.items():
        for pid, start in processes.items():
            end = after.get(name, {}).get(pid, 0)
            if not start:
                continue
            growth = (end - start) / start if end else float("nan")
            high = peak.get(name, {}).get(pid, 0)
            label = f"{name} {pid}"
            print(
                f"{label:<22} {start / 1024:>11.0f} MB {end / 1024:>8.0f} MB {growth:>+8.1%}"
                f" {high / 1024:>5.0f} MB"
            )


if __name__ == "__main__":
    main()
