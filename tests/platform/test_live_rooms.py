"""A live connection hears only the conversations its holder may open.

From outside, as the review did it: real Socket.IO clients over WebSocket,
signed in with each role's browser session, against the live server (through
the Redis message queue when ``TEST_REDIS_URL`` is set). The API's answer for a
conversation (200 or 403 on ``GET /api/communication/threads/<id>``) is the
rule; a live event about a conversation must reach exactly those it answers 200.

The last test is generated, beside the route matrix: a user of every role in
every team placement, conversations in every placement (team, assignee, order,
visit crew), each conversation written in by its customer and by the office
(an internal note naming everyone), and every event checked against the API.
It prints how many connections, rooms and events it tried.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from contextlib import ExitStack

import pytest
import socketio

from app.conversations.inbox.access import thread_rooms
from app.conversations.notifications.mentions import handles_of
from app.orders.core.status_engine import record_initial_status
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.extensions import socketio as server
from app.platform.models import Order, Visit, VisitTechnician
from app.platform.models.enums import ChannelType, OrderStatus, Role, TokenKind
from app.platform.transactions import commit
from tests.support import factories
from tests.support.helpers import PASSWORD, customer_writes
from tests.support.live_server import signed_in_session, socket_client, wait_for_event

CONVERSATION_EVENTS = ("message:new", "thread:updated", "notification:new", "sla:alert")
# Events about the desk's work, carrying no conversation (no thread id, no link to one):
# they go to the desk's role rooms, so only agents, team leads, managers and admins hear them.
DESK_EVENTS = ("orders:waiting",)
DESK_ROLE_NAMES = ("agent", "team_lead", "manager", "admin")


def _order(number: str, lead, crew=()) -> Order:
    order = Order(
        order_number=number,
        status=OrderStatus.SCHEDULED,
        assigned_technician_id=lead.id if lead else None,
    )
    db.session.add(order)
    db.session.flush()
    if lead is not None or crew:
        visit = Visit(order_id=order.id)
        db.session.add(visit)
        db.session.flush()
        for member in [lead, *crew] if lead else list(crew):
            db.session.add(
                VisitTechnician(
                    visit_id=visit.id, technician_id=member.id, is_lead=member is lead
                )
            )
    db.session.flush()
    return order


def _connect(stack, live_server, user):
    browser = signed_in_session(live_server.url, user.email, PASSWORD)
    return stack.enter_context(socket_client(live_server.url, browser, transports=["websocket"]))


def _api(client, token: str, thread_id) -> int:
    return client.get(
        f"/api/communication/threads/{thread_id}", headers={"Authorization": f"Bearer {token}"}
    ).status_code


def _note(client, token: str, thread_id, content: str) -> None:
    response = client.post(
        "/api/communication/messages",
        json={"thread_id": str(thread_id), "internal": True, "content": content},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)


def _thread_named(event: str, data) -> str | None:
    """The conversation a live event is about (None: about no conversation)."""
    if not isinstance(data, dict):
        return None
    if event == "notification:new":
        link = data.get("link") or ""
        return link.split("/threads/", 1)[1][:36] if "/threads/" in link else None
    return data.get("thread_id")


def _wait_for(connection, event: str, count: int, timeout: float = 10.0) -> None:
    """Until ``connection`` heard ``event`` ``count`` times."""
    deadline = time.monotonic() + timeout
    while sum(1 for name, _ in list(connection.received) if name == event) < count:
        assert time.monotonic() < deadline, f"fewer than {count} {event}: {connection.received}"
        time.sleep(0.02)


def _heard(connection) -> dict[str, set[str]]:
    """Per conversation event, the conversations ``connection`` heard of."""
    heard: dict[str, set[str]] = defaultdict(set)
    for event, data in list(connection.received):
        thread_id = _thread_named(event, data)
        if thread_id is not None:
            heard[event].add(thread_id)
    return heard


def test_a_technician_hears_no_conversation_of_their_team_that_is_not_theirs(
    app, client, live_server, make_user
):
    techniek = factories.team("Techniek")
    db.session.commit()
    desk = make_user("agent", team_id=techniek.id)
    technician = make_user("technician", team_id=techniek.id)
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    others = factories.thread(
        channel, factories.contact(), assigned_team_id=techniek.id, thread_subject="Niet de zijne"
    )
    _, token = issue_token(TokenKind.PERSONAL, "desk", user_id=desk.id)
    _, technician_token = issue_token(TokenKind.PERSONAL, "tech", user_id=technician.id)
    db.session.commit()
    assert _api(client, technician_token, others.id) == 403

    with ExitStack() as stack:
        agent_live = _connect(stack, live_server, desk)
        technician_live = _connect(stack, live_server, technician)
        _note(client, token, others.id, "Klant belt morgen terug over de meterkast")
        customer_writes(channel, others.contact, "wamid.team-1", "Mijn pincode is 4321")
        # The desk hears both; by then the technician would have heard them too.
        _wait_for(agent_live, "message:new", 2)
        assert _heard(agent_live)["message:new"] == {str(others.id)}
        time.sleep(0.3)
        assert _heard(technician_live) == {}, technician_live.received


def test_a_technician_on_the_visit_crew_hears_their_visits_conversation(
    app, client, live_server, make_user
):
    lead = make_user("technician")
    helper = make_user("technician")
    stranger = make_user("technician")
    manager = make_user("manager")
    order = _order("CC-2026-00057", lead, crew=[helper])
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    thread = factories.thread(channel, factories.contact(), order_id=order.id)
    _, token = issue_token(TokenKind.PERSONAL, "tech", user_id=helper.id)
    db.session.commit()
    assert _api(client, token, thread.id) == 200

    with ExitStack() as stack:
        lead_live = _connect(stack, live_server, lead)
        helper_live = _connect(stack, live_server, helper)
        stranger_live = _connect(stack, live_server, stranger)
        manager_live = _connect(stack, live_server, manager)
        customer_writes(channel, thread.contact, "wamid.crew-1", "Hoe laat komen jullie?")
        for live in (lead_live, helper_live, manager_live):
            assert wait_for_event(live, "message:new")["thread_id"] == str(thread.id)
        time.sleep(0.3)
        assert _heard(stranger_live) == {}, stranger_live.received


def test_nobody_resumes_another_persons_live_queue(app, client, live_server, make_user):
    """A page that reconnects names its queue (app.platform.live_queues); a queue id
    is no key: another person naming it gets a queue of their own, and none of the
    events the first person missed."""
    desk = make_user("agent")
    technician = make_user("technician")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    thread = factories.thread(channel, factories.contact(), thread_subject="Alleen de balie")
    db.session.commit()

    desk_browser = signed_in_session(live_server.url, desk.email, PASSWORD)
    with socket_client(live_server.url, desk_browser, transports=["websocket"]) as agent_live:
        hello = wait_for_event(agent_live, "live:queue")
        customer_writes(channel, thread.contact, "wamid.queue-1", "Eerste bericht")
        wait_for_event(agent_live, "message:new")
    customer_writes(channel, thread.contact, "wamid.queue-2", "Terwijl de balie weg is")

    technician_browser = signed_in_session(live_server.url, technician.email, PASSWORD)
    asked = {"queue": hello["queue"], "last": 0}
    with ExitStack() as stack:
        intruder = stack.enter_context(
            socket_client(
                live_server.url, technician_browser, transports=["websocket"], auth=asked
            )
        )
        answer = wait_for_event(intruder, "live:queue")
        assert answer["queue"] != hello["queue"] and answer["resumed"] is False
        time.sleep(0.3)
        assert _heard(intruder) == {}, intruder.received
        # The desk's own page, back, gets both messages it had not handled.
        agent_back = stack.enter_context(
            socket_client(live_server.url, desk_browser, transports=["websocket"], auth=asked)
        )
        assert wait_for_event(agent_back, "live:queue")["resumed"] is True
        _wait_for(agent_back, "message:new", 2)


@pytest.fixture
def placements(app, make_user):
    """A user of every role in every team placement, and conversations in every placement."""
    team_a, team_b = factories.team("Klantenservice"), factories.team("Techniek")
    db.session.commit()
    teams = {"A": team_a.id, "B": team_b.id, "-": None}
    users = {}
    for role, (team_name, team_id) in itertools.product(
        [r for r in Role if r != Role.PARTNER], teams.items()
    ):
        users[f"{role.value}/{team_name}"] = make_user(role.value, team_id=team_id)
    # One more technician of team A, on no visit: their team's threads are not theirs.
    users["technician/A, no visit"] = make_user("technician", team_id=team_a.id)
    portal = make_user("partner", two_factor=True)
    db.session.commit()
    orders = {
        "-": None,
        "lead A, crew B": _order(
            "CC-2026-05701", users["technician/A"], crew=[users["technician/B"]]
        ),
        "lead -": _order("CC-2026-05702", users["technician/-"]),
    }
    assignees = {
        "-": None,
        "agent/B": users["agent/B"],
        "manager/-": users["manager/-"],
        "technician/B": users["technician/B"],  # on one order's crew, not the others'
        "technician/A, no visit": users["technician/A, no visit"],
        "partner": portal,  # from before assignees were checked
    }
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    threads = {}
    for (team_name, team_id), (who, assignee), (what, order) in itertools.product(
        teams.items(), assignees.items(), orders.items()
    ):
        threads[f"team {team_name}, assigned {who}, order {what}"] = factories.thread(
            channel,
            factories.contact(),
            assigned_team_id=team_id,
            assigned_to_user_id=assignee.id if assignee else None,
            order_id=order.id if order else None,
        )
    db.session.commit()
    return users, portal, channel, threads


def test_no_live_event_reaches_anyone_the_api_refuses(app, client, live_server, placements, capsys):
    users, portal, channel, threads = placements
    tokens = {}
    for name, user in users.items():
        _, tokens[name] = issue_token(TokenKind.PERSONAL, name, user_id=user.id)
    db.session.commit()
    # The rule: what each user's API answers for each conversation.
    allowed: dict[str, set[str]] = {name: set() for name in users}
    for name, (label, thread) in itertools.product(users, threads.items()):
        status = _api(client, tokens[name], thread.id)
        assert status in (200, 403), (name, label, status)
        if status == 200:
            allowed[name].add(str(thread.id))

    with ExitStack() as stack:
        # A partner's portal user gets no live connection at all.
        with pytest.raises(socketio.exceptions.ConnectionError):
            _connect(stack, live_server, portal)
        live = {name: _connect(stack, live_server, user) for name, user in users.items()}

        # The rooms each connection joined: every conversation published to one of
        # them is one its user may open.
        published_to: dict[str, set[str]] = defaultdict(set)
        for thread in threads.values():
            for room in thread_rooms(thread):
                published_to[room].add(str(thread.id))
        rooms_checked = 0
        for name, connection in live.items():
            sid = connection.get_sid("/")
            joined = set(server.server.manager.get_rooms(sid, "/")) - {sid}
            assert f"user:{users[name].id}" in joined, name
            for room in joined:
                rooms_checked += 1
                leaked = published_to[room] - allowed[name]
                assert not leaked, f"{name} joined {room}, which carries {len(leaked)} refused"

        # Every conversation written in from both sides: the customer, and the
        # office's note naming everyone (a mention tells only who may open it).
        everyone = " ".join(f"@{sorted(handles_of(u), key=len)[-1]}" for u in users.values())
        admin_token = tokens["admin/-"]
        for n, thread in enumerate(threads.values()):
            customer_writes(channel, thread.contact, f"wamid.rooms-{n}", "Wanneer komt de monteur?")
            _note(client, admin_token, thread.id, f"Graag oppakken {everyone} @{portal.name}")
        # A partner's order arrives: the desk's count of waiting orders moves.
        arrived = Order(order_number="CC-2026-05799", status=OrderStatus.NEW, needs_review=True)
        db.session.add(arrived)
        db.session.flush()
        record_initial_status(arrived, "Order created via partner API")
        commit()
        # The manager may open everything: once it heard every message, all were sent.
        _wait_for(live["manager/-"], "message:new", 2 * len(threads), timeout=60)
        _wait_for(live["manager/-"], "orders:waiting", 1)
        time.sleep(0.5)

    events = 0
    problems = []
    for name, connection in live.items():
        heard = _heard(connection)
        events += sum(1 for event, _ in connection.received if event in CONVERSATION_EVENTS)
        for event in CONVERSATION_EVENTS:
            refused = heard.get(event, set()) - allowed[name]
            if refused:
                problems.append(f"{name} heard {event} of {len(refused)} refused conversations")
        missed = allowed[name] - heard.get("message:new", set())
        if missed:
            problems.append(f"{name} missed message:new of {len(missed)} allowed conversations")
        desk_member = name.split("/")[0] in DESK_ROLE_NAMES
        for event in DESK_EVENTS:
            heard_desk = [data for e, data in connection.received if e == event]
            events += len(heard_desk)
            if heard_desk and not desk_member:
                problems.append(f"{name} heard {event}, which is for the desk only")
            if desk_member and not heard_desk:
                problems.append(f"{name} missed {event}")
            if any(set(data) - {"count", "label"} for data in heard_desk):
                problems.append(f"{name} heard {event} carrying more than the count")
    with capsys.disabled():
        print(
            f"\nlive rooms: {len(live) + 1} connections ({len(live)} accepted), "
            f"{rooms_checked} rooms, {len(threads)} conversations, "
            f"{events} conversation events heard, {len(problems)} problems"
        )
    assert not problems, "\n".join(problems)
    assert events > len(threads) * 4
