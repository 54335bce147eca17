"""docs/deployment.md's nginx site, run by the machine's nginx in front of a topology.

The site is taken from the deployment docs as it stands (the one ``nginx`` block
there), so the docs and what the tests run cannot drift apart. Its production
values are replaced, each of which must be there:

- ``listen 443`` → a free port of the test's;
- the upstream's two ``server`` lines, ``127.0.0.1:8001`` and ``127.0.0.1:8002`` (the
  web processes) → a line for each of the test's web processes, one or more
  (benchmarks/agents.py runs it in front of one, two or more), and
  ``127.0.0.1:8010`` (the webhooks' gunicorn) → the test's;
- the certificate paths → the test fakes' certificate for 127.0.0.1 (tests/fakes/tls.py).

Around it comes what a distribution's ``nginx.conf`` gives (``events``, the ``http``
block), with the pid file, logs and temporary files in the test's own folder,
so nginx runs as whoever runs the tests. The access log names the process that
answered each request (:meth:`Nginx.upstream_of`).
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.fakes.tls import local_tls_files
from tests.support.topology import (
    ROOT,
    STARTUP_SECONDS,
    Process,
    Topology,
    free_port,
    stop_all,
    wait_until,
)

DEPLOYMENT_DOCS = ROOT / "docs" / "deployment.md"
NGINX_BLOCK = re.compile(r"^```nginx\n(.*?)^```", re.MULTILINE | re.DOTALL)
DOCS_WEB_ADDRESSES = ("127.0.0.1:8001", "127.0.0.1:8002")
DOCS_WEBHOOKS_ADDRESS = "127.0.0.1:8010"
DOCS_LISTEN = "listen 443 ssl;"
DOCS_CERTIFICATE = "/etc/ssl/switchboard/fullchain.pem"
DOCS_KEY = "/etc/ssl/switchboard/privkey.pem"
# One line per request: which process answered it (the test reads it back).
# When it ended ($msec, seconds since the epoch) and how long it took, for a failing test.
ACCESS_LOG_FORMAT = '$request_id $upstream_addr $status "$request" $msec $request_time'


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx",) if os.access(path, os.X_OK)), None
    )


def documented_site() -> str:
    """The nginx site of docs/deployment.md (there is exactly one)."""
    blocks = NGINX_BLOCK.findall(DEPLOYMENT_DOCS.read_text())
    assert len(blocks) == 1, f"docs/deployment.md should hold one nginx block, has {len(blocks)}"
    return blocks[0]


def replaced(text: str, old: str, new: str) -> str:
    assert old in text, f"docs/deployment.md's nginx site no longer has {old!r}"
    return text.replace(old, new)


def upstream_servers(addresses: list[str]) -> str:
    """The web upstream's ``server`` lines, as the docs indent them."""
    return "\n".join(f"    server {address};" for address in addresses)


