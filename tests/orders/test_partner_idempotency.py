"""A partner order sent again, and the Idempotency-Key header (Stripe's)."""

from __future__ import annotations

import concurrent.futures
from datetime import timedelta

import requests
import sqlalchemy as sa

from app.orders.partners.idempotency import delete_expired_keys
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Order, PartnerIdempotencyKey
from tests.support.partner_support import add_articles, line_items_order, make_partner


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _post(client, partner, body, key=None):
    headers = dict(partner.headers)
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/api/v1/partners/{partner.id}/orders", json=body, headers=headers)


def _partner():
    partner = make_partner()
    add_articles(partner)
    return partner


# --- the same partner_order_id with another body ------------------------------------


def test_another_body_for_a_known_order_is_409_naming_the_order_and_fields(client, fake_pdok):
    partner = _partner()
    first = _post(client, partner, line_items_order())
    assert first.status_code == 201
    number = first.get_json()["data"]["chargecars_order_id"]

    changed = line_items_order()
    changed["customer"] = {**changed["customer"], "email": "jan.nieuw@example.com"}
    changed["line_items"] = [{"sku": "GRO-ALFEN-11", "quantity": 2}]
    answer = _post(client, partner, changed)

    assert answer.status_code == 409
    body = answer.get_json()
    assert body["success"] is False
    assert body["error"]["code"] == "order_conflict"
    assert body["error"]["chargecars_order_id"] == number
    assert number in body["error"]["message"]
    assert set(body["error"]["fields"]) == {"customer.email", "line_items"}
    # Nothing was taken: still one order, as first sent.
    assert _count(Order) == 1
    order = db.session.scalar(sa.select(Order))
    assert order.customer_as_sent["email"] == "jan@example.com"
    assert [line.quantity for line in order.line_items] == [1, 1]


def test_the_same_order_in_other_notation_is_the_same_body(client, fake_pdok):
    partner = _partner()
    first = _post(client, partner, line_items_order())
    again = line_items_order()
    # Reordered keys, another phone and postal code notation, the house number
    # apart from the street, a default spelled out, a field we do not read.
    again["customer"] = {
        "address": {
            "postal_code": "1012ab",
            "street": "Hoofdstraat",
            "house_number": "123",
            "city": "Amsterdam",
        },
        "phone": "+31612345678",
        "email": "Jan@Example.com",
        "name": "Jan Janssen",
    }
    again["line_items"][1]["quantity"] = 1
    again["metadata"] = {"sent_by": "retry-queue"}
    answer = _post(client, partner, again)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["data"] == first.get_json()["data"]


def test_an_order_made_before_digests_were_kept_answers_as_before(client, fake_pdok):
    partner = _partner()
    first = _post(client, partner, line_items_order())
    db.session.execute(sa.update(Order).values(partner_payload_digest=None))
    db.session.commit()
    changed = line_items_order(purchase_order_number="PO-OTHER")
    answer = _post(client, partner, changed)
    assert answer.status_code == 200
    assert answer.get_json()["data"] == first.get_json()["data"]


# --- Idempotency-Key ----------------------------------------------------------------


