"""Web Push to the technician's phone, against a fake push service
that checks VAPID (RFC 8292) and decrypts the aes128gcm payload (RFC 8291)."""

from __future__ import annotations

import json
from datetime import time, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.orders.core.planning import plan_visit
from app.orders.mobile.push_jobs import push_customer_message
from app.orders.mobile.services import local_today
from app.platform.extensions import db
from app.platform.models import Order, PushDelivery, PushSubscription
from app.platform.transactions import commit
from app.platform.ui import local_date
from tests.conftest import opened
from tests.support.helpers import customer_writes
from tests.support.jobs import drain_queues
from tests.support.mobile_support import visit
from tests.support.planning_support import approved_order, working_day
from tests.support.push_support import VAPID_PUBLIC_KEY, VAPID_SETTINGS, fake_push_service
from tests.support.push_support import visit_with_conversation as conversation_of_visit
from tests.support.visits_support import plan_number, two_visits

push_service = pytest.fixture(fake_push_service, name="push_service")


@pytest.fixture
def app(make_app):
    with opened(make_app(**VAPID_SETTINGS)) as app:
        yield app


def _subscribe(client, auth, user, push_service) -> dict:
    auth.login(user.email)
    token = auth.csrf_token("/m/")
    subscription = push_service.subscribe()
    answer = client.post(
        "/m/push/subscription", json=subscription, headers={"X-CSRFToken": token}
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return subscription


def test_the_phone_page_offers_push_with_the_public_key(client, auth, make_user):
    tech = make_user("technician")
    auth.login(tech.email)
    page = client.get("/m/").get_data(as_text=True)
    assert f'data-push-key="{VAPID_PUBLIC_KEY}"' in page
    assert 'data-testid="push-toggle"' in page
    assert '<link rel="manifest" href="/m/manifest.webmanifest">' in page


def test_without_vapid_keys_push_is_off_and_the_button_absent(make_app, make_user):
    with opened(make_app()) as app:
        client = app.test_client()
        tech = make_user("technician")
        from tests.support.helpers import AuthActions

        auth = AuthActions(client)
        auth.login(tech.email)
        page = client.get("/m/").get_data(as_text=True)
        assert 'data-push-key=""' in page and "push-toggle" not in page
        token = auth.csrf_token("/m/")
        answer = client.post("/m/push/subscription", json={}, headers={"X-CSRFToken": token})
        assert answer.status_code == 404


def test_manifest_and_service_worker_are_served_for_the_phone_scope(client):
    manifest = client.get("/m/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest.mimetype == "application/manifest+json"
    body = json.loads(manifest.get_data(as_text=True))
    assert body["start_url"] == body["scope"] == "/m/"
    assert body["display"] == "standalone"
    assert body["theme_color"] and body["background_color"]
    for icon in body["icons"]:
        png = client.get(icon["src"])
        assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
        width = int.from_bytes(png.data[16:20], "big")
        assert icon["sizes"] == f"{width}x{width}"
    assert {icon["sizes"] for icon in body["icons"]} == {"192x192", "512x512"}

    worker = client.get("/m/sw.js")
    assert worker.status_code == 200
    assert worker.mimetype == "text/javascript"
    assert worker.headers["Service-Worker-Allowed"] == "/m/"
    assert "no-cache" in worker.headers["Cache-Control"]
    assert b'addEventListener("push"' in worker.data
    # default-src 'self' covers workers and the manifest (no worker-src needed).
    policy = worker.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "worker-src" not in policy


def test_a_customer_message_is_pushed_to_the_visits_technician_in_their_language(
    app, client, auth, make_user, push_service
):
    tech = make_user("technician", language="nl")
    order, channel, customer, _thread = conversation_of_visit(tech)
    subscription = _subscribe(client, auth, tech, push_service)

    customer_writes(channel, customer, "wamid.1", "Het hek staat open, ik ben er om 14:00.")
    drain_queues(app)

    assert push_service.rejections == []
    assert push_service.pushes_to(subscription["endpoint"]) == [
        {
            "title": "CC-2026-00042: bericht van Jan Jansen",
            "body": "Het hek staat open, ik ben er om 14:00.",
            "url": f"/m/visits/{order.id}/conversation",
            "tag": f"order-{order.id}",
        }
    ]
    assert push_service.received[0].vapid_subject == "mailto:planning@chargecars.nl"
    assert push_service.received[0].ttl > 0


def test_a_job_run_twice_pushes_once(app, client, auth, make_user, push_service):
    tech = make_user("technician")
    _order, channel, customer, _thread = conversation_of_visit(tech)
    subscription = _subscribe(client, auth, tech, push_service)
    message = customer_writes(channel, customer, "wamid.2", "Komt u nog?")
    drain_queues(app)

    assert push_customer_message(str(message.id)) == 0
    assert len(push_service.pushes_to(subscription["endpoint"])) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PushDelivery)) == 1