class Nginx:
    """The documented site on ``port`` (a free one when not given) in front of
    ``web_urls`` (one or more) and ``webhooks_url``.

    ``worker_processes`` and ``worker_connections`` are the main configuration's
    (a distribution's ``nginx.conf`` says ``auto`` and 768): a test needs one worker;
    a benchmark holding a thousand WebSockets needs two connections for each.
    """

    def __init__(
        self,
        workdir: Path,
        web_urls: list[str],
        webhooks_url: str,
        *,
        port: int | None = None,
        worker_processes: int | str = 1,
        worker_connections: int = 1024,
    ) -> None:
        assert web_urls, "nginx needs a web process to send the pages to"
        self.dir = workdir / "nginx"
        for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.dir / temp).mkdir(parents=True)
        self.worker_processes = worker_processes
        self.worker_connections = worker_connections
        self.port = port or free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        certificate, key, ca_bundle = local_tls_files()
        # What a client trusts to reach nginx (the fakes' test CA signed its certificate).
        self.ca_bundle = Path(ca_bundle)
        self.web_addresses = [url.removeprefix("http://") for url in web_urls]
        site = documented_site()
        site = replaced(
            site, upstream_servers(DOCS_WEB_ADDRESSES), upstream_servers(self.web_addresses)
        )
        site = replaced(site, DOCS_WEBHOOKS_ADDRESS, webhooks_url.removeprefix("http://"))
        site = replaced(site, DOCS_LISTEN, f"listen 127.0.0.1:{self.port} ssl;")
        site = replaced(site, DOCS_CERTIFICATE, certificate)
        site = replaced(site, DOCS_KEY, key)
        self.config = self.dir / "nginx.conf"
        self.config.write_text(self._main_config(site))
        self.access_log = self.dir / "access.log"
        self.process: Process | None = None

    def _main_config(self, site: str) -> str:
        temp_paths = "\n".join(
            f"    {module}_temp_path {self.dir / folder};"
            for module, folder in (
                ("client_body", "client_body"),
                ("proxy", "proxy"),
                ("fastcgi", "fastcgi"),
                ("uwsgi", "uwsgi"),
                ("scgi", "scgi"),
            )
        )
        # As root nginx would hand its workers to "nobody", who cannot enter the
        # test's folder; as anyone else it stays that user anyway.
        user = "user root;\n" if os.geteuid() == 0 else ""
        return (
            f"{user}worker_processes {self.worker_processes};\n"
            f"pid {self.dir / 'nginx.pid'};\n"
            # info: each connection's end and any upstream error, for a failing test.
            f"error_log {self.dir / 'error.log'} info;\n"
            f"events {{ worker_connections {self.worker_connections}; }}\n"
            "http {\n"
            f"    log_format switchboard_test '{ACCESS_LOG_FORMAT}';\n"
            f"    access_log {self.dir / 'access.log'} switchboard_test;\n"
            f"{temp_paths}\n"
            f"{site}\n"
            "}\n"
        )

    def start(self) -> "Nginx":
        binary = nginx_binary()
        assert binary, "nginx is not installed"
        # -e: until it has read the configuration, nginx logs to the distribution's
        # error log, which only root may write.
        argv = [binary, "-p", str(self.dir), "-e", str(self.dir / "error.log")]
        argv += ["-c", str(self.config), "-g", "daemon off;"]
        self.process = Process("nginx", argv, dict(os.environ), self.dir / "nginx.log")

        def answers() -> bool:
            if not self.process.alive():
                raise AssertionError(f"nginx exited at start:\n{self.report()}")
            try:
                requests.get(f"{self.url}/healthz", verify=str(self.ca_bundle), timeout=2)
            except requests.ConnectionError:
                return False
            return True

        wait_until(answers, STARTUP_SECONDS, "nginx answering")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def upstream_of(self, session: requests.Session) -> str:
        """The web process (its address) that answers ``session``'s requests."""
        marker = uuid.uuid4().hex
        answer = session.get(f"{self.url}/healthz?probe={marker}", timeout=10)
        assert answer.status_code == 200, answer.text[:300]
        return wait_until(
            lambda: self.upstreams(f"probe={marker}"), 10, "the probe in the access log"
        )[0]

    def upstreams(self, request_contains: str) -> list[str]:
        """The processes that answered the logged requests whose line holds the text."""
        if not self.access_log.exists():
            return []
        return [
            line.split(" ")[1]
            for line in self.access_log.read_text().splitlines()
            if request_contains in line
        ]

    def report(self) -> str:
        parts = []
        for name in ("nginx.log", "error.log", "access.log"):
            path = self.dir / name
            if path.exists():
                parts += [f"----- {name} -----", path.read_text(errors="replace")[-4000:]]
        return "\n".join(parts)


# The webhooks' own gunicorn in a test: one process (docs/deployment.md gives
# production three), threaded as there.
WEBHOOKS_GUNICORN = ("--worker-class", "gthread", "--workers", "1", "--threads", "4")


@dataclass
class BehindNginx:
    """Two (or more) gevent web processes, the webhooks' gunicorn and workers behind nginx."""

    topology: Topology
    nginx: Nginx
    web: list[Process]
    webhooks: Process

    @property
    def url(self) -> str:
        return self.nginx.url

    def web_of(self, session: requests.Session) -> Process:
        """The web process ``session``'s browser keeps to."""
        address = self.nginx.upstream_of(session)
        return next(web for web in self.web if web.url == f"http://{address}")

    def stop(self) -> None:
        try:
            self.nginx.stop()
            # A gevent worker lets a held long-poll run out (up to Socket.IO's 25-s
            # ping interval) before it exits; these hold nothing worth waiting for.
            stop_all(self.web, timeout=3)
        finally:
            self.topology.stop()
        # Shown by pytest only for a failing test.
        print(self.topology.report(), self.nginx.report(), sep="\n")


def start_behind_nginx(
    workdir: Path,
    settings: dict[str, str],
    prestarted=None,
    *,
    web_processes: int = 2,
    workers: int = 2,
) -> BehindNginx:
    """The deployment of docs/deployment.md's *More than one web process*, started.

    Every process is told it is behind one trusted proxy and lives at nginx's
    address (``PUBLIC_BASE_URL``), as production's are. ``settings`` are the rest
    of the environment (database, Redis, secrets, providers). The workers are
    forked from ``prestarted`` when given; the gunicorns always start for real.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    web_urls = [f"http://127.0.0.1:{free_port()}" for _ in range(web_processes)]
    webhooks_url = f"http://127.0.0.1:{free_port()}"
    nginx = Nginx(workdir, web_urls, webhooks_url)
    topology = Topology(
        workdir,
        {**settings, "PUBLIC_BASE_URL": nginx.url, "TRUSTED_PROXY_HOPS": "1"},
        prestarted,
    )
    try:
        web = [
            topology.launch_gunicorn(f"web-{number}", port=int(url.rsplit(":", 1)[1]))
            for number, url in enumerate(web_urls, start=1)
        ]
        webhooks = topology.launch_gunicorn(
            "webhooks", WEBHOOKS_GUNICORN, port=int(webhooks_url.rsplit(":", 1)[1])
        )
        for _ in range(workers):
            topology.start_worker()
        for process in (*web, webhooks):
            topology.wait_answering(process, process.url)
        nginx.start()
    except BaseException:
        nginx.stop()
        topology.stop()
        print(topology.report(), nginx.report(), sep="\n")
        raise
    return BehindNginx(topology, nginx, web, webhooks)
