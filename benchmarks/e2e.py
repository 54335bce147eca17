"""End to end: signed WhatsApp messages in, ``message:new`` out, at rising rates.

    .venv/bin/python benchmarks/e2e.py [--mix steady|new|burst|both|steady,burst]
                                       [--rates 10,20,30] [--step-seconds 12]
                                       [--burst-senders 400] [--agents 50] [--reuse]

Deploys as docs/deployment.md does, everything on 127.0.0.1: gunicorn on gevent (one
process, 2,000 connections) for pages and Socket.IO, as the Procfile runs it
(``--pages-server gthread`` serves them as before 2026-11-29, gthread 1×300), a
second gunicorn gthread 3×4 for the provider webhooks,
two ``worker.py`` processes, PostgreSQL and Redis. The WhatsApp credentials are
set and ``WHATSAPP_API_BASE`` points at a local fake Graph API, so an
auto-reply never leaves the machine. A manager signs in through the login form
and listens with a Socket.IO client over WebSocket, as a browser connects:
managers hear ``message:new`` for every thread (``thread_rooms`` in
app/conversations/inbox/access.py always names ``role:manager``). ``--agents N`` signs in N
agents too (no team, so every thread without one is theirs to see), each on its
own WebSocket; the pages process's resident memory and idle CPU per agent are
read before the traffic, and every delivery owed to an agent is timed.

Then signed Meta text-message webhooks go out open-loop (on schedule, whatever
the answers) at fixed rates, step by step, in three mixes (``--mix both``, the
default, runs steady and new customers one after the other and prints both):

- *steady*: 70 % of the messages from a pool of senders who already have a
  contact and an open conversation, 30 % from numbers never seen before; the
  desk is open (the channel's calendar is open around the clock), so no
  out-of-hours answer goes out;
- *new customers*: every sender new, and the desk closed (the channel's
  calendar is closed today and tomorrow, with an active ``out_of_hours``
  template), so each new conversation gets the out-of-hours answer, sent to
  the fake Graph API by the usual send job; a step waits (up to the drain) for
  every answer and its statuses too, so the CPU of sending them and of
  processing their statuses is the step's;
- *burst* (not in ``both``): desk closed as in *new customers*, and each step
  begins with ``--burst-senders`` (400) numbers never seen before, at the step's
  rate, the rest of the step from the pool, as after a campaign or an outage.
  Every sender is owed one out-of-hours answer (the pool's the first time they
  write in the mix); besides the messages' latency, each answer is timed from
  the customer's first message of the step to its send at the fake Graph API.

As Meta does, the fake Graph API reports every send it answers back to the app's
webhook: a signed status webhook each for sent, delivered and read (0.3, 1.5 and
3 s after), each an inbound event for the app to process.
 Each message is timed from just before its POST until its
``message:new`` (matched by wamid) reaches the manager's connection. Per step:
offered and achieved rate, latency percentiles, messages still missing after
the drain, the workers' event rate, and where a message spent its time (from
the event rows and RQ's job records), and the CPU each part of the deployment
spent per message (from ``/proc``: webhooks gunicorn, workers, PostgreSQL,
Redis, pages gunicorn, this process as the outside world), which on two cores
says how far a rate can go at all. A rate is held when its p95 is under
1 s with nothing missing; stepping stops at the first step that clearly fails
(p95 over 5 s or over 1 % missing), and ``--budget`` bounds the whole run.

Databases (wiped first; ``--reuse`` keeps the database and its senders):
BENCH_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/sb_bench_e2e)
and BENCH_REDIS_URL (default redis://127.0.0.1:6379/11).
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import http.client
import itertools
import json
import logging
import os
import random
import select
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import socketio  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from rq.job import Job  # noqa: E402
from rq.registry import FailedJobRegistry, FinishedJobRegistry  # noqa: E402

from app import create_app  # noqa: E402
from app.conversations.channels.whatsapp.inbound import receive_message  # noqa: E402
from app.conversations.core import channel_of_type  # noqa: E402
from app.conversations.inbox.access import thread_rooms  # noqa: E402
from app.platform.auth.services import create_user  # noqa: E402
from app.platform.extensions import db  # noqa: E402
from app.platform.models import (  # noqa: E402
    CommunicationChannel,
    CommunicationMessage,
    CommunicationTemplate,
    CommunicationThread,
    Contact,
    InboundWebhookEvent,
    User,
)
from app.platform.models.enums import (  # noqa: E402
    ChannelType,
    DeliveryStatus,
    MessageType,
    ProcessingState,
    Role,
    TemplateCategory,
    TemplateChannelType,
    ThreadStatus,
)
from app.platform.models.sla import BusinessCalendar  # noqa: E402
from app.platform.realtime import role_room  # noqa: E402
from app.platform.transactions import commit  # noqa: E402
from app.platform.webhooks.recording import body_digest  # noqa: E402
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
from benchmarks.agent_sockets import AgentSockets  # noqa: E402
from tests.fakes.whatsapp import (  # noqa: E402
    ACCESS_TOKEN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    contact,
    signed,
    status,
    text_message,
    webhook,
)
from tests.support.live_server import signed_in_session  # noqa: E402

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/sb_bench_e2e"
DEFAULT_REDIS = "redis://127.0.0.1:6379/11"
MANAGER_EMAIL = "manager@e2e-bench.test"
MANAGER_PASSWORD = "e2e-bench-manager"  # noqa: S105  (a throwaway account in a scratch database)
AGENT_PASSWORD = "e2e-bench-agent"  # noqa: S105  (throwaway accounts too)
# How long the signed-in agents sit connected with no traffic: their idle cost.
AGENTS_IDLE_SECONDS = 10.0
# As the Procfile runs the web process: one process on gevent's loop, an open browser
# tab's WebSocket a greenlet; --worker-connections caps tabs and requests together.
PAGE_CONNECTIONS = 2000
# The web process before 2026-11-29 (--pages-server gthread): every open tab's WebSocket
# held one of its threads.
PAGE_THREADS = 300
POOL_PREFIX, NEW_PREFIX = "3161", "3162"  # repeat senders and first-time senders
TEXTS = (
    "Hallo, mijn laadpaal geeft een rood lampje en laadt niet.",
    "Wanneer komt de monteur langs voor de installatie?",
    # Asks after an order, so the order-status auto-reply looks for one too.
    "Wat is de status van mijn bestelling?",
    "Ik heb een foto van de meterkast gestuurd.",
    "Bedankt, tot morgen!",
)
# A step clearly fails (and stepping stops) past either of these.
FAIL_P95_SECONDS = 5.0
FAIL_MISSING_SHARE = 0.01
# Held: p95 below this, nothing missing, no errors and the rate actually offered.
HELD_P95_SECONDS = 1.0
HELD_SEND_SHARE = 0.95


@dataclass
class Message:
    """One webhook post and what happened to it (wall-clock seconds, as the server's rows)."""

    wamid: str
    digest: str
    body: bytes
    headers: dict
    phone: str = ""
    posted: float = 0.0
    acked: float = 0.0
    status: int = 0


@dataclass
class Step:
    rate: int
    messages: list[Message]
    send_rate: float = 0.0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    missing: int = 0
    ack_p95: float = 0.0
    worker_rate: float = 0.0
    disconnects: int = 0  # of the manager's connection: what it missed meanwhile is lost
    segments: dict[str, list[float]] = field(default_factory=dict)
    started: float = 0.0  # wall clock, to count the events of one mix
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per process group
    # --agents: every (message, agent who may see it) delivery.
    agent_latencies: list[float] = field(default_factory=list)
    agent_missing: int = 0
    agent_owed: int = 0
    # Mixes "new customers" and "burst": out-of-hours answers owed (one per sender not
    # answered before) and sent before the step ended, each timed from the POST of the
    # sender's first message of the step to its send at the fake Graph API.
    answers_owed: int = 0
    answers: int = 0
    answer_latencies: list[float] = field(default_factory=list)
    # Their status webhooks (sent, delivered, read) still unprocessed when the step ended.
    statuses_waiting: int = 0

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 95) if self.latencies else float("inf")

    @property
    def held(self) -> bool:
        return (
            self.send_rate >= HELD_SEND_SHARE * self.rate
            and self.errors == 0
            and self.missing == 0
            and self.p95 < HELD_P95_SECONDS
        )

    @property
    def failed(self) -> bool:
        sent = max(1, len(self.messages))
        return self.p95 > FAIL_P95_SECONDS or self.missing > FAIL_MISSING_SHARE * sent


