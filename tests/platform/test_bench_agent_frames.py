"""The benchmark agents' reading of live frames (benchmarks/agent_sockets.py): the numbers
they keep, the replay after a resume, and the gaps that make them refresh."""

from __future__ import annotations

import json

from benchmarks.agent_sockets import LiveState


def message_new(wamid: str) -> list:
    return ["message:new", {"thread_id": "t1", "message": {"external_message_id": wamid}}]


def live(first: int, *items) -> str:
    return "42" + json.dumps(["live", first, *items])


def queue(name: str, seq: int, resumed: bool) -> str:
    return "42" + json.dumps(["live:queue", {"queue": name, "seq": seq, "resumed": resumed}])


def test_a_batch_is_numbered_from_its_first_item():
    state = LiveState()
    assert state.auth() is None
    state.packet(queue("q1", 0, False), now=1.0)
    state.packet(live(1, message_new("w1"), ["thread:updated", {"thread_id": "t1"}]), now=2.0)
    state.packet(live(3, message_new("w2")), now=3.0)
    assert state.arrived == {"w1": 2.0, "w2": 3.0}
    assert state.last == 3
    assert state.auth() == {"queue": "q1", "last": 3}
    assert not state.stale and state.counts["gaps"] == 0


def test_a_resumed_queue_replays_what_came_while_away():
    state = LiveState()
    state.packet(queue("q1", 0, False), now=1.0)
    state.packet(live(1, message_new("w1")), now=2.0)
    state.connecting()
    state.packet(queue("q1", 3, True), now=10.0)
    state.packet(live(2, message_new("w2"), message_new("w3")), now=10.1)
    state.packet(live(4, message_new("w4")), now=10.2)
    assert state.replayed == {"w2": 10.1, "w3": 10.1}
    assert state.arrived == {"w1": 2.0, "w4": 10.2}
    assert state.counts["resumed"] == 1 and state.counts["replayed events"] == 2
    assert not state.stale


def test_a_hello_naming_the_last_number_marks_what_follows_as_after_the_resume():
    state = LiveState()
    state.packet(queue("q1", 0, False), now=1.0)
    state.packet(live(1, message_new("w1")), now=2.0)
    state.connecting()
    state.packet(queue("q1", 1, True), now=10.0)
    state.packet(live(2, message_new("w2"), message_new("w3")), now=10.01)
    assert state.arrived == {"w1": 2.0, "w2": 10.01, "w3": 10.01}
    assert state.after_resume == {"w2": 10.0, "w3": 10.0}
    assert state.last == 3 and not state.stale


def test_a_gap_or_a_lost_queue_makes_the_agent_refresh():
    state = LiveState()
    state.packet(queue("q1", 0, False), now=1.0)
    state.packet(live(1, message_new("w1")), now=2.0)
    state.packet(live(5, message_new("w5")), now=3.0)
    assert state.stale and state.counts["gaps"] == 1
    assert state.last == 5 and "w5" in state.arrived

    state.stale = False
    state.connecting()
    state.packet(queue("q2", 0, False), now=4.0)
    assert state.stale and state.counts["not resumed"] == 1
    assert state.auth() == {"queue": "q2", "last": 0}


def test_items_already_handled_are_not_counted_twice():
    state = LiveState()
    state.packet(queue("q1", 0, False), now=1.0)
    state.packet(live(1, message_new("w1"), message_new("w2")), now=2.0)
    state.packet(live(2, message_new("w2"), message_new("w3")), now=3.0)
    assert state.arrived == {"w1": 2.0, "w2": 2.0, "w3": 3.0}
    assert state.counts["duplicates"] == 1


def test_the_plain_protocol_still_counts():
    state = LiveState()
    state.packet("42" + json.dumps(message_new("w1")), now=1.0)
    assert state.arrived == {"w1": 1.0} and not state.speaks_live
