"""benchmarks/agents.py's ``--web-processes``: the documented nginx site in front of any
number of web processes, and agents split over several socket processes reported as one
(benchmarks/_web_processes.py). Nothing is started: the site is rendered, the merging
fed by stand-ins."""

from __future__ import annotations

import socket

from benchmarks._web_processes import AgentSplit, Pages, established_to, summary_of
from benchmarks.agent_sockets import Agents
from tests.support.proxy import DOCS_WEB_ADDRESSES, Nginx


def upstream_block(config: str) -> str:
    start = config.index("upstream switchboard_web {")
    return config[start : config.index("}", start)]


def test_the_documented_site_sends_the_pages_to_each_web_process(tmp_path):
    for count in (1, 3):
        urls = [f"http://127.0.0.1:{9100 + n}" for n in range(count)]
        nginx = Nginx(
            tmp_path / str(count),
            urls,
            "http://127.0.0.1:9200",
            port=9300,
            worker_processes="auto",
            worker_connections=2048,
        )
        config = nginx.config.read_text()
        block = upstream_block(config)
        assert [line.strip() for line in block.splitlines() if "server " in line] == [
            f"server 127.0.0.1:{9100 + n};" for n in range(count)
        ]
        assert "hash $switchboard_web_key consistent;" in block
        assert not any(documented in config for documented in DOCS_WEB_ADDRESSES)
        assert "listen 127.0.0.1:9300 ssl;" in config and nginx.url == "https://127.0.0.1:9300"
        assert "worker_processes auto;" in config and "worker_connections 2048;" in config


def test_agents_behind_nginx_keep_to_their_process_as_browsers_do():
    direct = Pages("http://127.0.0.1:9100", {"pages": "127.0.0.1:9100"})
    assert direct.cookies_for(["session=a"]) == ["session=a"]
    behind = Pages("https://127.0.0.1:9300", {}, "ca.pem", "nginx.conf")
    # The same key for the same agent every run: the same process, however it reconnects.
    assert behind.cookies_for(["session=a", "session=b"]) == [
        "session=a; switchboard_web=agent-0",
        "session=b; switchboard_web=agent-1",
    ]


def test_histograms_add_up_to_the_percentiles_of_every_sample():
    merged = summary_of([{"100": 90, "200": 5}, {100: 0, 900: 5}])
    assert merged["count"] == 100
    assert merged["p50"] == 0.1 and merged["p95"] == 0.2 and merged["max"] == 0.9
    assert merged["p99"] == 0.9
    assert summary_of([]) == {"count": 0}


class Member:
    """An agents' socket process as AgentSplit speaks to it: canned answers."""

    def __init__(self, firsts: dict, report: dict) -> None:
        self.firsts, self.answer, self.asked = firsts, report, []

    def command(self, name: str, **arguments) -> dict:
        self.asked.append((name, arguments))
        if name == "firsts":
            return self.firsts
        if name == "progress":
            return {"lacking": 2, "pending": 1, "refreshing": 0}
        if name == "drop":
            return {"chosen": 3}
        return self.answer


def report(agents: int, live: dict, missing: int = 0) -> dict:
    return {
        "histograms": {"live": live, "replayed": {}},
        "agents": agents,
        "live": {},
        "replayed": {},
        "first agent": {},
        "shown": 0,
        "missing": missing,
        "unheard": 0,
        "examples": [f"agent {agents}"] if missing else [],
        "counts": {"gaps": 1},
        "refresh seconds": {"count": 0},
        "disconnects": [],
    }


def test_agents_split_over_processes_are_reported_as_one():
    split = AgentSplit.__new__(AgentSplit)
    split.members = [
        Member({"w1": 10.3, "w2": 11.0}, report(3, {"300": 6})),
        Member({"w1": 10.1}, report(2, {"100": 2, "400": 2}, missing=1)),
    ]
    messages = [["w1", 10.0, "t1", 10], ["w2", 10.5, "t2", 10]]
    merged = split.command("report", messages=messages)
    # The earliest arrival over every process goes to each, to tell what none had.
    for member in split.members:
        assert member.asked[-1] == (
            "report",
            {"messages": messages, "first": {"w1": 10.1, "w2": 11.0}, "histograms": True},
        )
    assert merged["agents"] == 5 and merged["missing"] == 1 and merged["counts"] == {"gaps": 2}
    assert merged["live"]["count"] == 10 and merged["live"]["p50"] == 0.3
    assert merged["live"]["max"] == 0.4
    assert merged["first agent"]["count"] == 2 and merged["first agent"]["max"] == 0.5
    assert "histograms" not in merged and merged["examples"] == ["agent 2"]
    assert split.command("progress") == {"lacking": 4, "pending": 2, "refreshing": 0}
    # Each process draws its own agents to drop.
    assert split.command("drop", share=0.1, seed=7, after=1)["chosen"] == 6
    assert [m.asked[-1][1]["seed"] for m in split.members] == [7, 8]


def test_an_agent_process_reports_with_the_earliest_arrival_of_all():
    agents = Agents("https://127.0.0.1:1", ["a=1", "a=2"])
    try:
        for agent, arrived in zip(agents.agents, ({"w1": 10.2}, {}), strict=True):
            agent.ever_connected, agent.state.arrived = True, dict(arrived)
        assert agents.url == "wss://127.0.0.1:1/socket.io/?EIO=4&transport=websocket"
        assert agents.firsts() == {"w1": 10.2}
        messages = [["w1", 10.0, "t1", 10], ["w2", 10.0, "t1", 10]]
        # w2 reached an agent of another process: missing here, but not unheard.
        answer = agents.report(messages, first={"w1": 10.1, "w2": 10.4}, histograms=True)
        assert answer["histograms"]["live"] == {200: 1}
        assert answer["missing"] == 3 and answer["unheard"] == 0
        assert answer["first agent"]["count"] == 2
    finally:
        agents.close()


def test_the_connections_a_web_process_holds_are_counted():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = "127.0.0.1:%d" % server.getsockname()[1]
        assert established_to(address) == 0
        with socket.create_connection(server.getsockname()):
            accepted, _ = server.accept()
            with accepted:
                assert established_to(address) == 1