class Poster:
    """Posts webhooks on schedule from a pool of threads, each with a keep-alive session.

    Open loop: a slow answer delays only its own thread, never the schedule, as
    with Meta, which does not wait for one delivery before the next.
    """

    def __init__(self, url: str, threads: int = 64) -> None:
        self.target = urllib.parse.urlsplit(url)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="post")
        self.local = threading.local()

    def send(self, messages: list[Message], rate: float) -> None:
        start = time.monotonic()
        futures = []
        for n, message in enumerate(messages):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(self.pool.submit(self._post, message))
        wait_for(futures)

    def _post(self, message: Message) -> None:
        # http.client, not requests: the poster shares the two cores with what
        # it measures, and requests cost it several times the CPU per POST.
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = http.client.HTTPConnection(
                self.target.hostname, self.target.port, timeout=30
            )
        elif connection.sock is not None and select.select([connection.sock], [], [], 0)[0]:
            # Readable while idle: gunicorn closed the kept-alive connection
            # (its keep-alive timeout); sending on it would fail, so reconnect.
            connection.close()
        message.posted = time.time()
        try:
            connection.request("POST", self.target.path, body=message.body, headers=message.headers)
            answer = connection.getresponse()
            answer.read()
            message.status = answer.status
        except (OSError, http.client.HTTPException):
            connection.close()  # opened afresh by the next request
            message.status = -1
        message.acked = time.time()

    def close(self) -> None:
        self.pool.shutdown(wait=True)


class Listener:
    """The manager's Socket.IO connection, noting when each wamid's ``message:new`` arrives."""

    def __init__(self, base_url: str, session: requests.Session, log: Path) -> None:
        self.arrived: dict[str, float] = {}
        self.disconnects: list[str] = []
        # The client's own warnings say why a connection dropped.
        logger = logging.getLogger("e2e.socket")
        logger.addHandler(logging.FileHandler(log))
        logger.setLevel(logging.WARNING)
        logger.propagate = False
        self.client = socketio.Client(reconnection=True, logger=logger, engineio_logger=logger)
        self.client.on("message:new", self._message_new)
        # Live queues (app/platform/live_queues.py) send numbered batches instead.
        self.client.on("live", self._live)
        self.client.on("disconnect", self._disconnected)
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        # Over WebSocket, as browsers connect (websocket-client, requirements-dev.txt).
        self.client.connect(
            base_url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10
        )

    def _message_new(self, data) -> None:
        self.arrived.setdefault(data["message"]["external_message_id"], time.time())

    def _live(self, _first, *items) -> None:
        for event, data in items:
            if event == "message:new":
                self._message_new(data)

    def _disconnected(self, reason=None) -> None:
        self.disconnects.append(f"{time.strftime('%H:%M:%S')} {reason}")

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


class KeepAliveGraph:
    """The Graph API's message send as Meta serves it: HTTP/1.1, the connection kept.

    The suite's fake (werkzeug's server) closes every connection, so each send
    through it paid a new connection in the worker, which a sender of many
    answers to Meta does not (app/conversations/channels/whatsapp/client.py keeps a session).

    With ``statuses_to`` (the app's WhatsApp webhook URL) every answered send
    comes back as Meta reports it: a signed status webhook each for ``sent``,
    ``delivered`` and ``read`` (:data:`STATUS_DELAYS` after the send), each an
    inbound event of its own for the app, as in production.
    """

    def __init__(self) -> None:
        self._bodies: list[dict] = []
        self._sent_at: dict[str, float] = {}  # recipient → when its first answer came
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self.url = ""
        self.reports: StatusReports | None = None

    def start(self) -> KeepAliveGraph:
        graph = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"] or 0)))
                wamid = None
                if self.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                    status, answer = 401, {"error": {"code": 190, "message": "token expired"}}
                elif not self.path.endswith("/messages"):
                    status, answer = 404, {"error": {"code": 100, "message": "not faked"}}
                else:
                    with graph._lock:
                        graph._bodies.append(body)
                        graph._sent_at.setdefault(str(body.get("to")), time.time())
                        number = next(graph._ids)
                    status = 200
                    wamid = f"wamid.bench{number:06d}"
                    answer = {
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                        "messages": [{"id": wamid}],
                    }
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                if wamid and graph.reports is not None:
                    graph.reports.report(wamid, str(body.get("to")))

            def log_message(self, *args) -> None:  # the answers would bury the figures
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def statuses_to(self, webhook_url: str) -> None:
        """From now on, report every answered send's statuses to ``webhook_url``."""
        self.reports = StatusReports(webhook_url)

    def sent(self) -> list[dict]:
        with self._lock:
            return list(self._bodies)

    def answered(self) -> dict[str, float]:
        """Each recipient answered so far, with the moment of its first answer."""
        with self._lock:
            return dict(self._sent_at)

    def stop(self) -> None:
        if self.reports is not None:
            self.reports.stop()
        if self._server is not None:
            self._server.shutdown()


