"""A Socket.IO connection ends with the session it was opened with.

From outside, as the review did it: a real Socket.IO client connected with a
browser session's cookie, against the live server (through the Redis message
queue when ``TEST_REDIS_URL`` is set, so the control message crosses processes
as in the deployment). After sign-out, or "sign out everywhere" from another
device, the socket is disconnected by the server and hears nothing more.
"""

from __future__ import annotations

import time

import pytest
import socketio
import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.live_sessions import check_live_sessions, stop_checker
from app.platform.models import User
from app.platform.models.enums import ChannelType, Role
from tests.support import factories
from tests.support.helpers import PASSWORD, csrf_token_from, customer_writes
from tests.support.jobs import drain_queues
from tests.support.live_server import signed_in_session, socket_client, wait_for_event

EMAIL = "agent@switchboard.test"


def _token(browser, base_url: str) -> str:
    return csrf_token_from(browser.get(f"{base_url}/settings/security", timeout=10).text)


def _dropped(live, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not live.connected:
            return True
        time.sleep(0.02)
    return False


def _notify(app, user) -> None:
    """Conversation data for the user's room, as a job would send it."""
    enqueue("app.conversations.notifications.jobs.send_test_notification", str(user.id))
    drain_queues(app)


def test_signing_out_ends_the_socket(app, live_server, make_user):
    user = make_user("agent", email=EMAIL)
    browser = signed_in_session(live_server.url, EMAIL, PASSWORD)
    with socket_client(live_server.url, browser) as live:
        _notify(app, user)
        wait_for_event(live, "notification:new")  # connected and hearing its room
        live.received.clear()

        token = _token(browser, live_server.url)
        signed_out = browser.post(
            f"{live_server.url}/logout", data={"csrf_token": token}, allow_redirects=False
        )
        assert signed_out.status_code == 302

        assert _dropped(live), "the socket outlived the sign-out"
        _notify(app, user)
        time.sleep(0.3)
        assert live.received == []


def test_signing_out_everywhere_elsewhere_ends_this_devices_socket(app, live_server, make_user):
    user = make_user("agent", email=EMAIL)
    desk = signed_in_session(live_server.url, EMAIL, PASSWORD)
    phone = signed_in_session(live_server.url, EMAIL, PASSWORD)
    with socket_client(live_server.url, desk) as live:
        token = _token(phone, live_server.url)
        everywhere = phone.post(
            f"{live_server.url}/settings/security/sign-out-everywhere",
            data={"csrf_token": token},
            allow_redirects=False,
        )
        assert everywhere.status_code == 302

        assert _dropped(live), "the desk's socket outlived 'sign out everywhere'"
        _notify(app, user)
        time.sleep(0.3)
        assert all(event != "notification:new" for event, _ in live.received)


def test_a_socket_opened_with_the_ended_cookie_is_refused(app, live_server, make_user):
    make_user("agent", email=EMAIL)
    browser = signed_in_session(live_server.url, EMAIL, PASSWORD)
    stolen = {c.name: c.value for c in browser.cookies}
    token = _token(browser, live_server.url)
    browser.post(f"{live_server.url}/logout", data={"csrf_token": token}, allow_redirects=False)
    browser.cookies.clear()
    for name, value in stolen.items():
        browser.cookies.set(name, value)
    try:
        with socket_client(live_server.url, browser):
            connected = True
    except socketio.exceptions.ConnectionError:
        connected = False
    assert not connected


def test_other_users_sockets_stay(app, live_server, make_user):
    make_user("agent", email=EMAIL)
    other = make_user("agent", email="collega@switchboard.test")
    leaving = signed_in_session(live_server.url, EMAIL, PASSWORD)
    staying = signed_in_session(live_server.url, "collega@switchboard.test", PASSWORD)
    with socket_client(live_server.url, staying) as live:
        token = _token(leaving, live_server.url)
        leaving.post(f"{live_server.url}/logout", data={"csrf_token": token})
        time.sleep(0.3)
        assert live.connected
        _notify(app, other)
        wait_for_event(live, "notification:new")


# --- what the control message cannot catch: the periodic look, every event ------


def _in_database(user, **values) -> None:
    """Change the user's row straight in the database: no sign-out, no message."""
    db.session.execute(sa.update(User).where(User.id == user.id).values(**values))
    db.session.commit()


def test_a_user_deactivated_in_the_database_loses_the_socket_within_the_check(
    app, live_server, make_user
):
    user = make_user("agent", email=EMAIL)
    browser = signed_in_session(live_server.url, EMAIL, PASSWORD)
    app.config["LIVE_SESSION_CHECK_SECONDS"] = 0.2  # the loop starts with the first socket
    try:
        with socket_client(live_server.url, browser) as live:
            _notify(app, user)
            wait_for_event(live, "notification:new")
            _in_database(user, is_active_account=False)

            assert _dropped(live), "a deactivated user's socket stayed connected"
    finally:
        stop_checker()


@pytest.mark.parametrize(
    "change",
    ["role", "team", "sessions ended, the message lost"],
)
def test_a_socket_whose_rooms_or_session_no_longer_hold_is_dropped(
    app, live_server, make_user, change
):
    support, technical = factories.team("Klantenservice"), factories.team("Techniek")
    db.session.commit()
    user = make_user("agent", email=EMAIL, team_id=support.id)
    other = make_user("agent", email="collega@switchboard.test", team_id=support.id)
    browser = signed_in_session(live_server.url, EMAIL, PASSWORD)
    staying = signed_in_session(live_server.url, "collega@switchboard.test", PASSWORD)
    with (
        socket_client(live_server.url, browser) as live,
        socket_client(live_server.url, staying) as colleague,
    ):
        if change == "role":
            _in_database(user, role=Role.TECHNICIAN)
        elif change == "team":
            _in_database(user, team_id=technical.id)
        else:
            _in_database(user, session_version=User.session_version + 1)

        assert check_live_sessions() == 1
        assert _dropped(live), f"the socket outlived a {change} change"
        assert colleague.connected
        _notify(app, other)
        wait_for_event(colleague, "notification:new")


@pytest.mark.parametrize("event", ["presence:typing", "presence:leave", "presence:heartbeat"])
def test_a_presence_event_from_an_ended_session_drops_the_socket(
    app, live_server, make_user, event
):
    make_user("agent", email=EMAIL)
    make_user("agent", email="collega@switchboard.test")
    whatsapp = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    jan = factories.contact(display_name="Jan Jansen", phone="+31612345678")
    db.session.commit()
    thread = customer_writes(whatsapp, jan, "wamid.s1", "Waar blijft de monteur?").thread
    room = {"thread_id": str(thread.id), "kind": "reply"}
    leaving = signed_in_session(live_server.url, EMAIL, PASSWORD)
    staying = signed_in_session(live_server.url, "collega@switchboard.test", PASSWORD)
    with (
        socket_client(live_server.url, leaving) as live,
        socket_client(live_server.url, staying) as colleague,
    ):
        assert live.call("presence:join", room, timeout=5)["ok"]
        assert colleague.call("presence:join", room, timeout=5)["ok"]
        colleague.received.clear()
        # The sessions end and the control message is lost: only the event can tell.
        user = db.session.scalar(sa.select(User).where(User.email == EMAIL))
        _in_database(user, session_version=User.session_version + 1)

        live.emit(event, room)

        assert _dropped(live), f"{event} from an ended session kept the socket"
        time.sleep(0.3)
        assert all(name != "presence:typing" for name, _ in colleague.received)
