"""Dates, times and weeks people and partners type.

Out-of-range values once raised ``OverflowError`` (a 500) where a day was
turned into a moment or moved by a day. Each is now refused with a 4xx that
names the field, in the page's own way of showing errors.
"""

from __future__ import annotations

import base64
import html
import json
import time
import uuid
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import ApiToken, OutboundDelivery
from app.platform.models.enums import OutboundState, TokenKind
from tests.support import factories
from tests.support.helpers import HX, AuthActions, csrf_token_from
from tests.support.planning_support import approved_order, plan_form, working_day
from tests.support.portal_support import build_world

RANGE = "between 2000 and 2100"
SLA_WEEK = {
    "hours_mon": "08:00-17:00",
    "hours_tue": "08:00-17:00",
    "hours_wed": "08:00-17:00",
    "hours_thu": "08:00-17:00",
    "hours_fri": "08:00-16:00",
    "hours_sat": "",
    "hours_sun": "",
}


@pytest.fixture
def world(app, make_user):
    return build_world(make_user)


@pytest.fixture
def partner_user(auth, world):
    assert auth.login(world["alpha"].user_email).status_code == 302
    return world["alpha"]


@pytest.fixture
def admin(make_user, auth):
    user = make_user("admin")
    auth.login(user.email)
    return user


@pytest.fixture
def planner(make_user, auth):
    user = make_user("agent")
    auth.login(user.email)
    return user


def _token(client, path):
    return csrf_token_from(client.get(path).get_data(as_text=True))


@pytest.mark.parametrize(("field", "value"), [("since", "0001-01-01"), ("until", "9999-12-31")])
def test_portal_orders_refuse_a_day_out_of_range(client, partner_user, field, value):
    response = client.get("/portal/", query_string={field: value})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert RANGE in html and f'data-field="{field}"' in html


def test_portal_key_refuses_an_expiry_out_of_range(client, partner_user):
    token = _token(client, "/portal/keys")
    response = client.post(
        "/portal/keys",
        data={
            "csrf_token": token,
            "name": "Far future",
            "mode": "live",
            "scope": "read",
            "expires": "9999-12-31",
        },
    )
    assert response.status_code == 422
    assert RANGE in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "Far future")) is None


def test_portal_replay_refuses_a_moment_out_of_range(client, partner_user):
    token = _token(client, "/portal/deliveries")
    response = client.post(
        "/portal/deliveries/replay-failed",
        data={"csrf_token": token, "since": "0001-01-01T00:00"},
    )
    assert response.status_code == 303  # the page's way: back, with the message on it
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Failed since: Enter a date {RANGE}" in page
    db.session.expire_all()
    delivery = db.session.get(OutboundDelivery, partner_user.deliveries[0].id)
    assert delivery.state == OutboundState.FAILED


@pytest.mark.parametrize(("field", "value"), [("from", "0001-01-01"), ("to", "9999-12-31")])
def test_audit_log_refuses_a_day_out_of_range(client, admin, field, value):
    response = client.get("/admin/audit", query_string={field: value})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'id="e-{field}"' in html and RANGE in html


@pytest.mark.parametrize("week", ["0001-W01", "9999-W52"])
def test_planning_board_refuses_a_week_out_of_range(client, planner, week):
    response = client.get("/planning/", query_string={"week": week})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'data-field="week"' in html and RANGE in html


# --- the sweep: every route that takes a typed date, time or week ------------------
#
# Found by reading every ``fromisoformat``/``strptime``/``fromisocalendar`` call
# that reads a request, and every date field of a form (grep of app/ and
# templates/). Each is sent both ends of the calendar; none may answer 5xx
# (in tests a server error raises), each bounded field answers 4xx naming it.

FAR = {
    "day": ("0001-01-01", "9999-12-31"),
    "local": ("0001-01-01T00:00", "9999-12-31T23:59"),
    "zoned": ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"),
    "week": ("0001-W01", "9999-W52"),
}


