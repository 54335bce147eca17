"""Presence on the server: presence rooms, reply collisions, the mention
picker's list and mentions in the daily digest (the browser side is in
tests/e2e/test_presence.py)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.analytics.digest import build_digest
from app.conversations.presence import board
from app.conversations.presence.people import initials
from app.conversations.workspace.services import add_note, compose_reply, load_thread
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage
from app.platform.models.enums import ChannelType, MessageType
from app.platform.transactions import commit
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, base_config
from tests.support import factories
from tests.support.helpers import HX, PASSWORD, customer_writes
from tests.support.live_server import signed_in_session, socket_client, wait_for_event
from tests.support.topology import Topology


def _person(make_user, role, email, name, **fields):
    user = make_user(role, email=email, **fields)
    user.name = name
    db.session.commit()
    return user


def _conversation(**fields):
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    jan = factories.contact(display_name="Jan Jansen", phone="+31612345678")
    db.session.commit()
    first = customer_writes(whatsapp, jan, "wamid.p1", "Mijn laadpaal knippert rood")
    thread = first.thread
    for name, value in fields.items():
        setattr(thread, name, value)
    db.session.commit()
    return whatsapp, jan, thread, first


# --- presence: rooms behind the access check, entries that expire -----------------


def _update_with(client, count: int, timeout: float = 10.0) -> dict:
    """The first ``presence:update`` ``client`` heard that lists ``count`` people."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event, data in list(client.received):
            if event == "presence:update" and len(data["viewers"]) == count:
                return data
        time.sleep(0.05)
    raise AssertionError(f"no presence:update with {count} viewers; got {client.received}")


def test_only_people_who_may_open_a_conversation_join_its_room(app, live_server, make_user):
    support, techniek = factories.team("Klantenservice"), factories.team("Techniek")
    db.session.commit()
    sanne = _person(
        make_user, "agent", "sanne@switchboard.test", "Sanne de Vries", team_id=support.id
    )
    _person(make_user, "agent", "piet@switchboard.test", "Piet Buiten", team_id=techniek.id)
    boss = _person(make_user, "manager", "boss@switchboard.test", "Bea Baas", two_factor=False)
    _, _, thread, _ = _conversation(assigned_team_id=support.id)
    sessions = {
        name: signed_in_session(live_server.url, f"{name}@switchboard.test", PASSWORD)
        for name in ("sanne", "piet", "boss")
    }
    room = {"thread_id": str(thread.id)}
    with (
        socket_client(live_server.url, sessions["sanne"]) as colleague,
        socket_client(live_server.url, sessions["piet"]) as outsider,
        socket_client(live_server.url, sessions["boss"]) as manager,
    ):
        assert outsider.call("presence:join", room, timeout=5) == {
            "ok": False,
            "error": "not_allowed",
        }
        joined = colleague.call("presence:join", room, timeout=5)
        assert joined["ok"] and [v["name"] for v in joined["viewers"]] == ["Sanne de Vries"]
        seen = manager.call("presence:join", room, timeout=5)
        assert [(v["name"], v["initials"]) for v in seen["viewers"]] == [
            ("Bea Baas", "BB"),
            ("Sanne de Vries", "SV"),
        ]
        # The colleague hears the manager arrive.
        update = _update_with(colleague, 2)
        assert {v["id"] for v in update["viewers"]} == {str(sanne.id), str(boss.id)}

        # Typing reaches the room, not the outsider, and an outsider cannot type into it.
        assert colleague.call("presence:typing", {**room, "kind": "reply"}, timeout=5)["ok"]
        typing = wait_for_event(manager, "presence:typing")
        assert typing["user"]["name"] == "Sanne de Vries" and typing["kind"] == "reply"
        assert typing["typing"] is True
        assert outsider.call("presence:typing", {**room, "kind": "note"}, timeout=5)["ok"] is False
        assert outsider.call("presence:heartbeat", room, timeout=5)["ok"] is False
        time.sleep(0.3)
        assert all(not e.startswith("presence:") for e, _ in outsider.received)
        assert all(e != "presence:typing" for e, _ in colleague.received)  # not to oneself

        # A page that closes is gone for the others at once.
        manager.received.clear()
    deadline = time.monotonic() + 5
    with app.app_context():
        while board.viewers(thread.id) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert board.viewers(thread.id) == []