# After the send's answer, as Meta reports them: sent at once, delivered when the
# phone has it, read a moment later (the sandbox transport steps 1.5 s).
STATUS_DELAYS = (("sent", 0.3), ("delivered", 1.5), ("read", 3.0))


class StatusReports:
    """Posts the status webhooks of answered sends when they come due, signed as Meta
    signs them, from a few threads with a kept-alive connection each."""

    def __init__(self, url: str, threads: int = 8) -> None:
        self.target = urllib.parse.urlsplit(url)
        self._due: list[tuple[float, int, bytes, dict]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="status")
        self._local = threading.local()
        self._stopped = False
        self.posted = 0
        self.refused = 0
        self._in_flight = 0
        threading.Thread(target=self._run, daemon=True, name="status-clock").start()

    def report(self, wamid: str, recipient: str) -> None:
        now = time.time()
        with self._wake:
            for state, delay in STATUS_DELAYS:
                payload = webhook(statuses=[status(wamid, state, int(now + delay), recipient)])
                body, headers = signed(payload, APP_SECRET)
                heapq.heappush(self._due, (now + delay, next(self._order), body, headers))
            self._wake.notify()

    def waiting(self) -> int:
        """Statuses not yet posted (due later, or on their way)."""
        with self._wake:
            return len(self._due) + self._in_flight

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and (not self._due or self._due[0][0] > time.time()):
                    self._wake.wait(self._due[0][0] - time.time() if self._due else None)
                if self._stopped:
                    return
                _, _, body, headers = heapq.heappop(self._due)
                self._in_flight += 1
            self._pool.submit(self._post, body, headers)

    def _post(self, body: bytes, headers: dict) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = http.client.HTTPConnection(
                self.target.hostname, self.target.port, timeout=30
            )
        elif connection.sock is not None and select.select([connection.sock], [], [], 0)[0]:
            connection.close()  # gunicorn closed the kept-alive connection
        try:
            connection.request("POST", self.target.path, body=body, headers=headers)
            answer = connection.getresponse()
            answer.read()
            ok = answer.status == 200
        except (OSError, http.client.HTTPException):
            connection.close()
            ok = False
        with self._wake:
            self._in_flight -= 1
            self.posted += ok
            self.refused += not ok

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        self._pool.shutdown(wait=False, cancel_futures=True)