def _cursor(*parts, joined: bool = False) -> str:
    raw = "|".join(parts) if joined else json.dumps(list(parts))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@dataclass
class Sweep:
    """The world the sweep's requests need, and the clients signed in to it."""

    staff: object  # an admin's browser (admins may do all the desk's and set-up's work)
    api: object  # a client without cookies, for the JSON APIs' tokens and keys
    staff_api: dict  # an admin's bearer token
    portal: object  # a partner user's browser
    partner: object
    admin: object
    technician: object
    order: object
    thread: object
    integration: object

    def csrf(self, path: str) -> str:
        return csrf_token_from(self.staff.get(path).get_data(as_text=True))

    def portal_csrf(self, path: str) -> str:
        return csrf_token_from(self.portal.get(path).get_data(as_text=True))


@pytest.fixture
def sweep(app, client, auth, make_user, world):
    admin = make_user("admin")
    auth.login(admin.email)
    technician = make_user("technician", skills=["alfen"])
    order = approved_order("CC-2026-00901")
    thread = factories.thread(factories.channel())
    integration = factories.integration(
        "hubspot", credentials={"access_token": "t", "expires_at": time.time() + 3600}
    )
    _, token = issue_token(TokenKind.PERSONAL, "sweep", user_id=admin.id)
    db.session.commit()
    portal = app.test_client()
    assert AuthActions(portal).login(world["alpha"].user_email).status_code == 302
    return Sweep(
        client,
        app.test_client(),
        {"Authorization": f"Bearer {token}"},
        portal,
        world["alpha"],
        admin,
        technician,
        order,
        thread,
        integration,
    )


def _form(s: Sweep, path: str, page: str, data: dict, **headers):
    return s.staff.post(path, data={**data, "csrf_token": s.csrf(page)}, headers=headers)