def test_the_same_key_and_body_replay_the_first_answer_byte_for_byte(client, fake_pdok):
    partner = _partner()
    first = _post(client, partner, line_items_order(), key="key-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers

    replay = _post(client, partner, line_items_order(), key="key-1")
    # Without the key this would be 200; with it, the first answer itself.
    assert replay.status_code == 201
    assert replay.get_data() == first.get_data()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.headers["Content-Type"] == "application/json"
    assert _count(Order) == 1


def test_the_same_key_with_another_body_is_refused(client, fake_pdok):
    partner = _partner()
    assert _post(client, partner, line_items_order(), key="key-2").status_code == 201
    other = _post(client, partner, line_items_order("GRO-OTHER"), key="key-2")
    assert other.status_code == 422
    error = other.get_json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in error["fields"]
    assert _count(Order) == 1


def test_a_conflict_answer_is_replayed_too(client, fake_pdok):
    partner = _partner()
    _post(client, partner, line_items_order())
    changed = line_items_order(purchase_order_number="PO-CHANGED")
    conflict = _post(client, partner, changed, key="key-3")
    assert conflict.status_code == 409
    assert conflict.get_json()["error"]["fields"] == {
        "purchase_order_number": "differs from what was sent first"
    }
    replay = _post(client, partner, changed, key="key-3")
    assert (replay.status_code, replay.get_data()) == (409, conflict.get_data())
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_an_invalid_body_keeps_nothing_so_the_fixed_one_may_reuse_the_key(client, fake_pdok):
    partner = _partner()
    broken = line_items_order()
    broken["customer"] = {**broken["customer"], "email": "not-an-address"}
    refused = _post(client, partner, broken, key="key-4")
    assert refused.status_code == 422
    assert "customer.email" in refused.get_json()["error"]["fields"]
    assert _count(PartnerIdempotencyKey) == 0
    fixed = _post(client, partner, line_items_order(), key="key-4")
    assert fixed.status_code == 201


def test_keys_belong_to_one_partner(client, fake_pdok):
    groendus = _partner()
    essent = make_partner("Essent")
    a = _post(client, groendus, line_items_order(), key="shared-key")
    b = _post(client, essent, line_items_order(), key="shared-key")
    assert (a.status_code, b.status_code) == (201, 201)
    assert (
        a.get_json()["data"]["chargecars_order_id"] != b.get_json()["data"]["chargecars_order_id"]
    )
    assert _count(Order) == 2


def test_a_malformed_key_is_400(client, fake_pdok):
    partner = _partner()
    for key in ("x" * 256, "has space"):
        answer = _post(client, partner, line_items_order(), key=key)
        assert answer.status_code == 400
        assert answer.get_json()["error"]["code"] == "invalid_idempotency_key"
    assert _count(Order) == 0


def test_keys_are_kept_24_hours(app, client, fake_pdok):
    partner = _partner()
    assert _post(client, partner, line_items_order(), key="old-key").status_code == 201
    assert _post(client, partner, line_items_order(), key="fresh-key").status_code == 200
    db.session.execute(
        sa.update(PartnerIdempotencyKey)
        .where(PartnerIdempotencyKey.key == "old-key")
        .values(created_at=utcnow() - timedelta(hours=24, minutes=1))
    )
    db.session.commit()
    # Before the sweep runs, an expired key is already new again.
    reused = _post(client, partner, line_items_order("GRO-NEXT"), key="old-key")
    assert reused.status_code == 201

    db.session.execute(
        sa.update(PartnerIdempotencyKey).values(created_at=utcnow() - timedelta(hours=25))
    )
    db.session.execute(
        sa.update(PartnerIdempotencyKey)
        .where(PartnerIdempotencyKey.key == "fresh-key")
        .values(created_at=utcnow() - timedelta(hours=23))
    )
    db.session.commit()
    assert delete_expired_keys() == 1
    assert db.session.scalars(sa.select(PartnerIdempotencyKey.key)).all() == ["fresh-key"]
    jobs = [job.func_path for job in app.extensions["broker"].periodic_jobs]
    assert "app.orders.partners.idempotency.delete_expired_keys" in jobs


def test_simultaneous_requests_with_one_key_give_one_order_and_one_answer(
    app, live_server, fake_pdok
):
    partner = make_partner(rate_limit_per_minute=1000)
    add_articles(partner)
    url = f"{live_server.url}/api/v1/partners/{partner.id}/orders"
    headers = {**partner.headers, "Idempotency-Key": "race-key"}

    def post(_):
        return requests.post(url, json=line_items_order(), headers=headers, timeout=30)

    with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(post, range(10)))
    # Every one is the first answer (201), not "found" (200): they waited and replayed.
    assert [r.status_code for r in responses] == [201] * 10, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 9
    assert _count(Order) == 1
    assert _count(PartnerIdempotencyKey) == 1
