"""benchmarks/agents.py's pages side as K web processes behind docs/deployment.md's nginx
site, and its agents split over several socket processes.

The site is tests/support/proxy.py's :class:`Nginx`: the block of the deployment docs
as it stands, its upstream given a line for each web process, on TLS with the test
fakes' certificate. Every web process is told it lives at nginx's address behind one
trusted proxy, as production's are. With K = 0 the agents reach one pages process
directly, as agents.py always did.

One agents' socket process reads every frame in one thread; at many agents and many
messages a second it can be the first thing to saturate, so :class:`AgentSplit`
spreads the agents over several and adds their figures up.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks._support import free_port
from benchmarks.agent_sockets import AgentSockets
from tests.support.proxy import Nginx, documented_site

# Per WebSocket nginx holds two connections (the browser's, the web process's);
# room for the handshakes, refreshes and sign-ins besides.
NGINX_SPARE_CONNECTIONS = 512
# nginx's own cookie in the documented site: the key that keeps a browser to its process.
STICKY_COOKIE = "switchboard_web"


@dataclass
class Pages:
    """Where the agents connect, and the web processes behind it (name → address)."""

    url: str
    processes: dict[str, str]
    ca_bundle: str | None = None
    nginx_config: str | None = None  # on nginx's command line: the CPU meter's marker

    def cookies_for(self, cookies: list[str]) -> list[str]:
        """The agents' cookies as their browsers hold them: behind nginx, each with the
        sticky key nginx gave it on its first page (one per agent, the same every run),
        so a reconnection or a refresh goes back to the agent's process as a browser's
        does. Without it every connection would draw a process afresh."""
        if not self.nginx_config:
            return cookies
        assert f"$cookie_{STICKY_COOKIE}" in documented_site(), "the sticky cookie changed"
        return [f"{cookie}; {STICKY_COOKIE}=agent-{n}" for n, cookie in enumerate(cookies)]


@contextlib.contextmanager
def web_processes(
    serve: Callable[[dict[str, str], Path], contextlib.AbstractContextManager[str]],
    count: int,
    env: dict[str, str],
    hooks_url: str,
    logs: Path,
    agents: int,
) -> Iterator[Pages]:
    """``count`` web processes (``serve(env, log)`` starts one and yields its URL) behind
    the documented nginx site, for ``agents`` WebSockets; ``count`` 0: one, no nginx."""
    if count == 0:
        with serve(env, logs / "pages.log") as base:
            yield Pages(base, {"pages": address(base)})
        return
    port = free_port()
    url = f"https://127.0.0.1:{port}"
    behind = dict(env, PUBLIC_BASE_URL=url, TRUSTED_PROXY_HOPS="1")
    with contextlib.ExitStack() as stack:
        bases = [
            stack.enter_context(serve(behind, logs / f"pages-{n}.log")) for n in range(1, count + 1)
        ]
        nginx = Nginx(
            Path(tempfile.mkdtemp(prefix="nginx-", dir=logs)),
            bases,
            hooks_url,
            port=port,
            # As a distribution's nginx.conf: a worker a core.
            worker_processes="auto",
            worker_connections=2 * agents + NGINX_SPARE_CONNECTIONS,
        )
        stack.callback(nginx.stop)
        nginx.start()
        yield Pages(
            nginx.url,
            {f"pages {n}": address(base) for n, base in enumerate(bases, start=1)},
            str(nginx.ca_bundle),
            str(nginx.config),
        )


def address(url: str) -> str:
    return url.split("://", 1)[1]


def established_to(address_: str) -> int:
    """TCP connections established to ``host:port`` now (Linux ``/proc/net/tcp``): how
    many agents a web process holds behind nginx, which opens one per WebSocket."""
    port = int(address_.rsplit(":", 1)[1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                # local address "0100007F:1F41", state 01: established
                if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    count += 1
    return count


class AgentSplit:
    """Agents spread over ``processes`` agents' socket processes (round robin), spoken
    to as one :class:`AgentSockets`: commands go to each, answers are added up."""

    def __init__(self, url: str, cookies: list[str], ca_bundle: str | None, processes: int):
        shares = [cookies[n::processes] for n in range(processes)]
        self.members = [
            AgentSockets(url, share, ca_bundle, wait=False) for share in shares if share
        ]
        for member in self.members:
            member.connected()
        self.count = sum(m.count for m in self.members)
        self.failed: dict[str, int] = {}
        for member in self.members:
            for why, n in member.failed.items():
                self.failed[why] = self.failed.get(why, 0) + n

    @property
    def pids(self) -> set[int]:
        return {m.pid for m in self.members}

    def command(self, name: str, **arguments) -> dict:
        if len(self.members) == 1:
            return self.members[0].command(name, **arguments)
        if name == "report":
            return self._report(arguments["messages"])
        answers = [
            member.command(name, **dict(arguments, seed=arguments["seed"] + n))
            if name == "drop"
            else member.command(name, **arguments)
            for n, member in enumerate(self.members)
        ]
        if name in ("progress", "drop"):
            return {key: sum(a[key] for a in answers) for key in answers[0]}
        return answers[0]

    def _report(self, messages: list[list]) -> dict:
        first: dict[str, float] = {}
        for member in self.members:
            for wamid, at in member.command("firsts").items():
                first[wamid] = min(at, first.get(wamid, at))
        reports = [
            member.command("report", messages=messages, first=first, histograms=True)
            for member in self.members
        ]
        merged = dict(reports[0])
        for key in ("agents", "shown", "missing", "unheard"):
            merged[key] = sum(r[key] for r in reports)
        merged["counts"] = {}
        for report in reports:
            for key, value in report["counts"].items():
                merged["counts"][key] = merged["counts"].get(key, 0) + value
        merged["examples"] = [e for r in reports for e in r["examples"]][:5]
        merged["disconnects"] = [d for r in reports for d in r["disconnects"]][-10:]
        for kind in ("live", "replayed"):
            merged[kind] = summary_of([r["histograms"][kind] for r in reports])
        posted = {wamid: at for wamid, at, _, _ in messages}
        merged["first agent"] = summary_of(
            [{round((first[w] - posted[w]) * 1000): 1} for w in posted if w in first]
        )
        merged.pop("histograms")
        return merged

    def close(self) -> None:
        for member in self.members:
            member.close()


def summary_of(histograms: list[dict]) -> dict:
    """agent_sockets' summary (count, p50/p95/p99, max, in seconds) of added-up
    histograms of whole milliseconds."""
    counts: dict[int, int] = {}
    for histogram in histograms:
        for bucket, n in histogram.items():
            counts[int(bucket)] = counts.get(int(bucket), 0) + n
    if not counts:
        return {"count": 0}
    total, ordered = sum(counts.values()), sorted(counts)

    def pick(pct: float) -> float:
        rank, seen = int(round(pct / 100 * (total - 1))), 0
        for bucket in ordered:
            seen += counts[bucket]
            if seen > rank:
                return bucket / 1000
        return ordered[-1] / 1000

    return {
        "count": total,
        "p50": pick(50),
        "p95": pick(95),
        "p99": pick(99),
        "max": ordered[-1] / 1000,
    }