class Senders:
    """Who writes: a pool of repeat senders, and fresh numbers for the first-timers."""

    def __init__(self, pool: int, new_share: float, fresh_from: int, seed: int = 2026) -> None:
        self.pool = pool
        self.new_share = new_share
        self.fresh = itertools.count(fresh_from)
        self.rng = random.Random(seed)

    def pool_number(self, n: int) -> str:
        return f"{POOL_PREFIX}{n:07d}"

    def messages(self, prefix: str, count: int, first_new: int = 0) -> list[Message]:
        """``count`` messages; the first ``first_new`` from numbers never seen before
        (a burst's), the rest new in ``new_share`` of cases, else from the pool."""
        out = []
        for n in range(count):
            if n < first_new or self.rng.random() < self.new_share:
                phone = f"{NEW_PREFIX}{next(self.fresh):07d}"
            else:
                phone = self.pool_number(self.rng.randrange(self.pool))
            wamid = f"wamid.{prefix}{n:06d}"
            text = self.rng.choice(TEXTS)
            payload = webhook(
                messages=[text_message(phone, text, wamid, int(time.time()))],
                contacts=[contact(phone, f"Klant {phone[-5:]}")],
            )
            body, headers = signed(payload, APP_SECRET)
            out.append(Message(wamid, body_digest(body), body, headers, phone))
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mix",
        default="both",
        help="who writes (see above): steady, new, burst, or several joined by commas "
        "(both: steady,new)",
    )
    parser.add_argument(
        "--burst-senders",
        type=int,
        default=400,
        help="first-time senders that begin each step of the burst mix",
    )
    parser.add_argument(
        "--rates", default="10,20,30,40,50,75,100,150,200,250", help="msg/s per step"
    )
    parser.add_argument("--step-seconds", type=float, default=12)
    parser.add_argument("--drain", type=float, default=20, help="seconds to wait for stragglers")
    parser.add_argument(
        "--idle-seconds", type=float, default=10, help="measure the idle deployment's CPU first"
    )
    parser.add_argument("--senders", type=int, default=500, help="pool of repeat senders")
    parser.add_argument(
        "--new-share", type=float, default=0.3, help="share of first-time senders (steady mix)"
    )
    parser.add_argument("--workers", type=int, default=2, help="worker.py processes")
    parser.add_argument(
        "--budget", type=float, default=300, help="seconds for one mix's steps at most"
    )
    parser.add_argument("--reuse", action="store_true", help="keep the database and its senders")
    parser.add_argument(
        "--agents",
        type=int,
        default=0,
        help="signed-in agents listening on Socket.IO besides the manager",
    )
    parser.add_argument(
        "--pages-server",
        choices=("gevent", "gthread"),
        default="gevent",
        help="the pages gunicorn: gevent as the Procfile runs it, or gthread as before",
    )
    parser.add_argument(
        "--page-threads",
        type=int,
        default=PAGE_THREADS,
        help="with --pages-server gthread, its threads; each open WebSocket holds one",
    )
    parser.add_argument(
        "--webhook-server",
        default="3x4",
        help="the webhooks gunicorn's processes x threads (docs/deployment.md: 3x4)",
    )
    args = parser.parse_args()
    mixes = ("steady", "new") if args.mix == "both" else tuple(args.mix.split(","))
    if not set(mixes) <= set(MIX_NAMES):
        parser.error(f"--mix: one or more of {', '.join(MIX_NAMES)}, or both")
    hook_processes, hook_threads = (int(n) for n in args.webhook_server.split("x"))
    rates = [int(r) for r in args.rates.split(",") if r.strip()]
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    ensure_database(database_url)

    scratch = Path(tempfile.mkdtemp(prefix="e2e-bench-"))
    fake = KeepAliveGraph().start()
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # Every process must sign sessions and encrypt with the same keys.
        "SECRET_KEY": uuid.uuid4().hex,
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SWITCHBOARD_INSTANCE_PATH": str(scratch),
        "ATTACHMENTS_DIR": str(scratch / "attachments"),
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "WHATSAPP_API_BASE": fake.url,
    }
    # This process sets up the data with the same settings as the servers and
    # workers, which inherit its environment.
    os.environ.update(env)
    app = create_app(start_embedded_worker=False)
    broker = app.extensions["broker"]
    with app.app_context():
        fresh_from = prepare(app, args)
    senders = Senders(args.senders, args.new_share, fresh_from)

    run = uuid.uuid4().hex[:6]
    with contextlib.ExitStack() as stack:
        pages = stack.enter_context(pages_server(args.pages_server, env, args.page_threads))
        hooks = stack.enter_context(gunicorn("wsgi:app", hook_processes, hook_threads, env))
        worker_env = dict(os.environ, PYTHONPATH=str(ROOT))
        workers = []
        for _ in range(args.workers):
            process = start_worker(worker_env, log=scratch / "worker.log")
            stack.callback(stop_process, process)
            workers.append(process.pid)
        cpu = CpuMeter()
        cpu.add("webhooks", marker=hooks.removeprefix("http://"))
        cpu.add("workers", pids=workers)
        cpu.add("PostgreSQL", names={"postgres"})
        cpu.add("Redis", names={"redis-server"})
        cpu.add("pages+Socket.IO", marker=pages.removeprefix("http://"))
        # Poster, manager's Socket.IO client and fake Graph API: the outside world.
        cpu.add("benchmark", pids={os.getpid()}, descendants=False)
        wait_for_workers(broker.connection, args.workers)
        listener = Listener(
            pages, signed_in_session(pages, MANAGER_EMAIL, MANAGER_PASSWORD), scratch / "socket.log"
        )
        stack.callback(listener.close)
        poster = Poster(f"{hooks}/api/v1/webhooks/whatsapp")
        stack.callback(poster.close)
        # Every answer comes back as Meta's status webhooks, each an event to process.
        fake.statuses_to(f"{hooks}/api/v1/webhooks/whatsapp")
        print(
            f"pages+Socket.IO gunicorn {pages_described(args.pages_server, args.page_threads)}"
            f" at {pages}, "
            f"webhooks gunicorn {hook_processes}×{hook_threads} at {hooks}, "
            f"{args.workers} worker.py; logs in {scratch}"
        )
        warm_up(poster, listener, senders.messages(f"{run}w", 20))
        idle_cpu(cpu, args.idle_seconds)
        agents, agent_figures = connect_agents(args.agents, pages, cpu)
        if agents is not None:
            stack.callback(agents.close)

        results = []
        for mix in mixes:
            with app.app_context():
                open_desk(mix == "steady")
            # Burst: each step's first senders are new, the rest are the pool's.
            senders.new_share = {"steady": args.new_share, "new": 1.0, "burst": 0.0}[mix]
            results.append(
                run_mix(
                    mix,
                    rates,
                    args,
                    app,
                    broker,
                    senders,
                    poster,
                    listener,
                    cpu,
                    f"{run}{mix[0]}",
                    agents,
                    # Each sender of a closed desk is owed the out-of-hours answer: a
                    # step ends when they went out and their statuses were processed
                    # too, so their CPU is the step's.
                    fake if mix != "steady" else None,
                )
            )
        disconnects = list(listener.disconnects)  # closing it adds one
        if agents is not None:
            agents.collect()
            disconnects += [f"agent: {reason}" for reason in agents.disconnects]
    fake.stop()
    with app.app_context():
        summary = integrity()
        for result in results:
            result.update(mix_figures(result["steps"]))
    for result in results:
        print_summary(result, args)
    if agent_figures:
        print_agents(agent_figures, results)
    reports = fake.reports
    print_integrity(
        summary,
        disconnects,
        len(fake.sent()),
        (reports.posted, reports.refused) if reports else (0, 0),
    )


def run_mix(
    mix, rates, args, app, broker, senders, poster, listener, cpu, prefix, agents=None, fake=None
) -> dict:
    """Step through the rates for one mix; stops at the first clear failure or the budget."""
    print(f"\n== mix {MIX_NAMES[mix]} ==")
    steps: list[Step] = []
    stop_reason = "all rates done"
    started, load_before = time.monotonic(), os.getloadavg()[0]
    for number, rate in enumerate(rates):
        remaining = args.budget - (time.monotonic() - started)
        if remaining < args.step_seconds + 5:
            stop_reason = f"time budget ({args.budget:.0f} s) used"
            break
        count = int(rate * args.step_seconds)
        first_new = min(count, args.burst_senders) if mix == "burst" else 0
        messages = senders.messages(f"{prefix}{number:02d}", count, first_new)
        drain = min(args.drain, max(2.0, remaining - args.step_seconds))
        before = cpu.snapshot()
        step = run_step(
            rate,
            messages,
            poster,
            listener,
            drain,
            fake.answered if fake else None,
            (lambda: statuses_waiting(app, fake)) if fake else None,
        )
        after = cpu.snapshot()
        step.cpu = {name: after[name] - before[name] for name in after}
        with app.app_context():
            attribute_server_time(step, broker, listener)
            agent_deliveries(step, agents)
        steps.append(step)
        print_step(step)
        if step.failed:
            stop_reason = f"{rate} msg/s clearly failed"
            break
    # The machine's other work makes figures noisy; the load shows how much.
    load = (load_before, os.getloadavg()[0])
    return {"mix": mix, "steps": steps, "stop_reason": stop_reason, "load": load}


