"""Many agents on one pages process: every message live to each, and none lost to a drop.

    .venv/bin/python benchmarks/agents.py [--agents 50,200,500] [--rates 20,50]
        [--step-seconds 20] [--drain 20] [--drop-share 0.1] [--drop-seconds 5-30]
        [--app-root PATH[,PATH]] [--pages-server gthread|gevent[,…]]
        [--web-processes 0|K[,…]] [--agents-per-web-process] [--agent-processes M]

Deploys as benchmarks/e2e.py does (its fake Graph API, poster and senders), everything
on 127.0.0.1: a webhooks gunicorn (gthread 3×4), two ``worker.py``, PostgreSQL and
Redis, and the pages process under test, started afresh for each number of agents:
``gthread`` is gunicorn gthread 1×300, as the Procfile ran it, where every open
WebSocket holds a thread; ``gevent`` is gunicorn's gevent worker, one process with up
to 2,000 connections. ``--app-root`` serves the deployment from another checkout (a
``git worktree`` of an older commit with the same ``.venv``), so one invocation
measures two versions one after the other with the same client: the lists of
``--app-root``, ``--pages-server`` and ``--web-processes`` pair up (one value stands
for every run). The database is wiped and seeded again for each run.

``--web-processes K`` (K ≥ 1) runs the pages side as K such processes behind
docs/deployment.md's nginx site (sticky cookie, WebSocket upgrade, Socket.IO
unbuffered; tests/support/proxy.py renders it, on TLS), the agents connecting to
nginx's address; 0, the default, is one pages process reached directly. CPU and
memory are added up over the pages processes and given for each too (its agents
counted as the connections nginx holds to it), with nginx's, the agents' socket
processes', the workers' and the webhooks' CPU beside them: which saturates first.
``--agents-per-web-process`` makes ``--agents`` count per web process (K processes,
K× the agents), so ``--web-processes 1,2`` sets one against two at the same load per
process; ``--agent-processes`` spreads the agents over that many socket processes
when one cannot read every frame in time (benchmarks/_web_processes.py).

N agents (no team, so every thread is theirs to see) sign in through the login form
and hold a raw WebSocket each, in one process of their own
(benchmarks/agent_sockets.py, which speaks the plain ``message:new`` events and the
numbered ``live`` batches). A server that cannot take them all is a figure
("connected 300 of 500"), not a crash. With them connected and idle: the pages
process's resident memory per agent (after minus before, over the agents connected),
its threads, and its idle CPU. Then one step a rate: signed Meta webhooks posted on
schedule, each ``message:new`` timed at every agent from just before its POST; per step
the deliveries owed (message × agent), missing after the drain, p50/p95/p99, and the
pages process's CPU per delivery (``/proc``, over the step and its drain), with the
load average.

Then a step with drops (``--drop-share``, at the highest rate unless ``--drop-rate``):
a seeded random tenth of the agents lose their connection a few seconds in (the TCP
socket closed, no close frame) and reconnect after 5–30 s, asking to resume their
queue. A resumed queue's replay counts as delivered, reported apart (late by design);
a queue not resumed, a gap, or the plain protocol's reconnection makes the agent
refresh its list as the page does (newest first, reading "load more" pages back to
the drop), and a message it owed counts as shown when its thread is listed with a row
at least as new as the message. Missing after the drain must be 0.

Databases (wiped first): BENCH_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/sb_bench_agents) and BENCH_REDIS_URL
(default redis://127.0.0.1:6379/11).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess  # noqa: S404  (gunicorn and worker.py, fixed arguments)
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from app import create_app  # noqa: E402
from app.conversations.inbox.access import thread_rooms  # noqa: E402
from app.platform.auth import passwords  # noqa: E402
from app.platform.extensions import db  # noqa: E402
from app.platform.models import CommunicationMessage, CommunicationThread  # noqa: E402
from app.platform.models.enums import Role  # noqa: E402
from app.platform.realtime import role_room  # noqa: E402
from app.platform.webhooks.recording import body_digest  # noqa: E402
from benchmarks._support import (  # noqa: E402
    CpuMeter,
    ensure_database,
    free_port,
    machine_busy_seconds,
    resident_kib,
    stop_process,
    wait_for_workers,
)
from benchmarks._web_processes import AgentSplit, established_to, web_processes  # noqa: E402
from benchmarks.agent_sockets import AgentSockets, raise_open_files_limit  # noqa: E402
from benchmarks.e2e import (  # noqa: E402
    AGENT_PASSWORD,
    MANAGER_EMAIL,
    MANAGER_PASSWORD,
    NEW_PREFIX,
    TEXTS,
    KeepAliveGraph,
    Message,
    Poster,
    Senders,
    agent_email,
    open_desk,
    prepare,
)
from tests.fakes.whatsapp import (  # noqa: E402
    ACCESS_TOKEN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    contact,
    signed,
    text_message,
    webhook,
)
from tests.support.live_server import signed_in_session  # noqa: E402

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/sb_bench_agents"
DEFAULT_REDIS = "redis://127.0.0.1:6379/11"
# The pages process under test; "hooks" serves the webhooks (docs/deployment.md: 3×4).
SERVERS = {
    "gthread": ("--worker-class", "gthread", "--workers", "1", "--threads", "300"),
    "gevent": ("--worker-class", "gevent", "--workers", "1", "--worker-connections", "2000"),
    "hooks": ("--worker-class", "gthread", "--workers", "3", "--threads", "4"),
}
# With every agent connected and nothing sent: the pages process's idle cost.
IDLE_SECONDS = 5.0
# The drop comes this long into its step; the step lasts until the last agent is back
# and a few seconds more, so messages reach reconnected agents live too.
DROP_AFTER_SECONDS = 3.0
DROP_TAIL_SECONDS = 5.0
# A refresh reads the list back to this long before the drop (messages posted
# before it may still be on their way when the connection goes).
DROP_LOOKBACK_SECONDS = 10.0
HELD_P95_SECONDS = 1.0
# How long past the drain a step with drops waits for refreshes still reading the list.
REFRESH_GRACE_SECONDS = 60.0


@dataclass
class Step:
    """One rate's figures for one number of agents."""

    agents: int
    rate: int
    drop: bool
    messages: int = 0
    errors: int = 0
    owed: int = 0
    report: dict = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)
    machine: float = 0.0  # CPU seconds of the whole machine over the step, every program

    @property
    def others(self) -> float:
        """The machine's CPU over the step not spent by the processes measured, in per
        cent of one core: another program's load, when it is large."""
        ours = sum(v for name, v in self.cpu.items() if name != "redis")
        return max(0.0, self.machine - ours) / max(self.seconds, 1e-9) * 100

    @property
    def missing(self) -> int:
        return self.report.get("missing", 0)

    def live(self, key: str) -> float:
        return self.report.get("live", {}).get(key, float("inf"))

    @property
    def pages_cpu(self) -> float:
        """CPU seconds of every pages process: "pages", or "pages 1", "pages 2"…"""
        return sum(v for name, v in self.cpu.items() if name.startswith("pages"))

    @property
    def pages_ms_per_delivery(self) -> float:
        return self.pages_cpu * 1000 / max(1, self.owed)

    def core_share(self, name: str) -> float:
        """What ``name`` spent over the step, in per cent of one core."""
        return self.cpu.get(name, 0.0) / max(self.seconds, 1e-9) * 100


