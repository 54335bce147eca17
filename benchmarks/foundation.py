"""Foundation figures: inbox first page server time and job throughput.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/switchboard_bench \
    BENCH_REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python benchmarks/foundation.py

The database named by BENCH_DATABASE_URL is wiped and rebuilt from the migrations,
then filled with the demo data. The Redis database is flushed. Prints figures only.
"""

from __future__ import annotations

import os
import statistics
import subprocess  # noqa: S404  (starts worker.py for the live-update figure)
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.platform.extensions import db  # noqa: E402
from app.platform.jobs.queues import QUEUE_NAMES, enqueue  # noqa: E402
from app.platform.jobs.worker import AppWorker  # noqa: E402
from app.platform.models import User  # noqa: E402
from app.seed.demo import load_demo_data  # noqa: E402
from benchmarks._support import percentile, use_throwaway_secrets  # noqa: E402
from tests.support.helpers import AuthActions  # noqa: E402
from tests.support.live_server import LiveServer, signed_in_session, socket_client  # noqa: E402


def main() -> None:
    database_url = os.environ.get("BENCH_DATABASE_URL")
    redis_url = os.environ.get("BENCH_REDIS_URL")
    if not database_url or not redis_url:
        sys.exit("set BENCH_DATABASE_URL and BENCH_REDIS_URL (see the module docstring)")
    use_throwaway_secrets()
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url},
        start_embedded_worker=False,
    )
    with app.app_context():
        db.drop_all()
        db.session.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        upgrade()
        started = time.perf_counter()
        summary = load_demo_data()
        db.session.commit()
        print(f"demo data: {summary} in {time.perf_counter() - started:.1f} s")
        app.extensions["broker"].connection.flushdb()
        agent = db.session.scalar(sa.select(User).where(User.email == "agent@switchboard.test"))
        agent_id = str(agent.id)

    client = app.test_client()
    AuthActions(client).login("agent@switchboard.test", "demo1234")
    for _ in range(20):  # warm caches and the connection pool
        client.get("/inbox")
    samples = []
    for _ in range(200):
        started = time.perf_counter()
        response = client.get("/inbox")
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    print(
        f"inbox first page (50 rows): p50 {statistics.median(samples):.1f} ms, "
        f"p95 {percentile(samples, 95):.1f} ms over {len(samples)} requests"
    )

    jobs = 500
    with app.app_context():
        for _ in range(jobs):
            enqueue("app.conversations.notifications.jobs.send_test_notification", agent_id)
        broker = app.extensions["broker"]
        worker = AppWorker(
            [broker.queue(n) for n in QUEUE_NAMES], connection=broker.connection, app=app
        )
        started = time.perf_counter()
        worker.work(burst=True, logging_level="WARNING")
        elapsed = time.perf_counter() - started
    print(f"jobs (create notification + emit): {jobs / elapsed:.0f} jobs/s on one worker")
    measure_live_update_latency(app, database_url, redis_url)


def measure_live_update_latency(app, database_url: str, redis_url: str, rounds: int = 50) -> None:
    """Request → Redis queue → worker.py process → Redis message queue → socket client."""
    env = dict(os.environ, DATABASE_URL=database_url, REDIS_URL=redis_url)
    worker = subprocess.Popen(  # noqa: S603  (our own entry point, fixed arguments)
        [sys.executable, str(ROOT / "worker.py")],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = LiveServer(app).start()
    try:
        browser = signed_in_session(server.url, "agent@switchboard.test", "demo1234")
        page = browser.get(f"{server.url}/inbox", timeout=10).text
        token = page.split('name="csrf-token" content="')[1].split('"')[0]
        samples = []
        with socket_client(server.url, browser) as live:
            for _ in range(rounds):
                seen = len(live.received)
                started = time.perf_counter()
                browser.post(
                    f"{server.url}/api/notifications/test",
                    headers={"X-CSRFToken": token},
                    timeout=10,
                )
                while len(live.received) == seen:
                    if time.perf_counter() - started > 10:
                        raise RuntimeError("no live event within 10 s; is worker.py running?")
                    time.sleep(0.002)
                samples.append((time.perf_counter() - started) * 1000)
        print(
            f"live update (request → worker.py → browser event): "
            f"p50 {statistics.median(samples):.0f} ms, p95 {percentile(samples, 95):.0f} ms"
        )
    finally:
        server.stop()
        worker.terminate()
        worker.wait(timeout=10)


if __name__ == "__main__":
    main()