MIX_NAMES = {
    "steady": "steady (70 % open conversations, 30 % new)",
    "new": "new customers",
    "burst": "burst of new customers (each step begins with new senders; desk closed)",
}


def statuses_waiting(app, fake: KeepAliveGraph) -> int:
    """Status webhooks the fake has yet to post, and WhatsApp events not yet processed."""
    with app.app_context():
        unprocessed = db.session.scalar(
            sa.select(sa.func.count()).where(
                InboundWebhookEvent.source == "whatsapp",
                InboundWebhookEvent.processing_state.in_(
                    (ProcessingState.RECEIVED, ProcessingState.PROCESSING)
                ),
            )
        )
        db.session.rollback()
    return (fake.reports.waiting() if fake.reports else 0) + unprocessed


OUT_OF_HOURS_TEMPLATE = "e2e out of hours"
CALENDAR_OPEN, CALENDAR_CLOSED = "e2e always open", "e2e closed today and tomorrow"
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def pages_server(kind: str, env: dict[str, str], threads: int = PAGE_THREADS):
    """The pages and Socket.IO gunicorn, as the Procfile runs it (gevent) or as before."""
    if kind == "gevent":
        return gunicorn("wsgi:app", 1, PAGE_CONNECTIONS, env, worker_class="gevent")
    return gunicorn("wsgi:app", 1, threads, env)


def pages_described(kind: str, threads: int = PAGE_THREADS) -> str:
    return (
        f"gevent 1 process, {PAGE_CONNECTIONS:,} connections"
        if kind == "gevent"
        else (f"gthread 1×{threads}")
    )


def open_desk(is_open: bool) -> None:
    """Point the WhatsApp channel at an always-open calendar, or at one closed for two days.

    Workers may keep the channel's settings for a few seconds, so this waits
    that long before the mix starts.
    """
    channel = channel_of_type(ChannelType.WHATSAPP_BUSINESS)
    name = CALENDAR_OPEN if is_open else CALENDAR_CLOSED
    calendar = db.session.scalar(sa.select(BusinessCalendar).where(BusinessCalendar.name == name))
    if calendar is None:
        today = time.strftime("%Y-%m-%d")
        tomorrow = time.strftime("%Y-%m-%d", time.localtime(time.time() + 86400))
        calendar = BusinessCalendar(
            name=name,
            weekly_hours={
                day: [["00:00", "24:00"]] if is_open else [["08:00", "17:00"]] for day in EVERY_DAY
            },
            holiday_country=None,
            # Both the local and Amsterdam's date are closed, whatever the hour.
            closed_dates=[] if is_open else sorted({today, tomorrow}),
        )
        db.session.add(calendar)
        db.session.flush()
    if calendar.closed_dates:
        yesterday = time.strftime("%Y-%m-%d", time.localtime(time.time() - 86400))
        calendar.closed_dates = sorted({*calendar.closed_dates, yesterday})
    db.session.get(CommunicationChannel, channel.id).business_calendar_id = calendar.id
    template = db.session.scalar(
        sa.select(CommunicationTemplate).where(
            CommunicationTemplate.template_name == OUT_OF_HOURS_TEMPLATE
        )
    )
    if template is None:
        template = CommunicationTemplate(
            template_name=OUT_OF_HOURS_TEMPLATE,
            template_category=TemplateCategory.AUTO_RESPONSE,
            channel_type=TemplateChannelType.WHATSAPP_BUSINESS,
            whatsapp_template_name="out_of_hours",
            message_template=(
                "Hoi {{customer_name}}, we zijn gesloten. Weer open: {{next_opening}}."
            ),
        )
        db.session.add(template)
    template.is_active = not is_open
    commit()
    db.engine.dispose()
    time.sleep(CONFIGURATION_SETTLE_SECONDS)


# Longer than any worker keeps a channel's settings in memory.
CONFIGURATION_SETTLE_SECONDS = 6


def prepare(app, args) -> int:
    """Wipe (unless reusing), migrate, add the manager and the pool; returns the first new number.

    The pool's senders get their contact and open thread here, in this process,
    so the steps mix first-time and repeat senders in the same proportion
    throughout instead of drifting from new to repeat.
    """
    if not args.reuse:
        db.session.execute(sa.text("DROP SCHEMA public CASCADE"))
        db.session.execute(sa.text("CREATE SCHEMA public"))
        db.session.commit()
    upgrade()
    app.extensions["broker"].connection.flushdb()
    if db.session.scalar(sa.select(User.id).where(User.email == MANAGER_EMAIL)) is None:
        create_user(MANAGER_EMAIL, "Bench Manager", Role.MANAGER, MANAGER_PASSWORD)
    existing = set(db.session.scalars(sa.select(User.email)))
    for n in range(args.agents):
        if agent_email(n) not in existing:
            create_user(agent_email(n), f"Bench Agent {n:03d}", Role.AGENT, AGENT_PASSWORD)
    channel = channel_of_type(ChannelType.WHATSAPP_BUSINESS)
    db.session.commit()
    known = set(db.session.scalars(sa.select(Contact.phone).where(Contact.phone.is_not(None))))
    senders = Senders(args.senders, 0, 0)
    started, seeded = time.perf_counter(), 0
    for n in range(args.senders):
        phone = senders.pool_number(n)
        if f"+{phone}" in known:
            continue
        message = text_message(phone, "Goedemorgen!", f"wamid.seed{n:07d}", int(time.time()))
        receive_message(channel, message, f"Klant {phone[-5:]}", PHONE_NUMBER_ID)
        seeded += 1
        if seeded % 100 == 0:
            commit()
    commit()
    if seeded:
        seconds = time.perf_counter() - started
        print(
            f"seeded {seeded} repeat senders in-process in {seconds:.1f} s "
            f"({seconds / seeded * 1000:.0f} ms per first message, no HTTP, no queue)"
        )
    fresh_from = db.session.scalar(sa.select(sa.func.count(Contact.id)))
    db.engine.dispose()
    return fresh_from