# (route, kind of value, the request with that value, statuses, text the answer names)
ROUTES = [
    (
        "GET /admin/audit from",
        "day",
        lambda s, v: s.staff.get("/admin/audit", query_string={"from": v}),
        {400},
        'id="e-from"',
    ),
    (
        "GET /admin/audit to",
        "day",
        lambda s, v: s.staff.get("/admin/audit", query_string={"to": v}),
        {400},
        'id="e-to"',
    ),
    (
        "GET /analytics from",
        "day",
        lambda s, v: s.staff.get("/analytics", query_string={"from": v}),
        {400},
        RANGE,
    ),
    (
        "GET /planning/ week",
        "week",
        lambda s, v: s.staff.get("/planning/", query_string={"week": v}),
        {400},
        'data-field="week"',
    ),
    (
        "GET /planning/orders/<key> day (a link's prefill, left out)",
        "day",
        lambda s, v: s.staff.get(
            f"/planning/orders/{s.order.order_number}", query_string={"day": v}
        ),
        {200},
        "",
    ),
    (
        "POST /planning/orders/<key> date",
        "day",
        lambda s, v: _form(
            s,
            f"/planning/orders/{s.order.order_number}",
            f"/planning/orders/{s.order.order_number}",
            plan_form([s.technician], working_day(), date=v),
        ),
        {422},
        "Date: Enter a date between",
    ),
    (
        "POST /planning/technicians/<id>/absences starts_on",
        "day",
        lambda s, v: _form(
            s,
            f"/planning/technicians/{s.technician.id}/absences",
            f"/planning/technicians/{s.technician.id}",
            {"starts_on": v, "ends_on": "2030-01-02", "reason": "cursus"},
        ),
        {422},
        "From: Enter a date between",
    ),
    (
        "POST /planning/technicians/<id>/absences ends_on",
        "day",
        lambda s, v: _form(
            s,
            f"/planning/technicians/{s.technician.id}/absences",
            f"/planning/technicians/{s.technician.id}",
            {"starts_on": "2030-01-01", "ends_on": v, "reason": "cursus"},
        ),
        {422},
        "Until: Enter a date between",
    ),
    (
        "POST /admin/api-tokens/ expires_at",
        "day",
        lambda s, v: _form(
            s,
            "/admin/api-tokens/",
            "/admin/api-tokens/",
            {"user_id": str(s.admin.id), "name": "far", "expires_at": v},
        ),
        {422},
        RANGE,
    ),
    (
        "POST /partners/<id>/keys expires_at",
        "day",
        lambda s, v: _form(
            s,
            f"/partners/{s.partner.organization.id}/keys",
            f"/partners/{s.partner.organization.id}",
            {"name": "far", "expires_at": v},
        ),
        {422},
        RANGE,
    ),
    (
        "POST /tasks/new due_date",
        "day",
        lambda s, v: _form(s, "/tasks/new", "/tasks/new", {"task_title": "Bellen", "due_date": v}),
        {422},
        RANGE,
    ),
    (
        "POST /tasks/new remind_at",
        "local",
        lambda s, v: _form(
            s,
            "/tasks/new",
            "/tasks/new",
            {"task_title": "Bellen", "due_date": "2030-01-01", "remind_at": v[:16]},
        ),
        {422},
        RANGE,
    ),
    (
        "POST /api/tasks due_date",
        "day",
        lambda s, v: s.api.post(
            "/api/tasks", headers=s.staff_api, json={"task_title": "Bellen", "due_date": v}
        ),
        {422},
        "due_date",
    ),
    (
        "POST /api/tasks reminder_settings.remind_at",
        "zoned",
        lambda s, v: s.api.post(
            "/api/tasks",
            headers=s.staff_api,
            json={
                "task_title": "Bellen",
                "due_date": "2030-01-01",
                "reminder_settings": {"remind_at": v},
            },
        ),
        {422},
        "reminder_settings",
    ),
    (
        "POST /threads/<id>/snooze snooze_until",
        "local",
        lambda s, v: _form(
            s,
            f"/threads/{s.thread.id}/snooze",
            f"/threads/{s.thread.id}",
            {"snooze": "custom", "snooze_until": v},
            **HX,
        ),
        {422},
        RANGE,
    ),
    (
        "POST /inbox/bulk snooze_until",
        "local",
        lambda s, v: _form(
            s,
            "/inbox/bulk",
            "/inbox",
            {
                "thread_ids": [str(s.thread.id)],
                "action": "snooze",
                "snooze": "custom",
                "snooze_until": v,
            },
            **HX,
        ),
        {422},
        RANGE,
    ),
    (
        "POST /inbox/bulk seen_<id>",
        "zoned",
        lambda s, v: _form(
            s,
            "/inbox/bulk",
            "/inbox",
            {"thread_ids": [str(s.thread.id)], "action": "read", f"seen_{s.thread.id}": v},
            **HX,
        ),
        {422},
        "seen_{id}",
    ),
    (
        "POST /api/communication/calls called_at",
        "zoned",
        lambda s, v: s.api.post(
            "/api/communication/calls",
            headers=s.staff_api,
            json={
                "thread_id": str(s.thread.id),
                "direction": "inbound",
                "outcome": "voicemail",
                "called_at": v,
            },
        ),
        {422},
        "called_at",
    ),
    (
        "POST /admin/sla/calendars closed_dates",
        "day",
        lambda s, v: _form(
            s,
            "/admin/sla/calendars",
            "/admin/sla/",
            {
                **SLA_WEEK,
                "name": "Ver weg",
                "timezone": "Europe/Amsterdam",
                "closed_dates": f"2030-12-24\n{v}",
            },
        ),
        {422},
        RANGE,
    ),
    (
        "PATCH /api/integrations/<id> modified_since",
        "day",
        lambda s, v: s.api.patch(
            f"/api/integrations/{s.integration.id}", headers=s.staff_api, json={"modified_since": v}
        ),
        {422},
        "modified_since",
    ),
    (
        "PATCH /api/integrations/<id> modified_until",
        "zoned",
        lambda s, v: s.api.patch(
            f"/api/integrations/{s.integration.id}", headers=s.staff_api, json={"modified_until": v}
        ),
        {422},
        "modified_until",
    ),
    (
        "GET /api/tasks cursor",
        "zoned",
        lambda s, v: s.api.get(
            "/api/tasks",
            headers=s.staff_api,
            query_string={"cursor": _cursor(v, str(uuid.uuid4()), joined=True)},
        ),
        {422},
        "cursor",
    ),
    (
        "GET /api/communication/threads cursor",
        "zoned",
        lambda s, v: s.api.get(
            "/api/communication/threads",
            headers=s.staff_api,
            query_string={"cursor": _cursor("recent", v, str(uuid.uuid4()))},
        ),
        {422},
        "cursor",
    ),
    (
        "GET /api/communication/messages cursor",
        "zoned",
        lambda s, v: s.api.get(
            "/api/communication/messages",
            headers=s.staff_api,
            query_string={"thread_id": str(s.thread.id), "cursor": _cursor(v, str(uuid.uuid4()))},
        ),
        {422},
        "cursor",
    ),
    (
        "GET /threads/<id>/timeline before",
        "zoned",
        lambda s, v: s.staff.get(
            f"/threads/{s.thread.id}/timeline",
            query_string={"before": _cursor(v, str(uuid.uuid4()))},
        ),
        {400},
        "before",
    ),
    (
        "POST /api/v1/external/send-email send_at",
        "zoned",
        lambda s, v: s.api.post(
            "/api/v1/external/send-email",
            headers=s.staff_api,
            json={
                "to": "klant@example.com",
                "template_id": "order_confirmation",
                "dynamic_data": {},
                "send_at": v,
            },
        ),
        {422},
        "send_at",
    ),
    (
        "GET /portal/ since",
        "day",
        lambda s, v: s.portal.get("/portal/", query_string={"since": v}),
        {400},
        'data-field="since"',
    ),
    (
        "GET /portal/ until",
        "day",
        lambda s, v: s.portal.get("/portal/", query_string={"until": v}),
        {400},
        'data-field="until"',
    ),
    (
        "POST /portal/keys expires",
        "day",
        lambda s, v: s.portal.post(
            "/portal/keys",
            data={
                "csrf_token": s.portal_csrf("/portal/keys"),
                "name": "far",
                "mode": "live",
                "scope": "read",
                "expires": v,
            },
        ),
        {422},
        RANGE,
    ),
    (
        "POST /portal/deliveries/replay-failed since",
        "local",
        lambda s, v: s.portal.post(
            "/portal/deliveries/replay-failed",
            data={"csrf_token": s.portal_csrf("/portal/deliveries"), "since": v},
        ),
        {303},
        "",
    ),
    # A filter of the partner API: before 2000 lists every order, after 2100 none.
    (
        "GET /api/v1/partners/<id>/orders updated_since",
        "zoned",
        lambda s, v: s.api.get(
            f"/api/v1/partners/{s.partner.partner.id}/orders",
            headers=s.partner.partner.headers,
            query_string={"updated_since": v},
        ),
        {200},
        "",
    ),
]


@pytest.mark.parametrize(
    ("kind", "send", "statuses", "named"),
    [route[1:] for route in ROUTES],
    ids=[route[0] for route in ROUTES],
)
def test_no_route_answers_5xx_to_a_date_at_either_end_of_the_calendar(
    sweep, kind, send, statuses, named
):
    for value in FAR[kind]:
        response = send(sweep, value)
        assert response.status_code in statuses, (value, response.get_data(as_text=True)[:500])
        text = html.unescape(response.get_data(as_text=True))
        assert named.replace("{id}", str(sweep.thread.id)) in text, (value, text[:2000])