@dataclass
class Level:
    """One number of agents on a fresh pages process."""

    asked: int
    web: int = 0  # web processes behind nginx; 0: one pages process, no nginx
    connected: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    memory_before_kib: int = 0
    memory_after_kib: int = 0
    threads_before: int = 0
    threads_idle: int = 0
    idle_cpu_ms: float = 0.0  # per agent per second
    steps: list[Step] = field(default_factory=list)
    # Behind nginx, each pages process: its agents and its memory before and after.
    processes: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def kib_per_agent(self) -> float:
        return (self.memory_after_kib - self.memory_before_kib) / max(1, self.connected)

    def process_line(self) -> str:
        """Each pages process's agents and memory per agent, when there are several."""
        return "; ".join(
            f"{name}: {p['agents']} agents, {p['before'] / 1024:.0f} → {p['after'] / 1024:.0f} "
            f"MiB ({(p['after'] - p['before']) / max(1, p['agents']):.0f} KiB per agent)"
            for name, p in self.processes.items()
        )


class TimedSenders(Senders):
    """e2e.py's senders, each message dated when it is due to be posted: a refreshed
    list's row shows a message only when the row is at least that new."""

    def timed(self, prefix: str, count: int, start: float, rate: float):
        messages, stamps = [], {}
        for n in range(count):
            if self.rng.random() < self.new_share:
                phone = f"{NEW_PREFIX}{next(self.fresh):07d}"
            else:
                phone = self.pool_number(self.rng.randrange(self.pool))
            wamid = f"wamid.{prefix}{n:06d}"
            stamp = int(start + n / rate)
            payload = webhook(
                messages=[text_message(phone, self.rng.choice(TEXTS), wamid, stamp)],
                contacts=[contact(phone, f"Klant {phone[-5:]}")],
            )
            body, headers = signed(payload, APP_SECRET)
            messages.append(Message(wamid, body_digest(body), body, headers, phone))
            stamps[wamid] = stamp
        return messages, stamps