def test_a_gone_subscription_is_dropped(app, client, auth, make_user, push_service):
    tech = make_user("technician")
    _order, channel, customer, _thread = conversation_of_visit(tech)
    subscription = _subscribe(client, auth, tech, push_service)
    push_service.forget(subscription["endpoint"])

    customer_writes(channel, customer, "wamid.3", "Hallo?")
    drain_queues(app)

    assert push_service.received == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PushSubscription)) == 0


def test_unsubscribe_stops_the_pushes(app, client, auth, make_user, push_service):
    tech = make_user("technician")
    _order, channel, customer, _thread = conversation_of_visit(tech)
    subscription = _subscribe(client, auth, tech, push_service)
    token = auth.csrf_token("/m/")
    answer = client.post(
        "/m/push/unsubscribe",
        json={"endpoint": subscription["endpoint"]},
        headers={"X-CSRFToken": token},
    )
    assert answer.status_code == 200
    customer_writes(channel, customer, "wamid.4", "Hallo?")
    drain_queues(app)
    assert push_service.received == []


def test_nobody_is_pushed_about_our_own_messages_or_orders_without_technician(
    app, client, auth, make_user, push_service
):
    tech = make_user("technician")
    order, channel, customer, thread = conversation_of_visit(tech)
    subscription = _subscribe(client, auth, tech, push_service)
    order = db.session.get(Order, order.id)
    order.assigned_technician_id = None
    db.session.commit()
    customer_writes(channel, customer, "wamid.5", "Hallo?")
    drain_queues(app)
    assert push_service.pushes_to(subscription["endpoint"]) == []


def test_a_visit_given_to_the_technician_or_moved_is_pushed(
    app, client, auth, make_user, push_service
):
    tech = make_user("technician", language="nl")
    other = make_user("technician")
    order = visit(other)
    subscription = _subscribe(client, auth, tech, push_service)

    plan_visit(db.session.get(Order, order.id), technician_id=tech.id)
    commit()
    drain_queues(app)
    tomorrow = local_today() + timedelta(days=1)
    plan_visit(db.session.get(Order, order.id), scheduled_date=tomorrow)
    commit()
    drain_queues(app)
    # The same day again changes nothing: no push.
    assert not plan_visit(db.session.get(Order, order.id), scheduled_date=tomorrow)

    pushes = push_service.pushes_to(subscription["endpoint"])
    assert [p["title"] for p in pushes] == [
        "Nieuw bezoek: CC-2026-00042",
        "Bezoek verzet: CC-2026-00042",
    ]
    assert pushes[0]["url"] == f"/m/#visit-{order.id}"
    assert pushes[1]["body"].startswith("Gepland op ")


def test_push_keys_command_prints_a_usable_pair(runner):
    result = runner.invoke(args=["push-keys"])
    assert result.exit_code == 0
    lines = dict(line.split("=", 1) for line in result.output.strip().splitlines())
    assert set(lines) == {"VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY"}
    from py_vapid import Vapid02

    Vapid02.from_string(lines["VAPID_PRIVATE_KEY"])  # pywebpush can sign with it


def test_a_technician_taken_off_a_visit_hears_it_is_off(
    app, client, auth, make_user, push_service
):
    tech = make_user("technician", language="nl")
    other = make_user("technician")
    order = visit(tech)
    subscription = _subscribe(client, auth, tech, push_service)

    plan_visit(db.session.get(Order, order.id), technician_id=other.id)
    commit()
    drain_queues(app)

    [push] = push_service.pushes_to(subscription["endpoint"])
    assert push["title"] == "Bezoek vervallen: CC-2026-00042"
    assert push["body"].startswith("Niet meer voor u ingepland op ")
    assert push["url"] == "/m/"


def test_the_push_for_an_orders_second_visit_names_that_visits_day(
    app, client, auth, make_user, push_service
):
    tech = make_user("technician", language="nl", skills=["alfen"])
    kees = make_user("technician", language="nl", skills=["alfen"])
    planner = make_user("team_lead", language="nl")
    order = approved_order()
    subscription = _subscribe(client, auth, tech, push_service)
    first, second, third = working_day(7), working_day(9), working_day(11)

    two_visits(order, [tech], first, second, planner)
    drain_queues(app)
    plan_number(order, 2, [tech], third, planner, time(13), time(17))
    drain_queues(app)
    plan_number(order, 2, [kees], third, planner, time(13), time(17))
    drain_queues(app)

    with force_locale("nl"):
        days = {day: local_date(day, "%A %d %B") for day in (first, second, third)}
    pushes = push_service.pushes_to(subscription["endpoint"])
    assert [(p["title"], p["body"]) for p in pushes] == [
        ("Nieuw bezoek: CC-2026-00101", f"Ingepland op {days[first]}, 08:00-12:00."),
        ("Nieuw bezoek 2: CC-2026-00101", f"Ingepland op {days[second]}, 13:00-17:00."),
        ("Bezoek 2 verzet: CC-2026-00101", f"Ingepland op {days[third]}, 13:00-17:00."),
        ("Bezoek vervallen: CC-2026-00101", f"Niet meer voor u ingepland op {days[third]}."),
    ]
    keys = db.session.scalars(sa.select(PushDelivery.event_key)).all()
    assert len(keys) == len(set(keys)) == 4
