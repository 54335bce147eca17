"""The order desk's search by the customer's name: the start of any word of it.

A name many customers share is searched another way than a rare one (see
``app.orders.core.search.FoundOrders``); both must list and count the same orders.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.conversations.gdpr.erasure import erase_contact
from app.orders.core import search as order_search
from app.orders.core.desk import DeskQuery, desk_page
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import ContactNameWord, Order
from app.platform.models.enums import OrderStatus
from tests.support import factories

_numbers = itertools.count(1)
S = OrderStatus


def _order(customer, status=S.NEW, *, days_ago=1, **fields) -> Order:
    order = Order(
        order_number=f"CC-2026-{next(_numbers):05d}",
        status=status,
        end_customer_contact_id=customer.id,
        created_at=utcnow() - timedelta(days=days_ago),
        installation_preferences={},
        **fields,
    )
    db.session.add(order)
    db.session.flush()
    return order


def _listed(client, typed: str, **args) -> list[str]:
    page = client.get("/orders", query_string={"q": typed, **args}).get_data(as_text=True)
    return re.findall(r'data-order="([^"]+)"', page)


@pytest.fixture
def agent(auth, make_user):
    auth.login(make_user("agent").email)


@pytest.fixture
def customers(app):
    names = ["Anna Bos", "Piet van den Bos", "Kees Bosman", "Jan Verbosch", "Maud de Vries"]
    made = {name: factories.contact(display_name=name) for name in names}
    orders = {
        name: _order(contact, days_ago=i + 1) for i, (name, contact) in enumerate(made.items())
    }
    db.session.commit()
    return made, {name: order.order_number for name, order in orders.items()}


def test_a_typed_word_finds_names_with_a_word_starting_so(client, agent, customers):
    _made, number = customers
    # Newest first: Anna's order came in a day ago, Kees's three.
    assert _listed(client, "Bos") == [
        number["Anna Bos"],
        number["Piet van den Bos"],
        number["Kees Bosman"],
    ]
    assert _listed(client, "van den bos") == [number["Piet van den Bos"]]
    assert _listed(client, "Bos, Anna") == [number["Anna Bos"]]
    assert _listed(client, "MAUD") == [number["Maud de Vries"]]
    # Not inside a word: "verbosch" is no name anyone looks for by "bos".
    assert number["Jan Verbosch"] not in _listed(client, "bos")
    assert _listed(client, "Bosmans") == []


def test_a_renamed_customer_is_found_by_the_new_name_only(client, agent, customers):
    made, number = customers
    made["Anna Bos"].display_name = "Anna Smit"
    db.session.commit()
    assert _listed(client, "smit") == [number["Anna Bos"]]
    assert number["Anna Bos"] not in _listed(client, "bos")


def test_an_erased_customer_is_not_found_by_her_former_name(app, client, agent, customers):
    made, number = customers
    anna = made["Anna Bos"]
    erase_contact(anna.id, actor_id=None)
    db.session.commit()
    assert number["Anna Bos"] not in _listed(client, "anna")
    assert _listed(client, "anna bos") == []
    # Nothing of her name is kept for the search, not even the placeholder.
    kept = db.session.scalars(
        sa.select(ContactNameWord.word).where(ContactNameWord.contact_id == anna.id)
    ).all()
    assert kept == []


@pytest.fixture
def many_named_bos(app):
    """Orders of "Bos" customers in every kind of tab, and others around them."""
    today = date.today()
    stages = [
        (S.NEW, {"needs_review": True}),
        (S.NEW, {}),
        (S.QUOTE_SENT, {}),
        (S.APPROVED, {}),
        (S.SCHEDULED, {"scheduled_date": today}),
        (S.SCHEDULED, {"scheduled_date": today + timedelta(days=30)}),
        (S.IN_PROGRESS, {"scheduled_date": today}),
        (S.COMPLETED, {"completed_at": utcnow() - timedelta(days=3)}),
        (S.COMPLETED, {"completed_at": utcnow() - timedelta(days=2)}),
        (S.CANCELLED, {}),
        (S.ON_HOLD, {}),
    ]
    for i, (status, fields) in enumerate(stages * 2):
        named = factories.contact(display_name=f"Klant{i} {'Bos' if i % 3 else 'Jansen'}")
        _order(named, status, days_ago=i + 1, **fields)
    returning = factories.contact(display_name="Bram Bosman")
    _order(returning, S.NEW, days_ago=40)
    _order(returning, S.COMPLETED, days_ago=41, completed_at=utcnow() - timedelta(days=1))
    # A test order of a Bos is on no tab.
    _order(returning, S.NEW, days_ago=2, is_test=True)
    db.session.commit()


def _every_page(query: DeskQuery, limit: int) -> tuple[list[str], dict[str, int]]:
    first = desk_page(query, limit=limit)
    listed, cursor = [o.order_number for o in first.orders], first.next_cursor
    while cursor:
        page = desk_page(query, cursor=cursor, limit=limit)
        listed += [o.order_number for o in page.orders]
        cursor = page.next_cursor
    return listed, first.counts


# How "bos" (15 customers here) is searched, by the limits of each way.
WAYS = {
    "gathered by a query": {"FETCHED": 2},
    "hashed": {"FETCHED": 2, "BROAD_NAME": 3},
    "looked up per order": {"FETCHED": 2, "BROAD_NAME": 3, "VERY_BROAD_NAME": 5},
}


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize(
    "tab", ["all", "new", "planned_week", "planned_later", "completed", "closed"]
)
def test_a_name_many_customers_share_lists_and_counts_as_a_rare_one(
    app, many_named_bos, monkeypatch, tab, way
):
    fetched = _every_page(DeskQuery(stage=tab, q="bos"), limit=2)
    for name, value in WAYS[way].items():
        monkeypatch.setattr(order_search, name, value)
    assert order_search.find_orders("bos").few == (way == "gathered by a query")
    assert _every_page(DeskQuery(stage=tab, q="bos"), limit=2) == fetched
    assert fetched[0], "the tab holds orders of a Bos"
    assert sum(fetched[1].values()) == 16  # 14 Bos customers' orders, and Bram Bosman's two


def test_a_broad_name_search_still_finds_by_the_partners_id(app, many_named_bos, monkeypatch):
    someone = factories.contact(display_name="Iemand Anders")
    order = _order(someone, partner_order_id="BOS")
    db.session.commit()
    monkeypatch.setattr(order_search, "FETCHED", 2)
    monkeypatch.setattr(order_search, "BROAD_NAME", 3)
    page = desk_page(DeskQuery(stage="all", q="bos"))
    assert order.order_number in [o.order_number for o in page.orders]


def test_a_name_many_customers_share_counts_each_tab_to_a_lower_cap(
    app, client, agent, many_named_bos, monkeypatch
):
    from app.orders.core import desk

    monkeypatch.setattr(order_search, "FETCHED", 2)
    monkeypatch.setattr(order_search, "BROAD_NAME", 3)
    monkeypatch.setattr(desk, "BROAD_SEARCH_COUNT_CAP", 2)
    page = client.get("/orders", query_string={"q": "bos"}).get_data(as_text=True)
    counts = dict(re.findall(r'data-testid="count-(\w+)">([^<]+)<', page))
    # Four completed and four new or quoted (Bram Bosman's among them), two planned later.
    assert counts["completed"] == counts["new"] == "2+"
    assert counts["planned_later"] == "2"
    assert counts["in_progress"] == "1"
    assert counts["all"] == "2+"
    # A rare name is counted to the usual cap.
    monkeypatch.setattr(order_search, "BROAD_NAME", 5000)
    page = client.get("/orders", query_string={"q": "bos"}).get_data(as_text=True)
    assert dict(re.findall(r'data-testid="count-(\w+)">([^<]+)<', page))["all"] == "16"
