"""What the benchmarks share: a scratch database, a free port, gunicorn and worker.py."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess  # noqa: S404  (runs gunicorn and worker.py with fixed arguments)
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet
from rq import Worker

ROOT = Path(__file__).resolve().parent.parent


def use_throwaway_secrets() -> None:
    """SECRET_KEY and ENCRYPTION_KEYS for this run, inherited by the processes it starts.

    On PostgreSQL the app refuses to start without them (one key per process
    would break sessions and stored credentials); a benchmark's data is thrown
    away afterwards, and so are its keys.
    """
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))
    os.environ.setdefault("ENCRYPTION_KEYS", Fernet.generate_key().decode())


def wipe_and_migrate(app) -> None:
    """Empty the scratch database (its schema dropped) and its Redis, then migrate.

    Call inside ``app``'s app context.
    """
    from flask_migrate import upgrade

    from app.platform.extensions import db

    db.session.execute(sa.text("DROP SCHEMA public CASCADE"))
    db.session.execute(sa.text("CREATE SCHEMA public"))
    db.session.commit()
    upgrade()
    app.extensions["broker"].connection.flushdb()


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` if it does not exist yet."""
    target = sa.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        query = sa.text("SELECT 1 FROM pg_database WHERE datname = :name")
        if not conn.scalar(query, {"name": target.database}):
            conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
    admin.dispose()


def percentile(samples: list[float], pct: float) -> float:
    """The nearest-rank ``pct`` percentile of ``samples`` (not empty)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(
    app_spec: str,
    workers: int,
    threads: int,
    env: dict[str, str],
    extra_args: tuple = (),
    *,
    worker_class: str = "gthread",
) -> Iterator[str]:
    """Serve ``app_spec`` with gunicorn until the block ends; yields its base URL.

    ``worker_class`` gthread: ``threads`` threads a process; gevent (the pages process
    of the Procfile, on gevent's loop): ``threads`` is its ``--worker-connections``.
    Waits for ``/healthz`` before handing over, and stops the server afterwards.
    ``extra_args`` go to gunicorn as they are (``--access-logfile``, say).
    """
    port = free_port()
    per_process = "--threads" if worker_class == "gthread" else "--worker-connections"
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--worker-class",
            worker_class,
            "--workers",
            str(workers),
            per_process,
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            *extra_args,
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
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a WebSocket's thread holding the graceful stop
            server.kill()
            server.wait(timeout=10)


def start_worker(env: dict[str, str], log: Path | None = None) -> subprocess.Popen:
    """Start ``python worker.py`` with exactly ``env`` in a session of its own.

    Its own session, so :func:`stop_process` can signal the worker and anything
    it started as one group. Its output goes to ``log`` (appended), else nowhere.
    """
    output = open(log, "ab") if log else subprocess.DEVNULL
    try:
        return subprocess.Popen(  # noqa: S603  (our own entry point, fixed arguments)
            [sys.executable, str(ROOT / "worker.py")],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        if log:
            output.close()  # the child holds its own copy of the descriptor


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM the process group of ``process``; SIGKILL it after 30 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for_workers(connection, count: int, timeout: float = 60) -> None:
    """Return once ``count`` RQ workers have registered in Redis; exit after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(Worker.all(connection=connection)) >= count:
            return
        time.sleep(0.1)
    raise SystemExit(f"{count} worker(s) did not start within {timeout}s")


class CpuMeter:
    """CPU seconds spent by named groups of processes (Linux ``/proc``), between snapshots.

    A group is the processes whose command line contains a marker (with all
    their descendants) or whose name is one of ``names``: "webhooks gunicorn"
    is the gunicorn bound to its port and its workers; "PostgreSQL" every
    ``postgres`` process, so run it on an otherwise idle machine.
    """

    TICKS = os.sysconf("SC_CLK_TCK")

    def __init__(self) -> None:
        self.groups: dict[str, tuple[set[int], set[str], str | None, bool]] = {}

    def add(
        self, name: str, *, pids=(), names=(), marker: str | None = None, descendants=True
    ) -> None:
        self.groups[name] = (set(pids), set(names), marker, descendants)

    def snapshot(self) -> dict[str, float]:
        table = _processes()
        return {
            name: sum(table[p][3] for p in pids) / self.TICKS
            for name, pids in self.members(table).items()
        }

    def members(self, table=None) -> dict[str, set[int]]:
        """The pids of each group now."""
        table = table if table is not None else _processes()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _, _, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        found = {}
        for name, (pids, names, marker, descendants) in self.groups.items():
            roots = {p for p in pids if p in table}
            roots |= {p for p, (_, comm, cmd, _) in table.items() if comm in names}
            if marker:
                roots |= {p for p, (_, _, cmd, _) in table.items() if marker in cmd}
            members, todo = set(), list(roots)
            while todo:
                pid = todo.pop()
                if pid not in members:
                    members.add(pid)
                    if descendants:
                        todo.extend(children.get(pid, ()))
            found[name] = members
        return found


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent not idle (``/proc/stat``): beside
    a benchmark's own processes, says how much else the machine was running."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields) - idle) / CpuMeter.TICKS


def resident_kib(pid: int, field: str = "VmRSS") -> int:
    """A process's resident memory (VmRSS; ``VmHWM``: its peak so far), 0 once it has ended."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _processes() -> dict[int, tuple[int, str, str, int]]:
    """pid -> (parent, name, command line, CPU ticks) of every process now."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # ended meanwhile
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        # fields[1] is the parent; utime and stime are the 14th and 15th of stat.
        table[int(entry)] = (int(fields[1]), comm, cmd, int(fields[11]) + int(fields[12]))
    return table