def idle_cpu(cpu: CpuMeter, seconds: float) -> None:
    """What the deployment spends with no message coming in (consumers listening, RQ
    waiting, sweeps, heartbeats): a cost every message at a low rate shares."""
    if seconds <= 0:
        return
    time.sleep(2.0)  # the warm-up's last answers and live updates
    before = cpu.snapshot()
    time.sleep(seconds)
    after = cpu.snapshot()
    parts = ", ".join(
        f"{part} {(after[part] - before[part]) * 1000 / seconds:.1f}"
        for part in after
        if part != "benchmark"
    )
    print(f"idle for {seconds:.0f} s, ms of CPU a second: {parts}")


def agent_email(n: int) -> str:
    return f"agent{n:03d}@e2e-bench.test"


def connect_agents(count: int, pages: str, cpu: CpuMeter) -> tuple[AgentSockets | None, dict]:
    """Sign ``count`` agents in and connect each over WebSocket (in a process of their
    own, counted as the benchmark's CPU: benchmarks/agent_sockets.py says why); what
    the pages process spent on them: CPU while they sat idle, and resident memory."""
    if not count:
        return None, {}
    page_pids = cpu.members()["pages+Socket.IO"]
    memory_before = sum(resident_kib(pid) for pid in page_pids)
    sessions = [signed_in_session(pages, agent_email(n), AGENT_PASSWORD) for n in range(count)]
    cookies = ["; ".join(f"{c.name}={c.value}" for c in s.cookies) for s in sessions]
    agents = AgentSockets(pages, cookies)
    cpu.groups["benchmark"][0].add(agents.pid)
    time.sleep(1.0)
    before = cpu.snapshot()["pages+Socket.IO"]
    time.sleep(AGENTS_IDLE_SECONDS)
    idle_cpu = cpu.snapshot()["pages+Socket.IO"] - before
    memory_after = sum(resident_kib(pid) for pid in page_pids)
    figures = {
        "agents": agents.count,
        "memory before MiB": memory_before / 1024,
        "memory after MiB": memory_after / 1024,
        "KiB per agent": (memory_after - memory_before) / count,
        "idle CPU ms per agent per s": idle_cpu * 1000 / count / AGENTS_IDLE_SECONDS,
    }
    print(
        f"{count} agents connected over WebSocket: pages process {figures['memory before MiB']:.0f}"
        f" → {figures['memory after MiB']:.0f} MiB resident "
        f"({figures['KiB per agent']:.0f} KiB per agent), idle CPU "
        f"{figures['idle CPU ms per agent per s']:.2f} ms per agent per second"
    )
    return agents, figures


def agent_deliveries(step: Step, agents: AgentSockets | None) -> None:
    """Each message's ``message:new`` at every agent who may see its thread (p95 over all
    deliveries; a delivery owed and not made is missing)."""
    if agents is None:
        return
    agents.collect()
    wamids = [m.wamid for m in step.messages if m.status == 200]
    rooms = dict(
        db.session.execute(
            sa.select(
                CommunicationMessage.external_message_id, CommunicationMessage.thread_id
            ).where(CommunicationMessage.external_message_id.in_(wamids))
        ).all()
    )
    threads = {
        thread.id: set(thread_rooms(thread))
        for thread in db.session.scalars(
            sa.select(CommunicationThread).where(CommunicationThread.id.in_(set(rooms.values())))
        )
    }
    db.session.rollback()
    # Every bench agent is an agent of no team: the rooms an agent's connection joins.
    agent_room = role_room(Role.AGENT)
    owed = {wamid for wamid, thread_id in rooms.items() if agent_room in threads[thread_id]}
    posted = {m.wamid: m.posted for m in step.messages}
    for arrived in agents.arrived:
        for wamid in owed:
            if wamid in arrived:
                step.agent_latencies.append(arrived[wamid] - posted[wamid])
            else:
                step.agent_missing += 1
    step.agent_owed = len(owed) * agents.count


def warm_up(poster: Poster, listener: Listener, messages: list[Message]) -> None:
    """Warm pools and imports in every process; refuse to measure a pipeline that loses all."""
    poster.send(messages, rate=10)
    deadline = time.time() + 30
    while time.time() < deadline and any(m.wamid not in listener.arrived for m in messages):
        time.sleep(0.05)
    arrived = sum(m.wamid in listener.arrived for m in messages)
    if arrived == 0:
        statuses = sorted({m.status for m in messages})
        sys.exit(f"warm-up: no message:new arrived (webhook answers {statuses}); see the logs")
    print(f"warm-up: {arrived}/{len(messages)} arrived")


def run_step(
    rate: int,
    messages: list[Message],
    poster,
    listener,
    drain: float,
    answers=None,
    statuses=None,
) -> Step:
    """Post ``messages`` at ``rate`` and wait up to ``drain`` for their ``message:new``
    and, with ``answers`` (the recipients the fake Graph API has answered, with when),
    for one answer to each sender not answered before, and with ``statuses`` (how many
    status webhooks are still to post or to process) for their statuses."""
    dropped = len(listener.disconnects)
    answered_before = set(answers()) if answers else set()
    poster.send(messages, rate)
    step = Step(rate, messages)
    accepted = [m for m in messages if m.status == 200]
    step.errors = len(messages) - len(accepted)
    deadline = time.time() + drain
    while time.time() < deadline and any(m.wamid not in listener.arrived for m in accepted):
        time.sleep(0.05)
    if answers:
        first_posted: dict[str, float] = {}
        for m in accepted:
            first_posted.setdefault(m.phone, m.posted)
        owed = set(first_posted) - answered_before
        while time.time() < deadline and not owed <= answers().keys():
            time.sleep(0.05)
        answered = answers()
        step.answers_owed = len(owed)
        step.answers = len(owed & answered.keys())
        step.answer_latencies = [answered[p] - first_posted[p] for p in owed if p in answered]
    if statuses:
        while time.time() < deadline and statuses() > 0:
            time.sleep(0.25)
        step.statuses_waiting = statuses()
    posted = sorted(m.posted for m in messages)
    if len(posted) > 1 and posted[-1] > posted[0]:
        step.send_rate = (len(posted) - 1) / (posted[-1] - posted[0])
    step.latencies = [
        listener.arrived[m.wamid] - m.posted for m in accepted if m.wamid in listener.arrived
    ]
    step.missing = len(accepted) - len(step.latencies)
    step.disconnects = len(listener.disconnects) - dropped
    step.ack_p95 = percentile([m.acked - m.posted for m in messages], 95)
    return step


