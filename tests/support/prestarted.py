"""``worker.py`` and ``wsgi.py`` forked from a Python that has already built the app once.

A test's deployment starts its processes as ``python worker.py``; each start
cost 2.8-3.8 s of CPU before its worker listened (mostly importing the app and
its libraries, and ``create_app`` importing the features), 0.6-1.0 s forked
from here; the suite starts about a hundred. Like gunicorn's ``--preload``, this
server pays the imports once per test process: it imports ``worker.py``'s and
``wsgi.py``'s modules, builds one app to import what ``create_app`` imports,
then forks a child per start. The child becomes a process of its own (new
session, the topology's environment, its log on stdout and stderr, ``argv``
as given) and runs the script as ``__main__``, so everything from ``main()``
on is the deployment's own code path, and it exits through the interpreter's
normal shutdown.

What a fork cannot change is what the server's imports read from the
environment: ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client picks its value
class on import) and Python's own ``PYTHON*`` settings. A topology that sets
one of those to something else starts a real ``python`` (:meth:`Prestarted.can_fork`).
``tests/platform/test_make_up.py`` and the smoke test always start real processes.

The server is one per test process, started on first use. It tells the pid of
each child on its stdout and writes each child's exit status to the file the
request names once it has reaped it (a pidfd per child, so at once).
"""

from __future__ import annotations

import gc
import json
import os
import selectors
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Settings read while importing (see above): a child asking for another value
# than the server had is started for real.
IMPORT_TIME = ("PROMETHEUS_", "PYTHON")
SAME_EITHER_WAY = {"PYTHONUNBUFFERED"}  # the child's output is made unbuffered itself


class ForkedChild:
    """What :class:`subprocess.Popen` offers, for a child of the server."""

    def __init__(self, pid: int, status_file: Path, argv: list[str]) -> None:
        self.pid = pid
        self.args = argv
        self.returncode: int | None = None
        self._status_file = status_file

    def poll(self) -> int | None:
        if self.returncode is None and self._status_file.exists():
            text = self._status_file.read_text()
            if text:
                self.returncode = int(text)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout)
            time.sleep(0.02)
        return self.returncode


class Prestarted:
    """The client: one server per test process, asked from any thread."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self._lock = threading.Lock()
        self._server: subprocess.Popen | None = None
        self._count = 0
        self._looked_at = 0  # children() looked for those started up to here

    def can_fork(self, env: dict[str, str]) -> bool:
        """Whether a fork of the server behaves as a start with ``env`` would."""
        keys = {k for k in (*self.env, *env) if k.startswith(IMPORT_TIME)} - SAME_EITHER_WAY
        return all(self.env.get(k) == env.get(k) for k in keys)

    def start(self, argv: list[str], env: dict[str, str], log: Path) -> ForkedChild:
        """``argv`` (``python``, the script, its arguments) as a child of the server."""
        with self._lock:
            server = self._running_server()
            self._count += 1
            status_file = self.workdir / f"child-{self._count}.status"
            request = {"argv": argv[1:], "env": env, "log": str(log), "status": str(status_file)}
            server.stdin.write(json.dumps(request) + "\n")
            server.stdin.flush()
            answer = server.stdout.readline()
            if not answer:
                raise RuntimeError(f"the prestarted Python exited ({server.poll()})")
            return ForkedChild(int(answer), status_file, argv)

    def children(self) -> list[int]:
        """Pids of the server's children still running, if it started any since last asked."""
        if self._server is None or self._count == self._looked_at:
            return []
        self._looked_at = self._count
        return children_of(self._server.pid)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stdin.close()
            self._server.wait(timeout=10)
            self._server = None

    def _running_server(self) -> subprocess.Popen:
        if self._server is None or self._server.poll() is not None:
            self.workdir.mkdir(parents=True, exist_ok=True)
            self._server = subprocess.Popen(  # noqa: S603  (our own entry point)
                [sys.executable, __file__],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        return self._server


def children_of(parent: int) -> list[int]:
    """Pids whose parent is ``parent`` (from /proc)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if int(stat.read().rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(pid))
        except (OSError, ValueError, IndexError):
            continue
    return found


# ----- the server (this file run as a script) -----


def _serve() -> int:
    # As worker.py and wsgi.py do: what the imports make lives as long as the process.
    gc.disable()
    sys.path[0] = str(ROOT)  # as for `python worker.py`, not this file's folder
    import worker  # noqa: F401  (its modules, imported once for every child)
    from app import create_app  # noqa: F401  (wsgi.py's)
    from app.platform import serving  # noqa: F401

    # Builds nothing a child keeps (each builds its own app); it imports the
    # ~600 modules the features bring in, which is most of a start.
    create_app(start_embedded_worker=False)
    # One request at a time (the client waits for each answer under its lock), so
    # no second line can sit unseen in stdin's buffer while select() waits.
    asked = sys.stdin
    selector = selectors.DefaultSelector()
    selector.register(asked, selectors.EVENT_READ)
    waiting: dict[int, tuple[int, str]] = {}  # pidfd -> (pid, status file)
    while True:
        for key, _ in selector.select():
            if key.fileobj is asked:
                line = asked.readline()
                if not line:
                    return 0  # the test process has gone
                request = json.loads(line)
                sys.stdout.flush()
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    for pidfd in waiting:
                        os.close(pidfd)
                    return _become_child(request)
                pidfd = os.pidfd_open(pid)
                waiting[pidfd] = (pid, request["status"])
                selector.register(pidfd, selectors.EVENT_READ)
                sys.stdout.write(f"{pid}\n")
                sys.stdout.flush()
            else:
                pidfd = key.fileobj
                selector.unregister(pidfd)
                pid, status_file = waiting.pop(pidfd)
                os.close(pidfd)
                _, status = os.waitpid(pid, 0)
                Path(status_file + ".part").write_text(str(os.waitstatus_to_exitcode(status)))
                os.replace(status_file + ".part", status_file)


def _become_child(request: dict) -> int:
    """From here on this is ``python <argv>`` with the topology's environment."""
    import logging
    import runpy

    os.setsid()  # its own group: stopping it takes RQ's forked scheduler too
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    log = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    # Line by line, as PYTHONUNBUFFERED gives a real start: a SIGKILL loses nothing.
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True, write_through=True)
    os.environ.clear()
    os.environ.update(request["env"])
    # The server's build configured logging under its own environment
    # (LOG_FORMAT); the child's build configures it again under the child's.
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    sys.argv = list(request["argv"])
    runpy.run_path(sys.argv[0], run_name="__main__")  # SystemExit carries its status
    return 0


if __name__ == "__main__":
    sys.exit(_serve())
