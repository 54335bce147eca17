"""The production topology as real processes, for tests that judge it from outside.

A deployment is ``python wsgi.py`` in front (or, as production runs it, one or more
gunicorn web processes: :meth:`Topology.start_gunicorn`), two or more ``python worker.py``
behind it, one PostgreSQL and one Redis. :class:`Topology` starts
those processes with the environment a deployment gives them, each in its own
process group (so SIGKILL also takes RQ's forked scheduler), with its output in
a file whose tail :meth:`Topology.report` returns for a failing test. Given a
:class:`tests.support.prestarted.Prestarted`, each is forked from a Python that has
imported the app already instead of started from nothing (2.5 s of CPU less a
start); the script still runs as ``__main__`` from its first line.
:class:`LocalRedis` is a throwaway ``redis-server`` a test may stop and restart;
:class:`LocalPostgres` a throwaway PostgreSQL cluster, likewise.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import redis
import requests

from app.platform.config import integration_urls

ROOT = Path(__file__).resolve().parents[2]
# Nothing listens on port 9: a provider call that no test pointed at a fake
# fails at once instead of reaching the internet.
DEAD_END = "http://127.0.0.1:9"
# Generous: on a busy 2-core CI machine importing the app alone can take seconds.
STARTUP_SECONDS = 60.0
# Log lines worth showing when a test fails (werkzeug warns about itself at start).
PROBLEM = re.compile(r"WARNING(?! werkzeug)|ERROR|CRITICAL|Traceback|Error:")
# The pages process as docs/deployment.md runs it: one gunicorn worker whose gevent
# loop serves the pages, the APIs and every Socket.IO connection.
PAGES_GUNICORN = ("--worker-class", "gevent", "--workers", "1", "--worker-connections", "2000")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], object], timeout: float, what: str, every=0.1):
    """Poll ``condition`` until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(every)


def base_environment(overrides: dict[str, str]) -> dict[str, str]:
    """This environment without the test runner's settings, every provider a dead end."""
    env = {
        key: value
        for key, value in os.environ.items()
        # The test runner's own settings would leak a second configuration in.
        if not key.startswith(("TEST_", "PYTEST_"))
    }
    env.update(
        {
            "ALLOW_PRIVATE_WEBHOOK_URLS": "1",
            # Output reaches the log file before a SIGKILL can lose it.
            "PYTHONUNBUFFERED": "1",
            "WHATSAPP_API_BASE": DEAD_END,
            "GRAPH_API_BASE": DEAD_END,
            "GRAPH_AUTHORITY": f"{DEAD_END}/common",
            "SENDGRID_API_BASE": DEAD_END,
            "SMS_API_BASE": DEAD_END,
            "PDOK_API_BASE": f"{DEAD_END}/pdok",
            **{key: DEAD_END for key in integration_urls()},
        }
    )
    env.update(overrides)
    return env


