"""A web process's live queues: numbered without a gap, resumable, one frame a window.

These drive :class:`app.platform.live_queues.LiveHub` directly, with a stand-in for the
Socket.IO server that records what each connection is sent; the browser's side is
tests/e2e/test_live_resume.py, the deployment's tests/platform/test_web_processes_behind_nginx.py.
"""

from __future__ import annotations

import json
import threading
import time

from app.platform.live_queues import LiveHub

AGENT_ROOMS = ("user:anouk", "role:agent", "team:a")
TECHNICIAN_ROOMS = ("user:ruben",)


class Server:
    """Records the frames; runs background tasks as threads, as Socket.IO's threading mode."""

    def __init__(self) -> None:
        self.sent: dict[str, list] = {}

    def _send_eio_packet(self, eio_sid, packet) -> None:
        assert packet.data.startswith("2")
        self.sent.setdefault(eio_sid, []).append(json.loads(packet.data[1:]))

    def start_background_task(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        return thread


def _hub(server, **settings) -> LiveHub:
    options = {"gather_seconds": 0, "keep_seconds": 180, "max_events": 1000} | settings
    return LiveHub(server, **options)


def _connect(hub, server, eio_sid, user="anouk", rooms=AGENT_ROOMS, asked=None):
    queue, resumed = hub.attach(eio_sid, user, rooms, asked)
    hub.greet(eio_sid)
    return queue, resumed


def _events(frames) -> list[tuple[int, str, dict]]:
    """(number, event, data) of every live item in ``frames``, in order."""
    numbered = []
    for frame in frames:
        if frame[0] == "live":
            first, items = frame[1], frame[2:]
            numbered.extend((first + n, item[0], item[1]) for n, item in enumerate(items))
    return numbered


def _message(n, room="team:a"):
    return ("message:new", [{"thread_id": f"t{n}", "n": n}], [room])


def test_a_connection_is_told_its_queue_then_hears_its_rooms_numbered_from_one():
    server = Server()
    hub = _hub(server)
    queue, resumed = _connect(hub, server, "e1")
    assert not resumed
    assert server.sent["e1"] == [["live:queue", {"queue": queue.id, "seq": 0, "resumed": False}]]

    hub.deliver(*_message(1))
    hub.deliver(*_message(2, room="team:b"))  # another team's: not this agent's
    hub.deliver("orders:waiting", [{"count": 3}], ["role:agent", "role:planner"])
    hub.deliver(*_message(3, room="user:anouk"))

    assert _events(server.sent["e1"]) == [
        (1, "message:new", {"thread_id": "t1", "n": 1}),
        (2, "orders:waiting", {"count": 3}),
        (3, "message:new", {"thread_id": "t3", "n": 3}),
    ]


def test_an_event_to_several_of_a_queues_rooms_is_numbered_once():
    server = Server()
    hub = _hub(server)
    _connect(hub, server, "e1")
    hub.deliver("thread:updated", [{"thread_id": "t1"}], ["role:agent", "team:a", "user:anouk"])
    assert [number for number, _, _ in _events(server.sent["e1"])] == [1]


def test_a_technician_hears_only_their_own_room():
    server = Server()
    hub = _hub(server)
    _connect(hub, server, "desk")
    _connect(hub, server, "phone", user="ruben", rooms=TECHNICIAN_ROOMS)
    hub.deliver(*_message(1, room="team:a"))
    hub.deliver("message:new", [{"thread_id": "visit"}], ["role:manager", "user:ruben"])
    assert _events(server.sent["phone"]) == [(1, "message:new", {"thread_id": "visit"})]
    assert [data["thread_id"] for _, _, data in _events(server.sent["desk"])] == ["t1"]


def test_a_page_back_within_the_keep_time_gets_what_it_missed_in_order():
    server = Server()
    hub = _hub(server)
    queue, _ = _connect(hub, server, "e1")
    for n in (1, 2, 3):
        hub.deliver(*_message(n))
    hub.detach("e1")
    for n in (4, 5, 6):
        hub.deliver(*_message(n))
    # It handled 1 and 2 only: 3 was on the wire when the connection dropped.
    again, resumed = _connect(hub, server, "e2", asked={"queue": queue.id, "last": 2})
    assert resumed and again is queue
    assert server.sent["e2"][0] == ["live:queue", {"queue": queue.id, "seq": 2, "resumed": True}]
    hub.deliver(*_message(7))
    assert _events(server.sent["e2"]) == [
        (n, "message:new", {"thread_id": f"t{n}", "n": n}) for n in range(3, 8)
    ]


def test_a_page_back_before_its_old_connection_was_seen_to_drop_resumes_too():
    server = Server()
    hub = _hub(server)
    queue, _ = _connect(hub, server, "old")
    hub.deliver(*_message(1))
    _, resumed = _connect(hub, server, "new", asked={"queue": queue.id, "last": 1})
    hub.deliver(*_message(2))
    assert resumed
    assert [n for n, _, _ in _events(server.sent["new"])] == [2]
    assert [n for n, _, _ in _events(server.sent["old"])] == [1]
    hub.detach("old")  # the old connection's end, seen late, leaves the new one alone
    hub.deliver(*_message(3))
    assert [n for n, _, _ in _events(server.sent["new"])] == [2, 3]


def test_a_page_away_too_long_gets_a_new_queue_and_so_refreshes():
    server = Server()
    hub = _hub(server, keep_seconds=0.2)
    queue, _ = _connect(hub, server, "e1")
    hub.deliver(*_message(1))
    hub.detach("e1")
    time.sleep(0.3)
    hub.deliver(*_message(2))
    fresh, resumed = _connect(hub, server, "e2", asked={"queue": queue.id, "last": 1})
    assert not resumed and fresh.id != queue.id
    assert server.sent["e2"] == [["live:queue", {"queue": fresh.id, "seq": 0, "resumed": False}]]


def test_a_page_whose_missed_events_left_the_log_gets_a_new_queue():
    server = Server()
    hub = _hub(server, max_events=3)
    queue, _ = _connect(hub, server, "e1")
    hub.deliver(*_message(1))
    hub.detach("e1")
    for n in range(2, 7):
        hub.deliver(*_message(n))
    _, resumed = _connect(hub, server, "e2", asked={"queue": queue.id, "last": 1})
    assert not resumed


def test_nobody_resumes_another_persons_queue_or_numbers_never_sent():
    server = Server()
    hub = _hub(server)
    queue, _ = _connect(hub, server, "e1")
    hub.deliver(*_message(1))
    hub.detach("e1")
    for asked, user, rooms in (
        ({"queue": queue.id, "last": 1}, "eva", AGENT_ROOMS),  # another person
        ({"queue": queue.id, "last": 1}, "anouk", ("user:anouk", "role:manager")),  # new role
        ({"queue": queue.id, "last": 5}, "anouk", AGENT_ROOMS),  # never sent
        ({"queue": queue.id, "last": -1}, "anouk", AGENT_ROOMS),
        ({"queue": queue.id, "last": True}, "anouk", AGENT_ROOMS),
        ({"queue": ["x"], "last": 1}, "anouk", AGENT_ROOMS),
        ("garbage", "anouk", AGENT_ROOMS),
    ):
        other, resumed = hub.attach("probe", user, rooms, asked)
        assert not resumed and other.id != queue.id, asked
        hub.detach("probe")


def test_a_user_whose_sessions_ended_cannot_resume():
    server = Server()
    hub = _hub(server)
    queue, _ = _connect(hub, server, "e1")
    hub.detach("e1")
    hub.forget_user("anouk")
    _, resumed = _connect(hub, server, "e2", asked={"queue": queue.id, "last": 0})
    assert not resumed


def test_what_a_connection_is_owed_within_the_window_goes_out_as_one_frame():
    server = Server()
    hub = _hub(server, gather_seconds=0.15)
    _connect(hub, server, "e1")
    _connect(hub, server, "e2", user="eva")
    for n in range(1, 11):
        hub.deliver(*_message(n))
    deadline = time.monotonic() + 5
    while len(_events(server.sent["e1"])) < 10 or len(_events(server.sent["e2"])) < 10:
        assert time.monotonic() < deadline, server.sent
        time.sleep(0.02)
    for eio_sid in ("e1", "e2"):
        frames = [frame for frame in server.sent[eio_sid] if frame[0] == "live"]
        assert len(frames) == 1, frames
        assert [n for n, _, _ in _events(frames)] == list(range(1, 11))
