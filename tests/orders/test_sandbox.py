"""The partner sandbox: a test key's orders, callbacks and moves.

A test key makes a test order through the same intake (same validation and
answers), numbered in its own series and seen only by test keys; its moves,
by the sandbox endpoint or the automatic timeline, go through the real status
engine and send the same signed callbacks, marked as test.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from app.orders.mobile.services import local_today
from app.orders.partners.keys import issue_partner_key
from app.orders.partners.sandbox import timeline
from app.orders.partners.services import new_webhook_secret
from app.orders.planning.hours import public_holiday
from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    CommunicationThread,
    Notification,
    Order,
    OrderStatusTransition,
    OutboundDelivery,
    SandboxSend,
)
from app.platform.models.enums import KeyMode, OutboundState
from tests.fakes.receiver import FakeReceiver
from tests.support.jobs import drain_until
from tests.support.partner_support import add_articles, line_items_order, make_partner

STATUSES = ("approved", "scheduled", "in_progress", "completed")


def _test_key(partner) -> dict:
    _, plain = issue_partner_key(partner.organization, "Sandbox", mode=KeyMode.TEST)
    db.session.commit()
    assert plain.startswith("sbk_test_")
    return {"X-API-Key": plain}


def _sandbox_partner(receiver=None):
    partner = make_partner(
        webhook_url=(receiver.url + "/hooks/chargecars") if receiver else None,
        webhook_events=["order_created", "status_changed"],
    )
    if receiver:
        partner.integration.webhook_secret = receiver.secret
        # Test orders' callbacks go to the sandbox's own URL, signed with its own
        # secret; here the same endpoint stands for both.
        partner.integration.sandbox_webhook_url = receiver.url + "/hooks/sandbox"
        partner.integration.sandbox_webhook_events = ["order_created", "status_changed"]
        partner.integration.sandbox_webhook_secret = receiver.secret
        db.session.commit()
    add_articles(partner)
    return partner


def test_test_key_makes_a_test_order_apart_from_live_ones(app, client, fake_pdok):
    partner = _sandbox_partner()
    test = _test_key(partner)
    created = client.post(
        f"/api/v1/partners/{partner.id}/orders", json=line_items_order(), headers=test
    )
    assert created.status_code == 201, created.get_json()
    number = created.get_json()["data"]["chargecars_order_id"]
    assert number.startswith("CC-TEST-")
    again = client.post(
        f"/api/v1/partners/{partner.id}/orders", json=line_items_order(), headers=test
    )
    assert again.status_code == 200
    # The same partner_order_id with a live key is another, live order.
    live = client.post(
        f"/api/v1/partners/{partner.id}/orders", json=line_items_order(), headers=partner.headers
    )
    assert live.status_code == 201, live.get_json()
    live_number = live.get_json()["data"]["chargecars_order_id"]
    assert not live_number.startswith("CC-TEST-")
    assert live_number.endswith("-00001")  # the live series has no gap for the test order
    orders = {o.order_number: o.is_test for o in db.session.scalars(sa.select(Order))}
    assert orders == {number: True, live_number: False}
    # Same validation and errors as live.
    bad = client.post(
        f"/api/v1/partners/{partner.id}/orders", json={"partner_order_id": "X"}, headers=test
    )
    assert bad.status_code == 422
    assert bad.get_json()["error"]["code"] == "validation_failed"
    # Each key sees its own mode's order.
    seen = client.get(
        f"/api/v1/partners/{partner.id}/orders/GRO-2026-000123/status", headers=test
    ).get_json()["data"]
    assert seen["chargecars_order_id"] == number
    # Staff pages do not know test orders.
    assert client.get(f"/api/orders/{number}").status_code in (401, 404)


def test_live_and_test_idempotency_keys_are_apart(app, client, fake_pdok):
    partner = _sandbox_partner()
    test = {**_test_key(partner), "Idempotency-Key": "same-key"}
    first = client.post(
        f"/api/v1/partners/{partner.id}/orders", json=line_items_order(), headers=test
    )
    live = client.post(
        f"/api/v1/partners/{partner.id}/orders",
        json=line_items_order(),
        headers={**partner.headers, "Idempotency-Key": "same-key"},
    )
    assert first.status_code == live.status_code == 201
    assert "Idempotent-Replayed" not in live.headers
    assert (
        first.get_json()["data"]["chargecars_order_id"]
        != live.get_json()["data"]["chargecars_order_id"]
    )


def test_a_live_order_is_404_to_a_test_key_and_the_other_way(app, client, fake_pdok):
    partner = _sandbox_partner()
    test = _test_key(partner)
    client.post(
        f"/api/v1/partners/{partner.id}/orders",
        json=line_items_order("LIVE-1"),
        headers=partner.headers,
    )
    client.post(
        f"/api/v1/partners/{partner.id}/orders", json=line_items_order("TEST-1"), headers=test
    )
    base = f"/api/v1/partners/{partner.id}/orders"
    assert client.get(f"{base}/LIVE-1/status", headers=test).status_code == 404
    assert client.get(f"{base}/TEST-1/status", headers=partner.headers).status_code == 404


def test_sandbox_moves_send_signed_test_callbacks(app, client, fake_pdok):
    receiver = FakeReceiver(new_webhook_secret()).start()
    try:
        partner = _sandbox_partner(receiver)
        test = _test_key(partner)
        made = client.post(
            f"/api/v1/partners/{partner.id}/orders", json=line_items_order(), headers=test
        )
        assert made.status_code == 201
        url = f"/api/v1/partners/{partner.id}/sandbox/orders/GRO-2026-000123/status"
        illegal = client.post(url, json={"status": "completed"}, headers=test)
        assert illegal.status_code == 409
        assert illegal.get_json()["error"]["code"] == "illegal_transition"
        unknown = client.post(url, json={"status": "teleported"}, headers=test)
        assert unknown.status_code == 422
        assert "status" in unknown.get_json()["error"]["fields"]
        # The partner's own word for a status is taken too ("CONFIRMED" is approved).
        words = {"approved": "CONFIRMED"}
        for status in STATUSES:
            moved = client.post(
                url,
                json={"status": words.get(status, status), "partner_note": f"note {status}"},
                headers=test,
            )
            assert moved.status_code == 200, moved.get_json()
            assert moved.get_json()["data"]["internal_status"] == status
        drain_until(app, lambda: len(receiver.events) >= 5, timeout=20)
        assert receiver.rejections == []  # both signatures verify
        assert [(e.event, e.payload["status"]) for e in receiver.events] == [
            ("order_created", "RECEIVED"),
            ("status_changed", "CONFIRMED"),
            ("status_changed", "PLANNED"),
            ("status_changed", "IN_PROGRESS"),
            ("status_changed", "DELIVERED"),
        ]
        for event in receiver.events:
            assert event.payload["test"] is True
            assert event.headers.get("X-Chargecars-Test") == "true"
        planned = receiver.events[2].payload
        assert set(planned["visit"]) == {"number", "purpose", "date", "window_start", "window_end"}
        assert receiver.events[-1].payload["status_details"]["reason"] == "note completed"
        deliveries = db.session.scalars(sa.select(OutboundDelivery)).all()
        assert deliveries and all(d.is_test for d in deliveries)
        # Nothing reached the inbox.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CommunicationThread)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CommunicationMessage)) == 0
    finally:
        receiver.stop()


def test_live_callbacks_have_no_test_marker(app, client, fake_pdok):
    receiver = FakeReceiver(new_webhook_secret()).start()
    try:
        partner = _sandbox_partner(receiver)
        made = client.post(
            f"/api/v1/partners/{partner.id}/orders",
            json=line_items_order(),
            headers=partner.headers,
        )
        assert made.status_code == 201
        drain_until(app, lambda: len(receiver.events) >= 1, timeout=20)
        event = receiver.events[0]
        assert "test" not in event.payload
        assert "X-Chargecars-Test" not in event.headers
    finally:
        receiver.stop()


def test_sandbox_endpoints_refuse_a_live_key(app, client, fake_pdok):
    partner = _sandbox_partner()
    client.post(
        f"/api/v1/partners/{partner.id}/orders", json=line_items_order(), headers=partner.headers
    )
    base = f"/api/v1/partners/{partner.id}/sandbox/orders/GRO-2026-000123"
    for path, body in (("/status", {"status": "approved"}), ("/timeline", {})):
        refused = client.post(base + path, json=body, headers=partner.headers)
        assert refused.status_code == 403
        assert refused.get_json()["error"]["code"] == "test_key_required"
    assert db.session.scalar(sa.select(Order)).status.value == "new"
    missing = client.post(base + "/status", json={"status": "approved"})
    assert missing.status_code == 401


def test_timeline_moves_the_order_to_completed_step_by_step(app, client, fake_pdok):
    receiver = FakeReceiver(new_webhook_secret()).start()
    try:
        partner = _sandbox_partner(receiver)
        test = _test_key(partner)
        client.post(f"/api/v1/partners/{partner.id}/orders", json=line_items_order(), headers=test)
        url = f"/api/v1/partners/{partner.id}/sandbox/orders/GRO-2026-000123/timeline"
        bad = client.post(url, json={"step_seconds": -1}, headers=test)
        assert bad.status_code == 422
        started = client.post(url, json={"step_seconds": 0.2}, headers=test)
        assert started.status_code == 202, started.get_json()
        steps = started.get_json()["data"]["steps"]
        assert [s["status"] for s in steps] == list(STATUSES)
        # Asked twice: each move still happens once.
        assert client.post(url, json={"step_seconds": 0.2}, headers=test).status_code == 202
        order = db.session.scalar(sa.select(Order))

        def completed():
            db.session.expire_all()
            return order.status.value == "completed" and len(receiver.events) >= 5

        drain_until(app, completed, timeout=30)
        moves = db.session.scalars(
            sa.select(OrderStatusTransition.to_status)
            .where(OrderStatusTransition.order_id == order.id)
            .order_by(OrderStatusTransition.created_at)
        ).all()
        assert moves == ["new", *STATUSES]
        assert [e.payload["status_details"]["to_status"] for e in receiver.events] == [
            "new",
            *STATUSES,
        ]
        past = client.post(url, json={}, headers=test)
        assert past.status_code == 409
    finally:
        receiver.stop()


def test_a_late_timeline_step_does_not_move_an_order_back(app, client, fake_pdok):
    partner = _sandbox_partner()
    test = _test_key(partner)
    client.post(f"/api/v1/partners/{partner.id}/orders", json=line_items_order(), headers=test)
    url = f"/api/v1/partners/{partner.id}/sandbox/orders/GRO-2026-000123/status"
    for status in ("approved", "scheduled", "in_progress"):
        assert client.post(url, json={"status": status}, headers=test).status_code == 200
    order = db.session.scalar(sa.select(Order))
    # The step approved → scheduled of a run asked earlier, taken up late. The
    # engine would allow in_progress → scheduled; the step expects approved.
    late = timeline.run_step(str(order.id), "approved", ["scheduled", "completed"], 0.1)
    assert late == "skipped"
    db.session.expire_all()
    assert order.status.value == "in_progress"
    assert len(order.transitions) == 4
    # The step that does apply moves it, and queues nothing after the last.
    assert timeline.run_step(str(order.id), "in_progress", ["completed"], 0.1) == "completed"
    db.session.expire_all()
    assert order.status.value == "completed"


def test_a_test_callback_that_gives_up_alerts_nobody(app, client, make_user, fake_pdok):
    make_user("admin")
    receiver = FakeReceiver(new_webhook_secret()).start()
    try:
        partner = _sandbox_partner(receiver)
        partner.integration.max_delivery_attempts = 1
        db.session.commit()
        receiver.behave_next(status=500)
        made = client.post(
            f"/api/v1/partners/{partner.id}/orders",
            json=line_items_order(),
            headers=_test_key(partner),
        )
        assert made.status_code == 201
        delivery = db.session.scalar(sa.select(OutboundDelivery))

        def given_up():
            db.session.expire_all()
            return delivery.state == OutboundState.FAILED

        drain_until(app, given_up, timeout=20)
        assert [e.answered for e in receiver.events] == [500]
        assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(SandboxSend.id))) == 0
    finally:
        receiver.stop()


def _weeks_without_holidays() -> tuple[date, date, date]:
    """A coming Thursday, the Saturday after it and the Monday after that, none of them
    a public holiday."""
    today = local_today()
    thursday = today + timedelta(days=7 + (3 - today.weekday()) % 7)
    while any(public_holiday(thursday + timedelta(days=d)) for d in (0, 2, 4)):
        thursday += timedelta(days=7)
    return thursday, thursday + timedelta(days=2), thursday + timedelta(days=4)


def test_timeline_plans_the_visit_on_the_preferred_working_day_and_part_of_day(
    app, client, fake_pdok
):
    """The sandbox plans as a planner would, not a week ahead in the
    morning whatever the order asks (a Saturday, against "3 December, afternoon")."""
    thursday, saturday, monday = _weeks_without_holidays()
    receiver = FakeReceiver(new_webhook_secret()).start()
    try:
        partner = _sandbox_partner(receiver)
        test = _test_key(partner)
        wishes = {
            "PREF-THU": {"preferred_date": thursday.isoformat(), "time_preference": "afternoon"},
            "PREF-SAT": {"preferred_date": saturday.isoformat(), "time_preference": "ochtend"},
        }
        for partner_order_id, preferences in wishes.items():
            body = line_items_order(partner_order_id, installation_preferences=preferences)
            made = client.post(f"/api/v1/partners/{partner.id}/orders", json=body, headers=test)
            assert made.status_code == 201, made.get_json()
            url = f"/api/v1/partners/{partner.id}/sandbox/orders/{partner_order_id}/timeline"
            started = client.post(url, json={"to": "scheduled", "step_seconds": 0.2}, headers=test)
            assert started.status_code == 202, started.get_json()

        def planned() -> dict[str, dict]:
            return {
                e.payload["partner_order_id"]: e.payload.get("visit")
                for e in receiver.events
                if e.payload["status_details"]["to_status"] == "scheduled"
            }

        drain_until(app, lambda: len(planned()) == 2, timeout=30)
        assert receiver.rejections == []
        visits = planned()
        # The preferred Thursday, in the afternoon.
        assert visits["PREF-THU"] == {
            "number": 1,
            "purpose": None,
            "date": thursday.isoformat(),
            "window_start": "12:00",
            "window_end": "17:00",
        }
        # A Saturday is no working day: the Monday after, in the morning asked for.
        assert visits["PREF-SAT"] == {
            "number": 1,
            "purpose": None,
            "date": monday.isoformat(),
            "window_start": "08:00",
            "window_end": "12:00",
        }
    finally:
        receiver.stop()