class Process:
    """One child process in its own group, its stdout and stderr in ``log``."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path, prestarted=None) -> None:
        self.name = name
        self.log = log
        # Stopped or killed on purpose: a supervisor leaves it down.
        self.retired = False
        # Where a web process answers, when it is one (Topology.launch_gunicorn).
        self.url: str | None = None
        if prestarted is not None:  # forked from the app already imported
            self.popen = prestarted.start(argv, env, log)
            return
        with log.open("ab") as output:
            self.popen = subprocess.Popen(  # noqa: S603  (our own entry points)
                argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the whole group: no clean-up, as when a machine loses power."""
        self.retired = True
        self._signal_group(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (RQ finishes its job first), SIGKILL if that takes too long."""
        stop_all([self], timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            pass


def stop_all(processes: list[Process], timeout: float = 10.0) -> None:
    """Stop every process at once: SIGTERM to all, then SIGKILL what is left.

    Asked together, they finish their jobs side by side instead of one after the
    other; and one that will not die does not leave the others running (they
    would take the next test's events from the same database and Redis).
    """
    for process in processes:
        process.retired = True
        # A process that already exited may have left a forked child behind.
        process._signal_group(signal.SIGTERM if process.alive() else signal.SIGKILL)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for process in processes:
        process._signal_group(signal.SIGKILL)
    stuck = []
    for process in processes:
        try:
            process.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            stuck.append(f"{process.name} (pid {process.pid})")
    if stuck:
        raise AssertionError(f"still running after SIGKILL: {', '.join(stuck)}")


class Topology:
    """One web process and any number of workers against one database and Redis."""

    def __init__(self, workdir: Path, env: dict[str, str], prestarted=None) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.processes: list[Process] = []
        self.env = self._environment(env)
        # A tests.support.prestarted.Prestarted whose server this environment can fork.
        self.prestarted = prestarted if prestarted and prestarted.can_fork(self.env) else None
        # Workers that exited by themselves and were started again (see supervise).
        self.restarted: list[str] = []
        self._supervisor: threading.Thread | None = None
        self._stopping = threading.Event()

    def _environment(self, overrides: dict[str, str]) -> dict[str, str]:
        return base_environment(
            {
                "PORT": str(self.port),
                "HOST": "127.0.0.1",
                "PUBLIC_BASE_URL": self.base_url,
                "SWITCHBOARD_INSTANCE_PATH": str(self.workdir / "instance"),
                "ATTACHMENTS_DIR": str(self.workdir / "attachments"),
                **overrides,
            }
        )

    def _start(self, name: str, script: str) -> Process:
        log = self.workdir / f"{name}.log"
        process = Process(name, [sys.executable, script], self.env, log, self.prestarted)
        self.processes.append(process)
        return process

    def start_web(self) -> Process:
        """``python wsgi.py``, answering ``/healthz``."""
        web = self._start("web", "wsgi.py")
        self.wait_answering(web, self.base_url)
        return web

    def launch_gunicorn(
        self, name: str, options: tuple[str, ...] = PAGES_GUNICORN, port: int | None = None
    ) -> Process:
        """``gunicorn <options> wsgi:app`` on ``port`` (a free one unless given), not
        waited for (:meth:`wait_answering`): several start side by side.

        Always a real process, never a prestarted fork: the gevent worker patches
        the standard library as it starts, which must come before the app's imports.
        The process's ``url`` is where it answers.
        """
        port = port or free_port()
        argv = [sys.executable, "-m", "gunicorn", *options]
        argv += ["--bind", f"127.0.0.1:{port}", "wsgi:app"]
        process = Process(name, argv, self.env, self.workdir / f"{name}.log")
        process.url = f"http://127.0.0.1:{port}"
        self.processes.append(process)
        return process

    def start_gunicorn(
        self, name: str, options: tuple[str, ...] = PAGES_GUNICORN, port: int | None = None
    ) -> Process:
        """:meth:`launch_gunicorn`, once it answers ``/healthz``."""
        process = self.launch_gunicorn(name, options, port)
        self.wait_answering(process, process.url)
        return process

    def wait_answering(self, web: Process, base_url: str) -> None:
        """Wait until ``web`` answers ``/healthz`` at ``base_url``; fail if it exits."""

        def healthy() -> bool:
            if not web.alive():
                raise AssertionError(f"{web.name} exited at start:\n{web.tail()}")
            try:
                return requests.get(f"{base_url}/healthz", timeout=2).status_code == 200
            # gunicorn listens before its worker has built the app: until then a
            # connection is accepted and not answered.
            except (requests.ConnectionError, requests.Timeout):
                return False

        wait_until(healthy, STARTUP_SECONDS, f"{web.name} answering /healthz")

    def start_worker(self) -> Process:
        """``python worker.py``, once it has started listening on the queues."""
        worker = self._start_worker_process()

        def listening() -> bool:
            if not worker.alive():
                raise AssertionError(f"{worker.name} exited at start:\n{worker.tail()}")
            # RQ logs this once registered and about to take jobs.
            return ": started with PID" in worker.output()

        wait_until(listening, STARTUP_SECONDS, f"{worker.name} listening")
        return worker

    def _start_worker_process(self) -> Process:
        number = sum(p.name.startswith("worker") for p in self.processes) + 1
        return self._start(f"worker-{number}", "worker.py")

    def workers(self) -> list[Process]:
        """The workers meant to be running (not those stopped, killed or replaced)."""
        return [p for p in self.processes if p.name.startswith("worker") and not p.retired]

    def supervise(self, every: float = 1.0) -> None:
        """From now on start again any worker that exits, as a process manager would.

        A deployment runs ``worker.py`` under systemd, Kubernetes or supervisord,
        which restart a process that quits; :attr:`restarted` says which did.
        """

        def run() -> None:
            while not self._stopping.wait(every):
                for worker in self.workers():
                    if not worker.alive():
                        worker.retired = True
                        self.restarted.append(f"{worker.name} exited {worker.popen.returncode}")
                        self._start_worker_process()

        self._supervisor = threading.Thread(target=run, name="supervisor", daemon=True)
        self._supervisor.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=10)
        stop_all(self.processes)

    def report(self, lines: int = 25) -> str:
        """What each process logged that went wrong, and its last lines."""
        parts = []
        for process in self.processes:
            state = "running" if process.alive() else f"exited {process.popen.returncode}"
            output = process.output().splitlines()
            # Access logs and "Job OK" lines bury the warnings; list those first.
            problems = [line for line in output if PROBLEM.search(line)]
            parts.append(f"----- {process.name} (pid {process.pid}, {state}) -----")
            if problems:
                parts += ["problems (last 15):", *problems[-15:], "last lines:"]
            parts += output[-lines:]
        return "\n".join(parts)


class LocalRedis:
    """A ``redis-server`` of the test's own on a free loopback port, kept in memory only."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: Process | None = None
        self.starts = 0

    def start(self) -> "LocalRedis":
        binary = shutil.which("redis-server")
        if binary is None:
            raise AssertionError("redis-server is not installed")
        self.starts += 1
        argv = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
        ]
        log = self.workdir / f"redis-{self.starts}.log"
        self.process = Process(f"redis-{self.starts}", argv, dict(os.environ), log)
        client = redis.Redis.from_url(self.url, socket_timeout=1)

        def answers() -> bool:
            if not self.process.alive():
                raise AssertionError(f"redis-server exited at start:\n{self.process.tail()}")
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        wait_until(answers, STARTUP_SECONDS, "redis-server answering")
        client.close()
        return self

    def stop(self) -> None:
        """Stop the server; nothing is saved, so what it held is gone."""
        if self.process is not None:
            self.process.stop()


# Starts of a test's own PostgreSQL cluster before a port held by another socket fails it.
BIND_TRIES = 5


class LocalPostgres:
    """A PostgreSQL cluster of the test's own on a free loopback port, to stop and start.

    Made with the machine's ``initdb`` (as the ``postgres`` user when the tests run
    as root, which ``initdb`` refuses to be), without fsync: it holds one test's rows.
    """

    def __init__(self) -> None:
        self.bin = postgres_binaries()
        self.dir = Path(tempfile.mkdtemp(prefix="switchboard-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self._started = False
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            account = pwd.getpwnam("postgres")
            os.chown(self.dir, account.pw_uid, account.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> "LocalPostgres":
        """Start the cluster on its port, trying again while another socket holds it.

        The port was free when chosen, but the machine's outgoing connections draw
        their local ports from the same range, and one may hold it when PostgreSQL
        binds (it failed one CI run so). The first start then takes a new port; a
        restart waits for the same one, which the app's URL names.
        """
        for attempt in range(1, BIND_TRIES + 1):
            options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.dir / "server.log"),
                    "-w",
                    "-o",
                    options,
                    "start",
                )
            except subprocess.CalledProcessError:
                if attempt == BIND_TRIES or "Address already in use" not in self.log_tail(8):
                    raise
                if self._started:
                    time.sleep(1)
                else:
                    self.port = free_port()
                continue
            self._started = True
            return self
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Stop as an administrator's restart does: every connection is ended."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def copy_database(self, source_url: str, name: str) -> str:
        """A copy of ``source_url``'s database (schema and rows) here; its URL."""
        plain = source_url.replace("postgresql+psycopg://", "postgresql://")
        dump = self.dir / f"{name}.sql"
        subprocess.run(  # noqa: S603
            [str(self.bin / "pg_dump"), "--no-owner", "-f", str(dump), plain],
            check=True,
            capture_output=True,
            timeout=120,
        )
        target = self.url(name).replace("postgresql+psycopg://", "postgresql://")
        subprocess.run(  # noqa: S603
            [
                str(self.bin / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                name,
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        subprocess.run(  # noqa: S603
            [str(self.bin / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", target, "-f", str(dump)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return self.url(name)

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        log = self.dir / "server.log"
        return (
            "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""
        )

    def _run(self, program: str, *args: str) -> None:
        argv = [str(self.bin / program), *args]
        if self.as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, capture_output=True, timeout=120)  # noqa: S603


def postgres_binaries() -> Path:
    """Where ``initdb`` and ``pg_ctl`` are (Debian keeps them out of the PATH)."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if versions:
        return versions[-1].parent
    found = shutil.which("pg_ctl")
    if found is None:
        raise AssertionError("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    return Path(found).parent