def attribute_server_time(step: Step, broker, listener: Listener) -> None:
    """Split each message's time by the event row and its RQ job (clocks of one machine).

    stored: POST → row written; to processed: row → processed by a worker's
    consumer. An event that went through an RQ job instead (the stalled-event
    sweep, a retry): hand-off: row → job queued;
    queued: waiting for a free worker; job: processing, commit and emit;
    to browser: job end → event at the manager (Redis pub/sub, long-poll); it
    can be below zero, as the emit happens inside the job before RQ notes its end.
    """
    by_digest = {m.digest: m for m in step.messages}
    events = db.session.execute(
        sa.select(
            InboundWebhookEvent.id,
            InboundWebhookEvent.dedupe_key,
            InboundWebhookEvent.created_at,
            InboundWebhookEvent.processed_at,
        ).where(
            InboundWebhookEvent.source == "whatsapp",
            InboundWebhookEvent.dedupe_key.in_(list(by_digest)),
        )
    ).all()
    db.session.rollback()
    processed = [e for e in events if e.processed_at is not None]
    if processed:
        span = max(e.processed_at for e in processed) - min(e.created_at for e in processed)
        step.worker_rate = len(processed) / max(span.total_seconds(), 1e-3)
    jobs = webhook_jobs(broker)
    segments: dict[str, list[float]] = {k: [] for k in SEGMENTS}
    for event in events:
        message, job = by_digest[event.dedupe_key], jobs.get(str(event.id))
        created = event.created_at.timestamp()
        segments["stored"].append(created - message.posted)
        if job is None and event.processed_at is not None:
            # Taken by a worker's consumer (LISTEN/NOTIFY), no RQ job: the row's
            # own times say when it was stored and when processed.
            done = event.processed_at.timestamp()
            segments["to processed"].append(done - created)
            if message.wamid in listener.arrived:
                segments["to browser"].append(max(0.0, listener.arrived[message.wamid] - done))
            continue
        if job is None or not (job.enqueued_at and job.started_at and job.ended_at):
            continue
        segments["hand-off"].append(job.enqueued_at.timestamp() - created)
        segments["queued"].append((job.started_at - job.enqueued_at).total_seconds())
        # A batch's time is shared by its events: the job time per message.
        in_job = len(job.args[0]) if isinstance(job.args[0], list) else 1
        segments["job"].append((job.ended_at - job.started_at).total_seconds() / in_job)
        if message.wamid in listener.arrived:
            # Measured from the job's end: a batch emits its early events before it.
            segments["to browser"].append(
                max(0.0, listener.arrived[message.wamid] - job.ended_at.timestamp())
            )
    step.segments = segments


# Where a message's time goes: through RQ (hand-off to the job's end), or through a
# worker's consumer (stored to processed), then to the browser.
SEGMENTS = ("stored", "hand-off", "queued", "job", "to processed", "to browser")


def webhook_jobs(broker) -> dict[str, Job]:
    """The webhook queue's finished and failed jobs by event id (RQ keeps them 500 s)."""
    queue = broker.queue("webhooks")
    ids = FinishedJobRegistry(queue=queue).get_job_ids()
    ids += FailedJobRegistry(queue=queue).get_job_ids()
    jobs = Job.fetch_many(ids, connection=broker.connection)
    by_event: dict[str, Job] = {}
    for job in jobs:
        if job is None or not job.args:
            continue
        # A batch job (process_events) carries a list of event ids.
        events = job.args[0] if isinstance(job.args[0], list) else [job.args[0]]
        for event_id in events:
            by_event[str(event_id)] = job
    return by_event


def integrity() -> dict[str, int]:
    """What the run left behind: failed events, and senders split over two contacts or threads."""
    twice = sa.select(Contact.phone).group_by(Contact.phone).having(sa.func.count() > 1)
    open_threads = (
        sa.select(CommunicationThread.contact_id)
        .where(CommunicationThread.status != ThreadStatus.CLOSED)
        .group_by(CommunicationThread.contact_id)
        .having(sa.func.count() > 1)
    )
    answers = sa.select(CommunicationMessage.thread_id).where(
        CommunicationMessage.message_type == MessageType.AUTO_RESPONSE,
        CommunicationMessage.extra["auto_response"].as_string() == "out_of_hours",
    )
    return {
        "answered twice": db.session.scalar(
            sa.select(sa.func.count()).select_from(
                answers.group_by(CommunicationMessage.thread_id)
                .having(sa.func.count() > 1)
                .subquery()
            )
        ),
        # Every answer was reported sent, delivered and read: its ticks end on read.
        "answers not read": db.session.scalar(
            sa.select(sa.func.count()).where(
                CommunicationMessage.message_type == MessageType.AUTO_RESPONSE,
                CommunicationMessage.delivery_status != DeliveryStatus.READ,
            )
        ),
        "failed": db.session.scalar(
            sa.select(sa.func.count()).where(
                InboundWebhookEvent.processing_state == ProcessingState.FAILED
            )
        ),
        "contacts twice": db.session.scalar(
            sa.select(sa.func.count()).select_from(twice.subquery())
        ),
        "two open threads": db.session.scalar(
            sa.select(sa.func.count()).select_from(open_threads.subquery())
        ),
    }


def mix_figures(steps: list[Step]) -> dict:
    """The workers' saturated rate and job time over one mix's messages."""
    digests = [m.digest for step in steps for m in step.messages]
    per_second = (
        sa.select(sa.func.count().label("n"))
        .where(
            InboundWebhookEvent.processed_at.is_not(None),
            InboundWebhookEvent.source == "whatsapp",
            InboundWebhookEvent.dedupe_key.in_(digests),
        )
        .group_by(sa.func.date_trunc("second", InboundWebhookEvent.processed_at))
    )
    counts = sorted(db.session.scalars(per_second)) if digests else []
    db.session.rollback()
    jobs = [t for step in steps for t in step.segments.get("job") or []]
    return {
        # The best second's count would flatter bursts; the fifth best is steadier.
        "peak": counts[-5] if len(counts) >= 5 else (counts[-1] if counts else 0),
        "job p50": statistics.median(jobs) if jobs else float("inf"),
        "job p95": percentile(jobs, 95) if jobs else float("inf"),
    }


def ms(seconds: float) -> str:
    return "—" if seconds == float("inf") else f"{seconds * 1000:.0f}"


