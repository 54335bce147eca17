"""What the benchmarks share: a scratch database, a free port, the app under gunicorn."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess  # noqa: S404  (runs gunicorn with fixed arguments)
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` if it does not exist yet."""
    target = sa.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        query = sa.text("SELECT 1 FROM pg_database WHERE datname = :name")
        if not conn.scalar(query, {"name": target.database}):
            conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    admin.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(app_spec: str, workers: int, threads: int, env: dict[str, str]) -> Iterator[str]:
    """Serve ``app_spec`` with gunicorn gthread until the block ends; yields its base URL.

    Waits for ``/healthz`` before handing over, and stops the server afterwards.
    """
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--worker-class",
            "gthread",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app_spec,
        ],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT), **env),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
