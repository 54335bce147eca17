"""The background loop: a request enqueues, a worker runs, the browser hears it.

The Socket.IO side uses a real client over HTTP against the live server, so the
same test proves both modes: the embedded queue with in-process events, and
Redis with the worker's events crossing the Redis message queue.
"""

from __future__ import annotations

import time

import pytest
import socketio
import sqlalchemy as sa
from rq import Retry

from app.platform.extensions import db
from app.platform.jobs.queues import QUEUES, enqueue
from app.platform.models import Notification
from app.platform.models.enums import ChannelType
from tests.support import factories
from tests.support.helpers import PASSWORD
from tests.support.jobs import drain_queues
from tests.support.live_server import signed_in_session, socket_client, wait_for_event


def test_request_enqueues_worker_runs_socket_client_receives(app, live_server, make_user):
    user = make_user("agent", email="live@switchboard.test")
    browser = signed_in_session(live_server.url, "live@switchboard.test", PASSWORD)
    with socket_client(live_server.url, browser) as live:
        token = (
            browser.get(f"{live_server.url}/inbox", timeout=10)
            .text.split('name="csrf-token" content="')[1]
            .split('"')[0]
        )
        response = browser.post(
            f"{live_server.url}/api/notifications/test", headers={"X-CSRFToken": token}, timeout=10
        )
        assert response.status_code == 202, response.text
        assert response.json()["data"]["job_id"]

        drain_queues(app)
        event = wait_for_event(live, "notification:new")

    assert event["title"] == "Test notification"
    db.session.expire_all()
    stored = db.session.scalars(
        sa.select(Notification).where(Notification.user_id == user.id)
    ).all()
    assert [n.title for n in stored] == ["Test notification"]
    assert event["id"] == str(stored[0].id)


def test_events_only_reach_their_user(app, live_server, make_user):
    make_user("agent", email="one@switchboard.test")
    make_user("agent", email="two@switchboard.test")
    first = signed_in_session(live_server.url, "one@switchboard.test", PASSWORD)
    second = signed_in_session(live_server.url, "two@switchboard.test", PASSWORD)
    with (
        socket_client(live_server.url, first) as one,
        socket_client(live_server.url, second) as two,
    ):
        page = second.get(f"{live_server.url}/inbox", timeout=10).text
        token = page.split('name="csrf-token" content="')[1].split('"')[0]
        second.post(f"{live_server.url}/api/notifications/test", headers={"X-CSRFToken": token})
        drain_queues(app)
        wait_for_event(two, "notification:new")
        time.sleep(0.3)
        assert all(event != "notification:new" for event, _ in one.received)


def test_anonymous_socket_connection_is_refused(live_server):
    with pytest.raises(socketio.exceptions.ConnectionError):
        with socket_client(live_server.url, None):
            pass


def test_jobs_get_queue_defaults(app):
    job = enqueue(
        "app.conversations.notifications.jobs.send_test_notification",
        "00000000-0000-0000-0000-000000000000",
    )
    assert job.origin == "default"
    assert job.timeout == QUEUES["default"].timeout
    assert job.retries_left == len(QUEUES["default"].retry_intervals)
    drain_queues(app)


def test_cross_site_socket_connection_is_refused(live_server, make_user):
    make_user("agent", email="x@switchboard.test")
    browser = signed_in_session(live_server.url, "x@switchboard.test", PASSWORD)
    with pytest.raises(socketio.exceptions.ConnectionError):
        with socket_client(live_server.url, browser, origin="https://evil.example"):
            pass
    with socket_client(live_server.url, browser, origin=live_server.url) as same_site:
        assert same_site.connected


def test_failed_job_is_retried_after_its_interval(app):
    """A retry is a scheduled job: the embedded worker must move it back when due."""
    broker = app.extensions["broker"]
    job = broker.queue("default").enqueue(
        "tests.support.sample_jobs.fail_first_time",
        "retry-test-calls",
        retry=Retry(max=2, interval=1),
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if not broker.embedded:
            drain_queues(app)  # a burst worker; due retries are moved by its scheduler pass
        job.refresh()
        if job.get_status() == "finished":
            break
        time.sleep(0.2)
    assert job.get_status() == "finished"
    assert job.return_value() == 2
    assert int(broker.connection.get("retry-test-calls")) == 2


def test_thread_events_reach_only_people_who_may_see_the_thread(app, live_server, make_user):
    support, tech = factories.team("Klantenservice"), factories.team("Techniek")
    db.session.commit()
    make_user("agent", email="support@switchboard.test", team_id=support.id)
    make_user("agent", email="tech@switchboard.test", team_id=tech.id)
    make_user("manager", email="boss@switchboard.test")
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    contact = factories.contact(phone="+31612345678")
    thread = factories.thread(channel, contact, assigned_team_id=support.id)
    db.session.commit()

    sessions = {
        email: signed_in_session(live_server.url, f"{email}@switchboard.test", PASSWORD)
        for email in ("support", "tech", "boss")
    }
    with (
        socket_client(live_server.url, sessions["support"]) as colleague,
        socket_client(live_server.url, sessions["tech"]) as outsider,
        socket_client(live_server.url, sessions["boss"]) as manager,
    ):
        page = sessions["support"].get(f"{live_server.url}/threads/{thread.id}", timeout=10).text
        token = page.split('name="csrf-token" content="')[1].split('"')[0]
        response = sessions["support"].post(
            f"{live_server.url}/threads/{thread.id}/note",
            data={"content": "Alleen voor het team", "csrf_token": token},
            timeout=10,
        )
        assert response.status_code in (200, 303)
        assert wait_for_event(colleague, "message:new")["thread_id"] == str(thread.id)
        seen = wait_for_event(manager, "message:new")
        assert seen["message"]["content"] == "Alleen voor het team"
        time.sleep(0.3)
        assert all(event != "message:new" for event, _ in outsider.received)
