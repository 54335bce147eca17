"""One catalogue of partner events, and five places that agree with it.

The admin page's checkboxes, the OpenAPI enum, docs/partners.md, the validator
(the partner API and the admin form) and the ``event`` and
``X-ChargeCars-Event`` of callbacks actually delivered for each status move.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from app.orders.deliveries.partner_callbacks import on_visit_event, on_visit_rescheduled
from app.orders.deliveries.partner_events import EVENT_NAMES, docs_table, status_events
from app.orders.partners.services import new_webhook_secret
from app.platform.auth.tokens import issue_token
from app.platform.extensions import db
from app.platform.models import Order
from app.platform.models.enums import TokenKind
from app.platform.transactions import commit
from tests.conftest import opened
from tests.fakes.receiver import FakeReceiver
from tests.support.helpers import csrf_token_from, serving
from tests.support.jobs import drain_until
from tests.support.partner_support import line_items_order, make_partner

DOCS = Path(__file__).resolve().parents[2] / "docs" / "partners.md"


@pytest.fixture
def receiver():
    yield from serving(FakeReceiver(new_webhook_secret()))


@pytest.fixture
def app(make_app, fake_pdok):
    with opened(make_app(PDOK_API_BASE=fake_pdok.url, DELIVERY_RETRY_BASE_SECONDS=0.2)) as app:
        yield app


def test_the_admin_page_offers_exactly_the_catalogue(client, auth, make_user):
    partner = make_partner()
    auth.login(make_user("admin").email)
    page = client.get(f"/partners/{partner.id}").get_data(as_text=True)
    offered = re.findall(r'name="webhook_events" value="([^"]+)"', page)
    # Once for the live settings, once for the sandbox's.
    assert tuple(offered) == EVENT_NAMES * 2
    assert "Visit rescheduled" in page  # a label, not only the key


def test_the_openapi_enum_is_the_catalogue(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    field = schemas["IntegrationConfigIn"]["properties"]["webhook_events"]
    # Optional, not nullable: an array, or left out.
    [listed] = [option for option in field.get("anyOf", [field]) if option.get("type") == "array"]
    assert tuple(listed["items"]["enum"]) == EVENT_NAMES
    assert "visit_rescheduled" in field["description"]
    assert tuple(schemas["StatusCallback"]["properties"]["event"]["enum"]) == EVENT_NAMES


def test_the_docs_table_is_the_catalogue():
    text = DOCS.read_text(encoding="utf-8")
    section = re.search(
        r"<!-- partner-events:start[^>]*-->\n(.*?)<!-- partner-events:end -->", text, re.S
    )
    assert section, "docs/partners.md lost its generated events section"
    assert section.group(1) == docs_table(), (
        "docs/partners.md is behind app/orders/deliveries/partner_events.py; "
        "paste the output of `python -m app.orders.deliveries.partner_events` between the markers"
    )
    documented = re.findall(r"^\| `([a-z_]+)` \|", section.group(1), re.M)
    assert tuple(documented) == EVENT_NAMES


def test_the_validators_take_every_name_and_refuse_others(client, auth, make_user):
    partner = make_partner()
    url = f"/api/v1/partners/{partner.id}/integration-config"
    for name in EVENT_NAMES:
        answer = client.post(url, json={"webhook_events": [name]}, headers=partner.headers)
        assert answer.status_code == 200, (name, answer.get_json())
    every = client.post(url, json={"webhook_events": list(EVENT_NAMES)}, headers=partner.headers)
    assert every.get_json()["data"]["webhook_events"] == list(EVENT_NAMES)

    unknown = client.post(
        url, json={"webhook_events": ["quote_teleported"]}, headers=partner.headers
    )
    assert unknown.status_code == 422
    assert [key for key in unknown.get_json()["error"]["fields"]] == ["webhook_events.0"]

    auth.login(make_user("admin").email)
    csrf = csrf_token_from(client.get(f"/partners/{partner.id}").get_data(as_text=True))
    form = client.post(
        f"/partners/{partner.id}/webhook",
        data={"csrf_token": csrf, "webhook_url": "", "webhook_events": list(EVENT_NAMES)},
    )
    assert form.status_code == 303
    refused = client.post(
        f"/partners/{partner.id}/webhook",
        data={"csrf_token": csrf, "webhook_url": "", "webhook_events": ["quote_teleported"]},
    )
    assert refused.status_code == 422
    assert 'data-field="webhook_events"' in refused.get_data(as_text=True)


MAPPING = {
    "new": "RECEIVED",
    "quote_sent": "QUOTED",
    "approved": "CONFIRMED",
    "scheduled": "PLANNED",
    "in_progress": "IN_PROGRESS",
    "completed": "DELIVERED",
    "on_hold": "ON_HOLD",
    "cancelled": "CANCELLED",
}
MOVES = [
    "quote_sent",
    "approved",
    "scheduled",
    "in_progress",
    "on_hold",
    "in_progress",
    "completed",
]


def _listening_partner(receiver, name, events):
    partner = make_partner(
        name, webhook_url=f"{receiver.url}/{name.lower()}", webhook_events=events
    )
    partner.integration.webhook_secret = receiver.secret
    partner.integration.status_mapping = {
        "chargecars_to_partner": MAPPING,
        "partner_to_chargecars": {"ON_HOLD": "on_hold"},
    }
    db.session.commit()
    return partner


def _order_through_the_api(client, partner, partner_order_id) -> Order:
    answer = client.post(
        f"/api/v1/partners/{partner.id}/orders",
        json=line_items_order(partner_order_id),
        headers=partner.headers,
    )
    assert answer.status_code == 201, answer.get_json()
    return db.session.get(Order, uuid.UUID(answer.get_json()["data"]["chargecars_order_uuid"]))


def test_delivered_callbacks_carry_the_catalogues_names(app, client, auth, make_user, receiver):
    everything = _listening_partner(receiver, "Groendus", list(EVENT_NAMES))
    # The older name for completion and the generic event, heard by another partner.
    aliases = _listening_partner(receiver, "Essent", ["order_completed", "status_changed"])
    manager = make_user("manager")
    _, token = issue_token(TokenKind.PERSONAL, "t", user_id=manager.id)
    db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}

    def move(order, status):
        answer = client.post(
            f"/api/orders/{order.id}/status",
            headers=bearer,
            json={"to_status": status, "reason": "x"},
        )
        assert answer.status_code == 200, (status, answer.get_json())

    expected: list[tuple[str, str]] = []
    for partner, tag in ((everything, "ALL"), (aliases, "ALIAS")):
        hears_all = partner is everything
        # A first status is a status change too: status_changed without order_created.
        created = "order_created" if hears_all else "status_changed"
        order = _order_through_the_api(client, partner, f"{tag}-1")
        expected.append((f"{tag}-1", created))
        for status in MOVES:
            move(order, status)
            if hears_all:
                wanted = status_events(status)[0]
            else:
                wanted = "order_completed" if status == "completed" else "status_changed"
            expected.append((f"{tag}-1", wanted))
        cancelled = _order_through_the_api(client, partner, f"{tag}-2")
        expected.append((f"{tag}-2", created))
        move(cancelled, "cancelled")
        expected.append((f"{tag}-2", "order_cancelled" if hears_all else "status_changed"))

    # A planned visit moved to another day, its status unchanged (planning's hook):
    # only the partner subscribed to visit_rescheduled hears it.
    for partner, tag in ((everything, "ALL"), (aliases, "ALIAS")):
        planned = _order_through_the_api(client, partner, f"{tag}-3")
        move(planned, "approved")
        move(planned, "scheduled")
        db.session.refresh(planned)
        on_visit_rescheduled(
            planned, {"date": "2026-12-16", "window_start": "08:00", "window_end": "12:00"}
        )
        visit = {
            "number": 1,
            "purpose": None,
            "date": "2026-12-16",
            "window_start": "08:00",
            "window_end": "12:00",
        }
        # The customer confirmed it in answer to the reminder: only visit_confirmed hears it.
        on_visit_event(planned, "visit_confirmed", visit)
        # One visit of two done (a return visit follows): only visit_completed hears it.
        on_visit_event(planned, "visit_completed", visit)
        commit()
    expected += [
        ("ALL-3", "order_created"),
        ("ALL-3", "order_approved"),
        ("ALL-3", "visit_scheduled"),
        ("ALL-3", "visit_rescheduled"),
        ("ALL-3", "visit_confirmed"),
        ("ALL-3", "visit_completed"),
        ("ALIAS-3", "status_changed"),
        ("ALIAS-3", "status_changed"),
        ("ALIAS-3", "status_changed"),
    ]
    # And the admin's "Send test event".
    auth.login(make_user("admin").email)
    csrf = csrf_token_from(client.get(f"/partners/{everything.id}").get_data(as_text=True))
    sent = client.post(f"/partners/{everything.id}/deliveries/test", data={"csrf_token": csrf})
    assert sent.status_code == 303
    expected.append(("TEST-ORDER", "test"))

    drain_until(app, lambda: len(receiver.events) >= len(expected), timeout=120)
    assert receiver.rejections == []
    heard = [(e.payload["partner_order_id"], e.payload["event"]) for e in receiver.events]
    assert sorted(heard) == sorted(expected)
    for event in receiver.events:
        assert event.headers["X-Chargecars-Event"] == event.payload["event"]
    assert {name for _, name in heard} == set(EVENT_NAMES)
    rescheduled = next(e for e in receiver.events if e.payload["event"] == "visit_rescheduled")
    assert rescheduled.payload["visit"]["date"] == "2026-12-16"
    assert rescheduled.payload["status"] == "PLANNED"
    assert rescheduled.payload["status_details"]["from_status"] == "scheduled"
    assert rescheduled.payload["status_details"]["to_status"] == "scheduled"
