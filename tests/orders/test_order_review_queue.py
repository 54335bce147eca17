"""The review queue: each review reason names what to check and is fixed in place.

From outside: a partner posts orders through its API (PDOK a fake that speaks
Locatieserver's wire format), an agent opens the review card and posts its
fixes as the page's forms do, and the order page, the desk, the partner's next
order and the callbacks show the outcome.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.platform.extensions import db
from app.platform.models import Contact, Order, OutboundDelivery, PartnerSkuMapping
from app.platform.models.enums import OrderStatus
from tests.support.helpers import csrf_token_from
from tests.support.partner_support import add_articles, line_items_order, make_partner

# Not in the fake BAG: the postcode's letters are mistyped (the BAG has 1012AB).
MISTYPED = {"street": "Hoofdstraat 123", "city": "Amsterdam", "postal_code": "1012 AC"}
NEW_SKU = "GRO-PULSAR-22"


@pytest.fixture
def partner(app, fake_pdok):
    partner = make_partner(webhook_url="https://partner.example/hooks")
    add_articles(partner)
    return partner


@pytest.fixture
def agent(client, auth, make_user):
    user = make_user("agent")
    user.name = "Anna de Agent"
    db.session.commit()
    auth.login(user.email)
    return user


def _post(client, partner, partner_order_id, *, address=None, sku="GRO-ALFEN-11", **customer):
    body = line_items_order(partner_order_id)
    if address:
        body["customer"]["address"] = address
    body["customer"].update(customer)
    body["line_items"] = [{"sku": sku, "quantity": 1}, {"sku": "GRO-INSTALL-1", "quantity": 1}]
    response = client.post(
        f"/api/v1/partners/{partner.id}/orders", json=body, headers=partner.headers
    )
    assert response.status_code == 201, response.get_json()
    db.session.expire_all()
    return db.session.scalar(sa.select(Order).where(Order.partner_order_id == partner_order_id))


def _card(client, order) -> str:
    response = client.get(f"/orders/{order.order_number}/review")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _fix(client, order, fix, reason=None, **fields):
    csrf = csrf_token_from(client.get(f"/orders/{order.order_number}").get_data(as_text=True))
    data = {"csrf_token": csrf, "fix": fix, **fields}
    if reason is not None:
        data["reason"] = reason
    return client.post(
        f"/orders/{order.order_number}/review", data=data, headers={"HX-Request": "true"}
    )


def _reason(order, start: str) -> str:
    db.session.refresh(order)
    return next(r for r in order.review_reasons if r.startswith(start))


def test_an_unconfirmed_address_and_an_unmapped_sku_are_fixed_in_place(
    client, partner, agent, fake_pdok
):
    order = _post(client, partner, "GRO-1", address=MISTYPED, sku=NEW_SKU)
    assert order.needs_review and order.flagged_for_review
    assert {r.split(":")[0] for r in order.review_reasons} == {
        "address not confirmed by PDOK",
        "unmapped product",
    }

    card = _card(client, order)
    # Each reason in the reader's words, with its fix beside it.
    assert "Address not confirmed by PDOK" in card and f"product {NEW_SKU}" in card
    assert "Use Hoofdstraat 123, 1012AB Amsterdam" in card
    pdok_id = re.search(r'name="pdok_id" value="([^"]+)"', card)[1]
    assert 'data-testid="article-choice"' in card and "Alfen Eve Single 11 kW" in card

    fixed = _fix(client, order, "address_suggestion", _reason(order, "address"), pdok_id=pdok_id)
    assert fixed.status_code == 200
    assert "Address confirmed: Hoofdstraat 123, 1012AB Amsterdam" in fixed.get_data(as_text=True)
    db.session.refresh(order)
    address = order.installation_address
    assert (address.postal_code, address.validation_state.value) == ("1012AB", "valid")
    assert address.latitude is not None and address.raw_input["postal_code"] == "1012AC"
    assert order.needs_review  # the article is still to map

    article = db.session.scalar(
        sa.select(PartnerSkuMapping.article_id).where(
            PartnerSkuMapping.partner_sku == "GRO-ALFEN-11"
        )
    )
    mapped = _fix(client, order, "article_mapped", _reason(order, "unmapped"), article=str(article))
    assert mapped.status_code == 200
    html = mapped.get_data(as_text=True)
    assert "Nothing left to check" in html and 'data-testid="review-approve"' in html
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert not order.needs_review and order.review_reasons == []
    # Still counted as flagged at intake (the partner's performance figures).
    assert order.flagged_for_review
    line = next(li for li in order.line_items if li.partner_sku == NEW_SKU)
    assert line.article_id == article and not line.needs_review and line.unit_price > 0
    assert order.total_amount == sum(li.unit_price * li.quantity for li in order.line_items)

    # The order left "to review" for "to approve", and its history says who did what.
    desk = client.get("/orders?tab=new").get_data(as_text=True)
    assert order.order_number in desk
    assert order.order_number not in client.get("/orders?tab=review").get_data(as_text=True)
    page = client.get(f"/orders/{order.order_number}").get_data(as_text=True)
    history = page.split('id="history"', 1)[1]
    assert history.count('data-testid="review-fix"') == 2 and "Anna de Agent" in history
    assert "Address confirmed by PDOK: Hoofdstraat 123, 1012AB Amsterdam" in history
    assert "also for the partner&#39;s next orders" in history

    # The partner's next order with that SKU needs no mapping.
    following = _post(client, partner, "GRO-2", sku=NEW_SKU)
    assert following.review_reasons == [] or all(
        not r.startswith("unmapped") for r in following.review_reasons
    )
    assert (
        next(li for li in following.line_items if li.partner_sku == NEW_SKU).article_id == article
    )


def test_mapping_a_sku_fixes_the_partners_other_waiting_orders(client, partner, agent, fake_pdok):
    first = _post(client, partner, "GRO-10", sku=NEW_SKU, address=None)
    second = _post(
        client,
        partner,
        "GRO-11",
        sku=NEW_SKU,
        address={"street": "Oudegracht 5a", "city": "Utrecht", "postal_code": "3511AB"},
        email="other@example.com",
        name="Other Person",
        phone="0687654321",
    )
    article = db.session.scalar(
        sa.select(PartnerSkuMapping.article_id).where(
            PartnerSkuMapping.partner_sku == "GRO-INSTALL-1"
        )
    )
    response = _fix(
        client, first, "article_mapped", _reason(first, "unmapped"), article=str(article)
    )
    assert "Also fixed on 1 other waiting order." in response.get_data(as_text=True)
    db.session.expire_all()
    second = db.session.get(Order, second.id)
    assert not any(r.startswith("unmapped") for r in second.review_reasons)
    page = client.get(f"/orders/{second.order_number}").get_data(as_text=True)
    assert "Anna de Agent" in page.split('id="history"', 1)[1]


def test_a_possible_duplicate_is_flagged_and_kept_or_cancelled(client, partner, agent, fake_pdok):
    first = _post(client, partner, "GRO-20")
    assert not any(r.startswith("possible duplicate") for r in first.review_reasons)
    # The same address and customer again under a new reference: the same job twice?
    again = _post(client, partner, "GRO-21")
    reason = _reason(again, "possible duplicate")
    assert reason == f"possible duplicate of {first.order_number}"
    card = _card(client, again)
    assert f"Possibly the same job as order {first.order_number}" in card and "GRO-20" in card
    # The check is ours: the other order may be another partner's at that address.
    polled = client.get(
        f"/api/v1/partners/{partner.id}/orders/GRO-21/status", headers=partner.headers
    ).get_json()["data"]
    assert polled["needs_review"] is False and first.order_number not in str(polled)

    kept = _fix(client, again, "duplicate_dismissed", reason)
    assert "Both orders kept." in kept.get_data(as_text=True)
    db.session.refresh(again)
    assert reason not in again.review_reasons and again.status == OrderStatus.NEW

    third = _post(client, partner, "GRO-22")
    # Flagged against the newest earlier order of the same job.
    reason = _reason(third, "possible duplicate")
    assert reason == f"possible duplicate of {again.order_number}"
    cancelled = _fix(client, third, "duplicate_cancelled", reason)
    assert cancelled.status_code == 200
    db.session.expire_all()
    third = db.session.get(Order, third.id)
    assert third.status == OrderStatus.CANCELLED
    assert third.transitions[-1].partner_note == "Duplicate of order GRO-21"
    # The partner hears of it once, through the status engine's callback.
    callbacks = db.session.scalars(
        sa.select(OutboundDelivery.payload).where(OutboundDelivery.order_id == third.id)
    ).all()
    assert sum(1 for p in callbacks if "CANCELLED" in str(p)) == 1
    other_page = client.get(f"/orders/{again.order_number}").get_data(as_text=True)
    assert f"{third.order_number} was cancelled as a duplicate of this order" in other_page


def test_a_customer_detail_that_differs_is_put_on_the_contact_or_kept(
    client, partner, agent, fake_pdok
):
    first = _post(client, partner, "GRO-30")
    contact = first.end_customer
    # The same customer (found by e-mail) with a new phone number.
    again = _post(client, partner, "GRO-31", phone="06-11112222")
    reason = _reason(again, "customer phone")
    card = _card(client, again)
    assert "+31611112222" in card and 'data-testid="put-on-contact"' in card
    response = _fix(client, again, "contact_updated", reason)
    assert "The customer&#39;s contact was updated." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Contact, contact.id).phone == "+31611112222"


def test_refusals_name_what_is_wrong_and_change_nothing(
    client, partner, agent, fake_pdok, make_user, auth
):
    order = _post(client, partner, "GRO-40", address=MISTYPED, sku=NEW_SKU)
    reason = _reason(order, "unmapped")
    bogus = _fix(client, order, "article_mapped", reason, article="not-an-id")
    assert bogus.status_code == 422 and "Article: choose one of the list." in bogus.get_data(
        as_text=True
    )
    wrong_kind = _fix(client, order, "duplicate_dismissed", reason)
    assert wrong_kind.status_code == 422
    gone = _fix(client, order, "checked", "unmapped product: SOMETHING-ELSE")
    assert gone.status_code == 422 and "no longer open" in gone.get_data(as_text=True)
    early = _fix(client, order, "approve")
    assert early.status_code == 422 and "before approving" in early.get_data(as_text=True)
    no_pick = _fix(client, order, "address_suggestion", _reason(order, "address"), pdok_id="")
    assert no_pick.status_code == 422 and "Address:" in no_pick.get_data(as_text=True)
    db.session.refresh(order)
    assert len(order.review_reasons) == 2 and order.status == OrderStatus.NEW

    # A technician and a partner's user never see or fix the queue.
    technician = make_user("technician")
    portal = make_user("partner", two_factor=True, partner_organization_id=partner.organization.id)
    for user in (technician, portal):
        auth.logout()
        auth.login(user.email)
        assert client.get(f"/orders/{order.order_number}/review").status_code == 403
        page = client.get("/m/" if user is technician else "/portal/")
        posted = client.post(
            f"/orders/{order.order_number}/review",
            data={"csrf_token": csrf_token_from(page.get_data(as_text=True)), "fix": "checked"},
        )
        assert posted.status_code == 403
    db.session.refresh(order)
    assert len(order.review_reasons) == 2


def test_clean_orders_are_approved_in_bulk_one_callback_each(client, partner, agent, fake_pdok):
    clean = [
        _post(
            client,
            partner,
            f"GRO-5{n}",
            address={"street": "Oudegracht 5a", "city": "Utrecht", "postal_code": "3511AB"}
            if n == 0
            else None,
            email=f"klant{n}@example.com",
            phone=f"06-2222333{n}",
            name=f"Klant {n}",
        )
        for n in range(2)
    ]
    flagged = _post(client, partner, "GRO-59", address=MISTYPED, sku=NEW_SKU, email="x@example.com")
    for order in clean:
        db.session.refresh(order)
        if order.needs_review:  # the second shares the fake BAG's default address: dismiss
            for reason in list(order.review_reasons):
                _fix(
                    client,
                    order,
                    "duplicate_dismissed" if "duplicate" in reason else "checked",
                    reason,
                )
    desk = client.get("/orders?tab=new").get_data(as_text=True)
    assert 'data-testid="desk-approve"' in desk and desk.count('data-testid="desk-pick"') >= 2
    csrf = csrf_token_from(desk)
    numbers = [o.order_number for o in clean] + [flagged.order_number]
    response = client.post("/orders/approve", data={"csrf_token": csrf, "order": numbers})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 orders approved." in page
    assert f"{flagged.order_number} not approved: it has review reasons to fix first" in page
    db.session.expire_all()
    for order in clean:
        order = db.session.get(Order, order.id)
        assert order.status == OrderStatus.APPROVED
        approvals = [t for t in order.transitions if t.to_status == "approved"]
        assert len(approvals) == 1
        callbacks = db.session.scalars(
            sa.select(OutboundDelivery.payload).where(OutboundDelivery.order_id == order.id)
        ).all()
        assert sum(1 for p in callbacks if "CONFIRMED" in str(p)) == 1
    assert db.session.get(Order, flagged.id).status == OrderStatus.NEW