@contextlib.contextmanager
def serve(root: Path, kind: str, env: dict[str, str], log: Path):
    """gunicorn ``kind`` serving ``root``'s wsgi:app until the block ends; yields its URL.

    A server that does not answer ``/healthz`` within a minute is started again on
    another port (a free port can be taken by another program before gunicorn binds it).
    """
    for _attempt in range(3):
        server, base = _start_gunicorn(root, kind, env, log)
        if _healthy(server, base):
            break
        _stop_gunicorn(server)
        print(f"gunicorn {kind} did not come up at {base}; see {log}", flush=True)
    else:
        raise SystemExit(f"gunicorn {kind} would not start; see {log}")
    try:
        yield base
    finally:
        _stop_gunicorn(server)


def _start_gunicorn(root: Path, kind: str, env: dict[str, str], log: Path):
    port = free_port()
    with open(log, "ab") as output:
        server = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "gunicorn",
                *SERVERS[kind],
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "wsgi:app",
            ],
            cwd=root,
            env=dict(os.environ, PYTHONPATH=str(root), **env),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return server, f"http://127.0.0.1:{port}"


def _healthy(server: subprocess.Popen, base: str, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)  # noqa: S310
            return True
        except OSError:
            time.sleep(0.2)
    return False


def _stop_gunicorn(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:  # a WebSocket's thread holding the graceful stop
        server.kill()
        server.wait(timeout=10)


def start_worker(root: Path, log: Path) -> subprocess.Popen:
    """``worker.py`` of ``root``, in a session of its own (stop_process stops its group)."""
    with open(log, "ab") as output:
        return subprocess.Popen(  # noqa: S603
            [sys.executable, str(root / "worker.py")],
            cwd=root,
            env=dict(os.environ, PYTHONPATH=str(root)),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def threads_of(pids) -> int:
    """The most threads any of ``pids`` runs (gunicorn's worker; its arbiter has one)."""
    most = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("Threads:"):
                    most = max(most, int(line.split()[1]))
    return most


def cookie_of(session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def sign_in(base: str, count: int) -> tuple[str, list[str]]:
    """The manager's cookie and ``count`` agents' (through the login form, four at once)."""
    with ThreadPoolExecutor(4) as pool:
        sessions = list(
            pool.map(
                lambda n: signed_in_session(base, agent_email(n), AGENT_PASSWORD), range(count)
            )
        )
    manager = signed_in_session(base, MANAGER_EMAIL, MANAGER_PASSWORD)
    return cookie_of(manager), [cookie_of(s) for s in sessions]


def owed_threads(wamids: list[str]) -> dict[str, str | None]:
    """Each stored message's thread if an agent of no team may see it, else None."""
    rows = dict(
        db.session.execute(
            sa.select(
                CommunicationMessage.external_message_id, CommunicationMessage.thread_id
            ).where(CommunicationMessage.external_message_id.in_(wamids))
        ).all()
    )
    threads = {
        thread.id: set(thread_rooms(thread))
        for thread in db.session.scalars(
            sa.select(CommunicationThread).where(CommunicationThread.id.in_(set(rows.values())))
        )
    }
    db.session.rollback()
    agent_room = role_room(Role.AGENT)
    return {w: str(t) if agent_room in threads[t] else None for w, t in rows.items()}


def run_step(level, rate, seconds, args, app, poster, senders, agents, cpu, prefix, drop):
    """Post ``rate``×``seconds`` messages, wait for every agent to have them (or the
    drain), and count every delivery owed."""
    step = Step(level.connected, rate, drop)
    start = time.time() + 0.2
    messages, stamps = senders.timed(prefix, int(rate * seconds), start, rate)
    step.messages = len(messages)
    agents.command("expect", wamids=[m.wamid for m in messages])
    if drop:
        agents.command(
            "drop",
            share=args.drop_share,
            seed=args.seed,
            after=DROP_AFTER_SECONDS,
            low=args.drop_low,
            high=args.drop_high,
            since=start + DROP_AFTER_SECONDS - DROP_LOOKBACK_SECONDS,
        )
    load_before, before, began = os.getloadavg()[0], cpu.snapshot(), time.monotonic()
    busy = machine_busy_seconds()
    poster.send(messages, rate)
    accepted = [m for m in messages if m.status == 200]
    step.errors = len(messages) - len(accepted)
    if step.errors:
        agents.command("expect", wamids=[m.wamid for m in accepted])
    deadline = time.monotonic() + args.drain
    # A refreshing agent reads the list back to the drop, page by page: on a busy
    # server that can outlast the drain, and what it has not read yet is not missing.
    grace = deadline + (REFRESH_GRACE_SECONDS if drop else 0)
    while time.monotonic() < grace:
        progress = agents.command("progress")
        if progress["lacking"] == 0 and progress["pending"] == 0:
            break
        if time.monotonic() >= deadline and not progress["refreshing"]:
            break
        time.sleep(0.25)
    after = cpu.snapshot()
    step.seconds = time.monotonic() - began
    step.machine = machine_busy_seconds() - busy
    step.load = (load_before, os.getloadavg()[0])
    step.cpu = {name: after[name] - before[name] for name in after}
    with app.app_context():
        threads = owed_threads([m.wamid for m in accepted])
    # A message accepted but not stored by the drain's end is owed too, and missing.
    owed = [
        [m.wamid, m.posted, threads.get(m.wamid) or "", stamps[m.wamid]]
        for m in accepted
        if m.wamid not in threads or threads[m.wamid] is not None
    ]
    step.report = agents.command("report", messages=owed)
    step.owed = len(owed) * step.report["agents"]
    print_step(step)
    return step


@dataclass
class Deployment:
    """What a run's levels share: the checkout served, its pages server and how many web
    processes behind nginx (0: one, reached directly), the processes started for the
    run, and the signed-in agents."""

    root: Path
    server: str
    web: int
    env: dict[str, str]
    hooks: str
    worker_pids: set[int]
    manager: str
    cookies: list[str]
    poster: Poster
    senders: TimedSenders
    logs: Path
    tag: str

    def pages(self, count: int):
        """Fresh pages processes for ``count`` agents; yields :class:`Pages`."""
        logs = self.logs / f"level-{count}"
        logs.mkdir(exist_ok=True)
        return web_processes(
            lambda env, log: serve(self.root, self.server, env, log),
            self.web,
            self.env,
            self.hooks,
            logs,
            count,
        )

    def meter(self, pages) -> CpuMeter:
        """CPU by process: each pages process, and what could saturate before them."""
        cpu = CpuMeter()
        for name, address in pages.processes.items():
            cpu.add(name, marker=address)
        if pages.nginx_config:
            cpu.add("nginx", marker=pages.nginx_config)
        cpu.add("agents", pids=set())
        cpu.add("workers", pids=self.worker_pids)
        cpu.add("hooks", marker=self.hooks.removeprefix("http://"))
        # This run's database's backends ("postgres: 15/main: postgres sb_x 127.0.0.1…"),
        # and Redis, which other programs on the machine may be using too.
        database = sa.make_url(self.env["DATABASE_URL"]).database
        cpu.add("postgres", marker=f" {database} ", descendants=False)
        cpu.add("redis", names={"redis-server"})
        cpu.add("benchmark", pids={os.getpid()}, descendants=False)
        return cpu


def warm_up(pages, deployment: Deployment, count: int) -> None:
    """Warm the pages processes' emit path with one listener, which then leaves."""
    probe = AgentSockets(pages.url, [deployment.manager], pages.ca_bundle)
    warm, _ = deployment.senders.timed(f"{deployment.tag}w{count}", 20, time.time(), 10)
    probe.command("expect", wamids=[m.wamid for m in warm])
    deployment.poster.send(warm, 10)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and probe.command("progress")["lacking"]:
        time.sleep(0.2)
    warmed = probe.command("progress")["lacking"] == 0
    probe.close()
    if not warmed:
        print(f"warm-up: not every message reached the probe; see {deployment.logs}")


def pages_memory(cpu: CpuMeter) -> dict[str, int]:
    """Each pages process's resident memory (gunicorn's arbiter and its worker), KiB."""
    return {
        name: sum(resident_kib(pid) for pid in pids)
        for name, pids in cpu.members().items()
        if name.startswith("pages")
    }


def pages_pids(cpu: CpuMeter) -> set[int]:
    return {pid for name, pids in cpu.members().items() if name.startswith("pages") for pid in pids}


def run_level(count, args, app, deployment: Deployment) -> Level:
    """Fresh pages processes, ``count`` agents on them: idle costs, then the steps."""
    level = Level(count, deployment.web)
    with deployment.pages(count) as pages:
        cpu = deployment.meter(pages)
        warm_up(pages, deployment, count)
        time.sleep(2.0)
        before = pages_memory(cpu)
        level.memory_before_kib = sum(before.values())
        level.threads_before = threads_of(pages_pids(cpu))
        connect_started = time.monotonic()
        agents = AgentSplit(
            pages.url,
            pages.cookies_for(deployment.cookies[:count]),
            pages.ca_bundle,
            args.agent_processes,
        )
        try:
            cpu.groups["agents"][0].update(agents.pids)
            level.connected, level.failed = agents.count, agents.failed
            time.sleep(2.0)
            idle = sum(v for n, v in cpu.snapshot().items() if n.startswith("pages"))
            time.sleep(IDLE_SECONDS)
            idle = sum(v for n, v in cpu.snapshot().items() if n.startswith("pages")) - idle
            level.idle_cpu_ms = idle * 1000 / max(1, level.connected) / IDLE_SECONDS
            after = pages_memory(cpu)
            level.memory_after_kib = sum(after.values())
            level.threads_idle = threads_of(pages_pids(cpu))
            if deployment.web:
                level.processes = {
                    name: {
                        "agents": established_to(pages.processes[name]),
                        "before": before[name],
                        "after": after[name],
                    }
                    for name in after
                }
            print_level(level, time.monotonic() - connect_started)
            if not level.connected:
                return level
            steps = [(rate, args.step_seconds, f"s{n}", False) for n, rate in enumerate(args.rates)]
            if args.drop_share > 0:
                seconds = max(
                    args.step_seconds, DROP_AFTER_SECONDS + args.drop_high + DROP_TAIL_SECONDS
                )
                steps.append((args.drop_rate or max(args.rates), seconds, "d", True))
            for rate, seconds, name, drop in steps:
                level.steps.append(
                    run_step(
                        level,
                        rate,
                        seconds,
                        args,
                        app,
                        deployment.poster,
                        deployment.senders,
                        agents,
                        cpu,
                        f"{deployment.tag}{count}{name}",
                        drop=drop,
                    )
                )
        finally:
            agents.close()
    return level


def run(label: str, root: Path, server: str, web: int, args, app, env, logs: Path) -> list[Level]:
    """One version of the app, one pages server and one number of web processes through
    every number of agents."""
    counts = agent_counts(args, web)
    behind = f" × {web} behind nginx" if web else ""
    print(f"\n== {label}: {root} ({subprocess_head(root)}), pages server {server}{behind} ==")
    with app.app_context():
        fresh = prepare(app, SimpleNamespace(reuse=False, agents=max(counts), senders=args.senders))
        open_desk(True)
    senders = TimedSenders(args.senders, args.new_share, fresh, seed=args.seed)
    levels = []
    with contextlib.ExitStack() as stack:
        hooks = stack.enter_context(serve(root, "hooks", env, logs / "hooks.log"))
        workers = set()
        for _ in range(args.workers):
            process = start_worker(root, logs / "worker.log")
            stack.callback(stop_process, process)
            workers.add(process.pid)
        wait_for_workers(app.extensions["broker"].connection, args.workers)
        signing = time.monotonic()
        manager, cookies = sign_in(hooks, max(counts))
        print(f"{len(cookies)} agents signed in ({time.monotonic() - signing:.0f} s)")
        poster = Poster(f"{hooks}/api/v1/webhooks/whatsapp")
        stack.callback(poster.close)
        deployment = Deployment(
            root,
            server,
            web,
            env,
            hooks,
            workers,
            manager,
            cookies,
            poster,
            senders,
            logs,
            uuid.uuid4().hex[:4],
        )
        for count in counts:
            levels.append(run_level(count, args, app, deployment))
    return levels


def agent_counts(args, web: int) -> list[int]:
    """The run's numbers of agents: ``--agents``, per web process when asked."""
    if args.agents_per_web_process:
        return [count * max(1, web) for count in args.agents]
    return list(args.agents)


def subprocess_head(root: Path) -> str:
    answer = subprocess.run(  # noqa: S603
        ["git", "-C", str(root), "log", "-1", "--format=%h %s"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return answer.stdout.strip()[:70] or "not a git checkout"


def ms(seconds: float) -> str:
    return "—" if seconds == float("inf") else f"{seconds * 1000:.0f}"


def print_level(level: Level, seconds: float) -> None:
    failed = "; ".join(f"{n}× {why}" for why, n in level.failed.items())
    print(
        f"{level.asked} agents: connected {level.connected} of {level.asked} in {seconds:.0f} s"
        + (f" (failed: {failed})" if failed else "")
        + f"; pages process {level.memory_before_kib / 1024:.0f} → "
        f"{level.memory_after_kib / 1024:.0f} MiB ({level.kib_per_agent:.0f} KiB per agent), "
        f"threads {level.threads_before} → {level.threads_idle} idle, idle CPU "
        f"{level.idle_cpu_ms:.3f} ms per agent per s"
        + (f"\n    {level.process_line()}" if level.processes else ""),
        flush=True,
    )


def print_step(step: Step) -> None:
    report = step.report
    counts = report.get("counts", {})
    line = (
        f"  {step.agents} agents {step.rate} msg/s{' with drops' if step.drop else ''}: "
        f"{step.messages} msgs (errors {step.errors}), deliveries {step.owed}, "
        f"live {report['live'].get('count', 0)} p50 {ms(step.live('p50'))} "
        f"p95 {ms(step.live('p95'))} p99 {ms(step.live('p99'))} ms (to the first agent p95 "
        f"{ms(report.get('first agent', {}).get('p95', float('inf')))} ms), "
        f"missing {step.missing} (of messages no agent had: {report.get('unheard', 0)}), "
        f"pages CPU {step.pages_ms_per_delivery:.3f} ms/delivery "
        f"({step.pages_cpu / step.seconds * 100:.0f} % of a core over "
        f"{step.seconds:.0f} s), load {step.load[0]:.1f}→{step.load[1]:.1f}"
        f"\n    % of a core: {core_shares(step)}; the machine "
        f"{step.machine / step.seconds * 100:.0f} of {os.cpu_count() * 100}, other programs "
        f"{step.others:.0f}"
    )
    if step.drop:
        replayed = report["replayed"]
        line += (
            f"\n    drops: dropped {counts.get('dropped', 0)}, reconnected "
            f"{counts.get('reconnected', 0)}, resumed {counts.get('resumed', 0)}, not resumed "
            f"{counts.get('not resumed', 0)}, gaps {counts.get('gaps', 0)}, refreshed agents "
            f"{counts.get('refreshed agents', 0)} ({counts.get('refreshes', 0)} refreshes, "
            f"{counts.get('refresh pages', 0)} list pages, errors "
            f"{counts.get('refresh errors', 0)}), deliveries replayed {replayed.get('count', 0)} "
            f"(p95 {ms(replayed.get('p95', float('inf')))} ms from the POST), shown by a "
            f"refresh {report['shown']}, still down {counts.get('still down', 0)}, "
            f"missing after the drain {step.missing}"
        )
    if report.get("examples"):
        line += f"\n    missing e.g. {', '.join(report['examples'])}"
    if counts.get("server disconnects"):
        line += f"\n    server disconnects {counts['server disconnects']}: " + "; ".join(
            report.get("disconnects", [])[:3]
        )
    print(line, flush=True)


def core_shares(step: Step) -> str:
    """Each process group's CPU over the step, in per cent of one core (of two here)."""
    return ", ".join(f"{name} {step.core_share(name):.0f}" for name in step.cpu)


def per_process(step: Step) -> str:
    """CPU per delivery of each pages process behind nginx (over all deliveries)."""
    return " ".join(
        f"{step.cpu[name] * 1000 / max(1, step.owed):.3f}"
        for name in step.cpu
        if name.startswith("pages ")
    )


def print_run(label: str, server: str, web: int, levels: list[Level]) -> None:
    behind = f" × {web} behind nginx" if web else ""
    print(f"\n{label} (pages server {server}{behind})")
    print(
        f"{'web':>3} {'agents':>6} {'connected':>9} {'KiB/agent':>9} {'threads':>11} "
        f"{'msg/s':>5} {'deliveries':>10} {'missing':>7} {'p95 ms':>7} {'1st p95':>7} "
        f"{'CPU ms/deliv':>12} {'per process':>13} {'nginx %':>7} {'agents %':>8} "
        f"{'workers %':>9} {'others %':>8} {'load':>9}"
    )
    for level in levels:
        for step in level.steps:
            rate = f"{step.rate}{'d' if step.drop else ''}"
            print(
                f"{level.web:>3} {level.asked:>6} {level.connected:>9} "
                f"{level.kib_per_agent:>9.0f} "
                f"{f'{level.threads_before}→{level.threads_idle}':>11} {rate:>5} "
                f"{step.owed:>10} {step.missing:>7} {ms(step.live('p95')):>7} "
                f"{ms(step.report.get('first agent', {}).get('p95', float('inf'))):>7} "
                f"{step.pages_ms_per_delivery:>12.3f} {per_process(step) or '—':>13} "
                f"{step.core_share('nginx'):>7.0f} {step.core_share('agents'):>8.0f} "
                f"{step.core_share('workers'):>9.0f} {step.others:>8.0f} "
                f"{f'{step.load[0]:.1f}→{step.load[1]:.1f}':>9}"
            )
        if not level.steps:
            print(f"{level.asked:>6} {level.connected:>9} {level.kib_per_agent:>9.0f}")


def print_comparison(runs: list[tuple[str, str, int, list[Level]]]) -> None:
    """The later runs against the first: CPU per delivery and memory per agent."""
    base_label, _, _, base = runs[0]
    for label, _, _, levels in runs[1:]:
        print(f"\n{label} against {base_label}")
        for old, new in zip(base, levels, strict=False):
            memory = (
                new.kib_per_agent / old.kib_per_agent if old.kib_per_agent > 0 else float("nan")
            )
            print(f"  {new.asked} agents: memory per agent ×{memory:.2f}")
            for a, b in zip(old.steps, new.steps, strict=False):
                if a.drop:
                    continue
                ratio = (
                    b.pages_ms_per_delivery / a.pages_ms_per_delivery
                    if a.pages_ms_per_delivery
                    else float("nan")
                )
                print(f"    {b.rate} msg/s: pages CPU per delivery ×{ratio:.2f}")


def listed(text: str, kind) -> list:
    return [kind(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", default="50,200,500", help="agents per level")
    parser.add_argument("--rates", default="20,50", help="msg/s per step")
    parser.add_argument("--step-seconds", type=float, default=20)
    parser.add_argument("--drain", type=float, default=20, help="seconds to wait for stragglers")
    parser.add_argument("--drop-share", type=float, default=0.1, help="0: no step with drops")
    parser.add_argument("--drop-seconds", default="5-30", help="how long a dropped agent is away")
    parser.add_argument("--drop-rate", type=int, default=0, help="default: the highest rate")
    parser.add_argument("--seed", type=int, default=2026, help="who drops, who writes")
    parser.add_argument("--senders", type=int, default=500, help="pool of repeat senders")
    parser.add_argument("--new-share", type=float, default=0.3, help="first-time senders")
    parser.add_argument("--workers", type=int, default=2, help="worker.py processes")
    parser.add_argument("--app-root", default=str(ROOT), help="checkouts, comma-separated")
    parser.add_argument("--pages-server", default="gthread", help="gthread or gevent, per run")
    parser.add_argument(
        "--web-processes", default="0", help="per run: K behind nginx; 0, one reached directly"
    )
    parser.add_argument(
        "--agents-per-web-process",
        action="store_true",
        help="--agents counts per web process (K processes: K× the agents)",
    )
    parser.add_argument(
        "--agent-processes", type=int, default=1, help="agents' socket processes to split over"
    )
    parser.add_argument("--json", type=Path, help="write every figure here too")
    args = parser.parse_args()
    args.agents = listed(args.agents, int)
    args.rates = listed(args.rates, int)
    args.drop_low, args.drop_high = (float(s) for s in args.drop_seconds.split("-"))
    roots = [Path(p).resolve() for p in listed(args.app_root, str)]
    servers = listed(args.pages_server, str)
    webs = listed(args.web_processes, int)
    count = max(len(roots), len(servers), len(webs))
    if {len(roots), len(servers), len(webs)} - {1, count} or any(s not in SERVERS for s in servers):
        parser.error(
            "--app-root, --pages-server and --web-processes pair up (or one stands for all)"
        )
    roots, servers = roots * (count // len(roots)), servers * (count // len(servers))
    webs = webs * (count // len(webs))

    files = raise_open_files_limit()
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    ensure_database(database_url)
    logs = Path(tempfile.mkdtemp(prefix="agents-bench-"))
    fake = KeepAliveGraph().start()
    env = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # Every process signs sessions and encrypts with the same keys: an agent's
        # cookie holds on every server of the run.
        "SECRET_KEY": uuid.uuid4().hex,
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SWITCHBOARD_INSTANCE_PATH": str(logs),
        "ATTACHMENTS_DIR": str(logs / "attachments"),
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "WHATSAPP_API_BASE": fake.url,
    }
    os.environ.update(env)
    # Hundreds of throwaway accounts signed in per run: scrypt at a test's cost (as
    # tests/conftest.py), or their hashing and sign-in would take minutes of both cores.
    passwords.METHOD = "scrypt:1024:8:1"
    app = create_app(start_embedded_worker=False)
    print(
        f"agents {args.agents} × rates {args.rates}, {args.step_seconds:.0f} s a step, drain "
        f"{args.drain:.0f} s, drops {args.drop_share:.0%} for {args.drop_seconds} s; open "
        f"files {files}; logs in {logs}; load average {os.getloadavg()[0]:.1f}"
    )
    runs = []
    try:
        for number, (root, server, web) in enumerate(zip(roots, servers, webs, strict=True)):
            label = f"run {number + 1}"
            runs.append((label, server, web, run(label, root, server, web, args, app, env, logs)))
    finally:
        fake.stop()
    for label, server, web, levels in runs:
        print_run(label, server, web, levels)
    if len(runs) > 1:
        print_comparison(runs)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "run": label,
                        "root": str(root),
                        "server": server,
                        "web processes": web,
                        "levels": [
                            {**vars(level), "steps": [vars(s) for s in level.steps]}
                            for level in levels
                        ],
                    }
                    for (label, server, web, levels), root in zip(runs, roots, strict=True)
                ],
                indent=1,
                default=str,
            )
        )


if __name__ == "__main__":
    main()