@pytest.mark.skipif(
    not (TEST_DATABASE_URL and TEST_REDIS_URL),
    reason="two web processes share PostgreSQL and Redis",
)
def test_presence_crosses_web_processes_and_a_killed_ones_page_expires(
    app, live_server, make_user, tmp_path, prestarted
):
    """One agent on this process, one on ``python wsgi.py``: each sees the other."""
    sanne = _person(make_user, "agent", "sanne@switchboard.test", "Sanne de Vries")
    anouk = _person(make_user, "agent", "anouk@switchboard.test", "Anouk Jansen")
    _, _, thread, _ = _conversation()
    config = base_config()
    other = Topology(
        tmp_path / "web-2",
        {
            "DATABASE_URL": TEST_DATABASE_URL,
            "REDIS_URL": TEST_REDIS_URL,
            "SECRET_KEY": config["SECRET_KEY"],
            "ENCRYPTION_KEYS": config["ENCRYPTION_KEYS"],
        },
        prestarted,
    )
    other.workdir.mkdir(parents=True)
    room = {"thread_id": str(thread.id)}
    try:
        web = other.start_web()
        here = signed_in_session(live_server.url, "sanne@switchboard.test", PASSWORD)
        there = signed_in_session(other.base_url, "anouk@switchboard.test", PASSWORD)
        with (
            socket_client(live_server.url, here) as sanne_page,
            socket_client(other.base_url, there) as anouk_page,
        ):
            assert sanne_page.call("presence:join", room, timeout=5)["ok"]
            joined = anouk_page.call("presence:join", room, timeout=10)
            assert {v["id"] for v in joined["viewers"]} == {str(sanne.id), str(anouk.id)}
            update = _update_with(sanne_page, 2)
            assert {v["name"] for v in update["viewers"]} == {"Sanne de Vries", "Anouk Jansen"}
            anouk_page.call("presence:typing", {**room, "kind": "note"}, timeout=5)
            typing = wait_for_event(sanne_page, "presence:typing")
            assert (typing["user"]["name"], typing["kind"]) == ("Anouk Jansen", "note")
            # Anouk's process dies: no goodbye, her entry stays until it expires.
            web.kill()
            assert anouk.id in board.viewers(thread.id)
            later = time.time() + board.EXPIRES_AFTER_SECONDS + 1
            board.enter(thread.id, sanne.id, "sanne-heartbeat", now=later - 5)
            assert board.viewers(thread.id, now=later) == [sanne.id]
    finally:
        other.stop()
        print(other.report())


def test_a_page_that_stops_beating_expires(app):
    thread_id = "t-1"
    sanne = "6d1c2f1a-0000-4000-8000-000000000001"
    piet = "6d1c2f1a-0000-4000-8000-000000000002"
    start = 1_000_000.0
    board.enter(thread_id, sanne, "tab-a", now=start)
    board.enter(thread_id, sanne, "tab-b", now=start)  # two tabs, one person
    board.enter(thread_id, piet, "tab-c", now=start)
    assert sorted(str(u) for u in board.viewers(thread_id, now=start + 1)) == [sanne, piet]
    # Sanne's tab a keeps beating every 20 s; Piet's process was killed, tab b closed.
    board.leave(thread_id, sanne, "tab-b")
    for beat in (20, 40):
        board.enter(thread_id, sanne, "tab-a", now=start + beat)
    assert board.sweep(thread_id, now=start + board.EXPIRES_AFTER_SECONDS - 1) == 0
    assert [str(u) for u in board.viewers(thread_id, now=start + 50)] == [sanne]
    assert board.leave_everywhere("tab-a") == ["t-1"]
    assert board.viewers(thread_id, now=start + 50) == []


def test_initials():
    assert initials("Sanne de Vries") == "SV"
    assert initials("anouk") == "A"
    assert initials("  ") == "?"


# --- collisions --------------------------------------------------------------------


def _seen_id(page: str) -> str:
    return re.search(r'name="seen_message_id" value="([^"]*)"', page).group(1)


def _post(client, thread, token, **form):
    return client.post(
        f"/threads/{thread.id}/reply", data={"csrf_token": token, **form}, headers=HX
    )


def _mine(user) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(CommunicationMessage.message_content).where(
                CommunicationMessage.sender_user_id == user.id,
                CommunicationMessage.message_type == MessageType.OUTGOING,
            )
        )
    )


