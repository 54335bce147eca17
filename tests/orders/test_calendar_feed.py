"""The technician's private iCalendar feed and calendar settings, over HTTP."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import sqlalchemy as sa

from app.orders.mobile.services import local_today
from app.platform.extensions import db
from app.platform.models import SandboxSend, User
from tests.support.calendar_support import plan, planned_visit, rows_of
from tests.support.jobs import drain_queues

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SETTINGS = "/settings/calendar"


def _feed_url(response_text: str) -> str:
    return re.search(r'value="(http[^"]+\.ics)"', response_text)[1]


def _feed(client, url: str):
    path = url.split("://", 1)[1].split("/", 1)[1]
    return client.get("/" + path)


def _make_link(client, auth):
    response = client.post(f"{SETTINGS}/feed", data={"csrf_token": auth.csrf_token(SETTINGS)})
    assert response.status_code == 200
    url = _feed_url(response.text)
    assert f'href="webcal://{url.split("://", 1)[1]}"' in response.text
    return url


def test_the_feed_lists_the_technicians_visits_in_amsterdam_time(app, client, auth, make_user):
    piet = make_user("technician", email="piet@chargecars.nl")
    kees = make_user("technician", email="kees@chargecars.nl")
    order = planned_visit(piet)
    planned_visit(kees, number="CC-2026-00043")
    drain_queues(app)
    auth.login("piet@chargecars.nl")
    url = _make_link(client, auth)
    # Only the hash is kept.
    stored = db.session.scalar(sa.select(User.calendar_feed_hash).where(User.id == piet.id))
    assert stored and stored not in url

    response = _feed(client, url)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    (event,) = calendar.walk("VEVENT")
    day = local_today() + timedelta(days=1)
    assert str(event["SUMMARY"]) == "Bezoek CC-2026-00042 · Jan Jansen"
    assert event.decoded("DTSTART") == datetime.combine(day, time(8), AMSTERDAM)
    assert event.decoded("DTEND") == datetime.combine(day, time(12), AMSTERDAM)
    assert event["DTSTART"].params["TZID"] == "Europe/Amsterdam"
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/Amsterdam"
    assert str(event["LOCATION"]) == "Stationsstraat 12 A, 3511 AB Utrecht"
    assert str(event["STATUS"]) == "CONFIRMED" and event["SEQUENCE"] == 0
    uid = str(event["UID"])
    assert "CC-2026-00043" not in response.text  # Kees's visit is his alone

    # Moved: the same UID, a higher SEQUENCE. Taken over by Kees: cancelled for Piet.
    plan(order, scheduled_date=day + timedelta(days=2))
    drain_queues(app)
    (moved,) = icalendar.Calendar.from_ical(_feed(client, url).data).walk("VEVENT")
    assert str(moved["UID"]) == uid and moved["SEQUENCE"] == 1
    assert moved.decoded("DTSTART").date() == day + timedelta(days=2)
    plan(order, technician_id=kees.id)
    drain_queues(app)
    (gone,) = icalendar.Calendar.from_ical(_feed(client, url).data).walk("VEVENT")
    assert str(gone["UID"]) == uid and str(gone["STATUS"]) == "CANCELLED"
    assert gone["SEQUENCE"] == 2


def test_a_revoked_or_replaced_link_answers_404(app, client, auth, make_user):
    make_user("technician", email="piet@chargecars.nl")
    auth.login("piet@chargecars.nl")
    first = _make_link(client, auth)
    second = _make_link(client, auth)
    assert _feed(client, first).status_code == 404
    assert _feed(client, second).status_code == 200
    page = client.get(SETTINGS)
    assert 'data-testid="feed-active"' in page.text and second not in page.text

    response = client.post(
        f"{SETTINGS}/feed/revoke", data={"csrf_token": auth.csrf_token(SETTINGS)}
    )
    assert response.status_code == 302
    assert _feed(client, second).status_code == 404
    assert client.get("/calendar/sbc_made-up.ics").status_code == 404
    assert client.get("/calendar/nonsense.ics").status_code == 404


def test_calendar_settings_name_the_field_and_move_visits_to_the_new_mailbox(
    app, client, auth, make_user
):
    piet = make_user("technician", email="piet@chargecars.nl")
    order = planned_visit(piet)
    drain_queues(app)
    auth.login("piet@chargecars.nl")
    page = client.get(SETTINGS)
    assert page.status_code == 200 and "Calendar on your phone" in page.text

    bad = client.post(
        SETTINGS,
        data={
            "csrf_token": auth.csrf_token(SETTINGS),
            "calendar_mailbox": "geen adres",
            "outlook_calendar": "y",
        },
    )
    assert bad.status_code == 422
    assert "geen adres is not an e-mail address." in bad.text

    saved = client.post(
        SETTINGS,
        data={
            "csrf_token": auth.csrf_token(SETTINGS),
            "calendar_mailbox": "P.deVries@ChargeCars.nl",
            "outlook_calendar": "y",
        },
    )
    assert saved.status_code == 302
    drain_queues(app)
    assert db.session.get(User, piet.id).calendar_mailbox == "p.devries@chargecars.nl"
    # Sandbox (no Graph credentials): the event made in the old calendar is deleted
    # there and made in the new one, as the sandbox outbox records.
    requests = [
        s.request_body["request"]
        for s in db.session.scalars(
            sa.select(SandboxSend)
            .where(SandboxSend.provider == "graph")
            .order_by(SandboxSend.created_at)
        )
    ]
    event_id = rows_of(order)[0].graph_event_id
    assert requests[0] == "POST /v1.0/users/piet@chargecars.nl/events"
    assert requests[1].startswith("DELETE /v1.0/users/piet@chargecars.nl/events/sandbox.graph.")
    assert requests[2] == "POST /v1.0/users/p.devries@chargecars.nl/events"
    assert event_id.startswith("sandbox.graph.event.")
    assert client.get("/m/").status_code == 200
    assert 'data-testid="calendar-link"' in client.get("/m/").text


def test_without_graph_credentials_the_event_is_recorded_in_the_sandbox(app, make_user):
    piet = make_user("technician", email="piet@chargecars.nl")
    order = planned_visit(piet)
    drain_queues(app)
    # The calendar's send (the customer's planning message is another provider's).
    (send,) = db.session.scalars(sa.select(SandboxSend).where(SandboxSend.provider == "graph"))
    assert send.provider == "graph" and send.recipient == "piet@chargecars.nl"
    assert send.request_body["subject"] == "Bezoek CC-2026-00042 · Jan Jansen"
    assert send.request_body["start"]["timeZone"] == "Europe/Amsterdam"
    assert send.request_body["transactionId"] == rows_of(order)[0].transaction_id