def print_step(step: Step) -> None:
    lat = step.latencies or [float("inf")]
    print(
        f"{step.rate:>4} msg/s offered: sent {step.send_rate:6.1f}/s, {len(step.messages)} msgs, "
        f"errors {step.errors}, p50 {ms(statistics.median(lat))} ms, p95 {ms(step.p95)} ms, "
        f"p99 {ms(percentile(lat, 99))} ms, missing {step.missing}, "
        f"worker {step.worker_rate:.1f} ev/s, socket disconnects {step.disconnects}"
        + (
            f", answers sent {step.answers} of {step.answers_owed} (p95 "
            f"{ms(percentile(step.answer_latencies or [float('inf')], 95))} ms after the "
            f"customer's message), statuses left unprocessed {step.statuses_waiting}"
            if step.answers_owed
            else ""
        )
    )


def print_summary(result: dict, args) -> None:
    steps, load = result["steps"], result["load"]
    print(
        f"\nmix {MIX_NAMES[result['mix']]}: WhatsApp webhook → worker.py ×{args.workers} → "
        f"Socket.IO (manager), {args.step_seconds:.0f} s per step, pool of {args.senders} "
        f"senders; stopped: {result['stop_reason']}; "
        f"load average {load[0]:.1f} before, {load[1]:.1f} after"
    )
    header = (
        f"{'offered':>7} {'sent/s':>7} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'missing':>7} {'ack p95':>7} {'worker ev/s':>11}  verdict"
    )
    print(header)
    for step in steps:
        lat = step.latencies or [float("inf")]
        verdict = "held" if step.held else ("FAILED" if step.failed else "not held")
        print(
            f"{step.rate:>7} {step.send_rate:>7.1f} {step.errors:>6} "
            f"{ms(statistics.median(lat)):>7} {ms(step.p95):>7} {ms(percentile(lat, 99)):>7} "
            f"{step.missing:>7} {ms(step.ack_p95):>7} {step.worker_rate:>11.1f}  {verdict}"
        )
    print("\nwhere a message's time went, p50 (p95) ms")
    names = [n for n in SEGMENTS if any(step.segments.get(n) for step in steps)]
    print(f"{'offered':>7} " + " ".join(f"{n:>15}" for n in names))
    for step in steps:
        cells = []
        for name in names:
            values = step.segments.get(name) or []
            cells.append(
                f"{ms(statistics.median(values))} ({ms(percentile(values, 95))})" if values else "—"
            )
        print(f"{step.rate:>7} " + " ".join(f"{c:>15}" for c in cells))
    print(
        "\nCPU per message, ms (all of the step's CPU over its messages; 2 cores give "
        "2,000 ms a second, so 200 msg/s leaves 10 ms a message for everything)"
    )
    groups = list(steps[0].cpu) if steps else []
    print(
        f"{'offered':>7} "
        + " ".join(f"{g:>15}" for g in groups)
        + f" {'all':>7} {'deployment':>10}"
    )
    for step in steps:
        count = max(1, len(step.messages))
        cells = [f"{step.cpu[g] * 1000 / count:>15.1f}" for g in groups]
        total = sum(step.cpu.values()) * 1000 / count
        # Everything but the benchmark's own poster, clients and fake Graph API.
        deployment = total - step.cpu.get("benchmark", 0.0) * 1000 / count
        print(f"{step.rate:>7} " + " ".join(cells) + f" {total:>7.1f} {deployment:>10.1f}")
    if any(step.answers_owed for step in steps):
        print(
            "\nout-of-hours answers: owed, sent before the step ended, time from the "
            "customer's first message to the send at the fake Graph API p50 (p95) ms; "
            "status webhooks still unprocessed when the step ended"
        )
        for step in steps:
            lat = step.answer_latencies or [float("inf")]
            print(
                f"{step.rate:>7} {step.answers_owed:>6} {step.answers:>6} "
                f"{ms(statistics.median(lat)):>7} ({ms(percentile(lat, 95))}) "
                f"{step.statuses_waiting:>6}"
            )
    held = [s.rate for s in steps if s.held]
    print(
        f"highest rate held (p95 < {HELD_P95_SECONDS:.0f} s, nothing missing): "
        f"{f'{max(held)} msg/s' if held else 'none'}; worker time per inbound message "
        f"(job) p50 {ms(result['job p50'])} ms, p95 {ms(result['job p95'])} ms; "
        f"saturated {result['peak']} events processed/s (5th best second)"
    )


def print_agents(figures: dict, results: list[dict]) -> None:
    print(
        f"\n{figures['agents']} agents on one pages+Socket.IO process (WebSocket): resident "
        f"{figures['memory before MiB']:.0f} → {figures['memory after MiB']:.0f} MiB "
        f"({figures['KiB per agent']:.0f} KiB per agent), idle "
        f"{figures['idle CPU ms per agent per s']:.2f} ms CPU per agent per second"
    )
    print(
        f"{'mix':>8} {'offered':>7} {'deliveries':>10} {'missing':>7} {'p50 ms':>7} {'p95 ms':>7}"
        f" {'pages CPU ms/msg':>16}"
    )
    for result in results:
        for step in result["steps"]:
            lat = step.agent_latencies or [float("inf")]
            pages_cpu = step.cpu.get("pages+Socket.IO", 0.0) * 1000 / max(1, len(step.messages))
            print(
                f"{result['mix']:>8} {step.rate:>7} {step.agent_owed:>10} {step.agent_missing:>7}"
                f" {ms(statistics.median(lat)):>7} {ms(percentile(lat, 95)):>7}"
                f" {pages_cpu:>16.1f}"
            )


def print_integrity(
    summary: dict, disconnects: list[str], sends: int, statuses: tuple[int, int]
) -> None:
    print(
        f"\nwhole run: failed events {summary['failed']}; senders with two contacts "
        f"{summary['contacts twice']}, with two open threads {summary['two open threads']}; "
        f"conversations answered out of hours twice {summary['answered twice']}; "
        f"sends to the fake Graph API {sends}, status webhooks posted back {statuses[0]} "
        f"(refused {statuses[1]}), answers whose ticks did not reach read "
        f"{summary['answers not read']}; "
        f"socket disconnects {len(disconnects)} {'; '.join(disconnects)}"
    )


if __name__ == "__main__":
    main()