def test_a_reply_crossing_a_colleagues_is_held_until_confirmed(app, client, auth, make_user):
    anouk = _person(make_user, "agent", "anouk@switchboard.test", "Anouk Jansen")
    sanne = _person(make_user, "agent", "sanne@switchboard.test", "Sanne de Vries")
    whatsapp, jan, thread, first = _conversation()
    first.created_at = utcnow() - timedelta(minutes=10)  # Jan wrote a while ago
    db.session.commit()
    auth.login("anouk@switchboard.test")
    page = client.get(f"/threads/{thread.id}").get_data(as_text=True)
    seen = _seen_id(page)
    assert seen == str(first.id)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)

    # Sanne answers first, two minutes ago.
    crossing = compose_reply(load_thread(thread.id, sanne), sanne, content="Ik kijk ernaar")
    crossing.created_at = utcnow() - timedelta(minutes=2)
    commit()

    held = _post(client, thread, token, content="Wij sturen een monteur", seen_message_id=seen)
    assert held.status_code == 409
    assert held.headers["HX-Retarget"] == "#reply-collision"
    body = held.get_data(as_text=True)
    assert "Sanne de Vries replied 2 minutes ago" in body
    assert "send anyway?" in body and 'name="confirm" value="1"' in body
    assert f'data-latest-message-id="{crossing.id}"' in body
    assert 'hx-swap-oob="true"' in body and "Ik kijk ernaar" in body  # the timeline, now
    assert _mine(anouk) == []

    sent = _post(
        client,
        thread,
        token,
        content="Wij sturen een monteur",
        seen_message_id=seen,
        confirm="1",
    )
    assert sent.status_code == 200
    assert _mine(anouk) == ["Wij sturen een monteur"]
    # The composer that comes back has seen it all; her own reply never holds her up.
    assert _seen_id(sent.get_data(as_text=True)) not in ("", seen)
    again = _post(client, thread, token, content="En nog iets", seen_message_id=str(crossing.id))
    assert again.status_code == 200

    # A new customer message counts too; a note does not.
    add_note(load_thread(thread.id, sanne), sanne, "Intern: monteur gebeld")
    commit()
    latest = _seen_id(client.get(f"/threads/{thread.id}").get_data(as_text=True))
    customer_writes(whatsapp, jan, "wamid.p2", "Hij doet het weer!")
    held = _post(client, thread, token, content="Fijn!", seen_message_id=latest)
    assert held.status_code == 409
    assert "Jan Jansen wrote" in held.get_data(as_text=True)

    # A plain form post (no htmx) gets the whole page, the form as typed.
    plain = client.post(
        f"/threads/{thread.id}/reply",
        data={"csrf_token": token, "content": "Fijn!", "seen_message_id": latest},
    )
    assert plain.status_code == 409
    assert "Fijn!</textarea>" in plain.get_data(as_text=True)

    wrong = _post(client, thread, token, content="x", seen_message_id="not-an-id")
    assert wrong.status_code == 422
    assert "Not a message of this conversation" in wrong.get_data(as_text=True)


# --- mentions ----------------------------------------------------------------------


def test_the_picker_lists_colleagues_who_may_open_the_conversation(
    app, client, auth, make_user
):
    support, techniek = factories.team("Klantenservice"), factories.team("Techniek")
    db.session.commit()
    _person(make_user, "agent", "anouk@switchboard.test", "Anouk Jansen", team_id=support.id)
    _person(make_user, "agent", "sanne@switchboard.test", "Sanne de Vries", team_id=support.id)
    _person(make_user, "agent", "piet@switchboard.test", "Piet Buiten", team_id=techniek.id)
    _person(make_user, "agent", "oud@switchboard.test", "Oud Collega", is_active_account=False)
    _, _, thread, _ = _conversation(assigned_team_id=support.id)
    auth.login("anouk@switchboard.test")

    everyone = client.get("/api/colleagues").get_json()["data"]
    assert [(p["name"], p["initials"]) for p in everyone] == [
        ("Piet Buiten", "PB"),
        ("Sanne de Vries", "SV"),
    ]
    here = client.get(f"/api/colleagues?thread_id={thread.id}").get_json()["data"]
    assert [p["name"] for p in here] == ["Sanne de Vries"]
    bad = client.get("/api/colleagues?thread_id=nope")
    assert bad.status_code == 422 and "thread_id" in bad.get_json()["error"]["fields"]
    client.post("/logout", data={"csrf_token": auth.csrf_token()})
    assert client.get("/api/colleagues").status_code == 401


def test_the_daily_digest_lists_unread_mentions_with_a_link_to_the_note(app, make_user):
    anouk = _person(make_user, "agent", "anouk@switchboard.test", "Anouk Jansen")
    sanne = _person(make_user, "agent", "sanne@switchboard.test", "Sanne de Vries")
    _, _, thread, _ = _conversation()
    note = add_note(load_thread(thread.id, anouk), anouk, "@Sanne de Vries kun jij Jan bellen?")
    commit()

    now = utcnow()
    digest = build_digest(sanne, now.date(), now)
    assert digest.has_pending_work  # nothing assigned, but a mention waits
    [mention] = digest.mentions
    assert mention["title"] == f"Anouk Jansen mentioned you: {thread.thread_subject}"
    assert mention["excerpt"] == "@Sanne de Vries kun jij Jan bellen?"
    assert mention["url"] == (
        f"http://127.0.0.1:5000/threads/{thread.id}?message={note.id}#message-{note.id}"
    )
    assert "1 mention" in digest.subject()
    assert digest.dynamic_data("http://x")["mentions"] == [mention]
    assert build_digest(anouk, now.date(), now).mentions == []
