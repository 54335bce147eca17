"""The order SLA on /analytics, worked out by hand on one week of orders.

The range is Monday 3 to Sunday 9 March 2025 (CET, UTC+1: working hours
Mon–Fri 08:00–17:00 local are 07:00–16:00Z); "now" is Monday 10 March,
11:00 local. ``ORDER_WAIT_HOURS`` is 4. Each order carries its expected
effect in a comment.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timezone

import pytest

from app.analytics.figures import compute
from app.analytics.filters import AnalyticsFilter
from app.platform.extensions import db
from app.platform.models import Order, OrderStatusTransition, Organization
from app.platform.models.enums import OrderStatus, OrganizationType, Role

S = OrderStatus
NOW = datetime(2025, 3, 10, 10, 0, tzinfo=timezone.utc)  # Mon 11:00 local
WEEK = AnalyticsFilter(date(2025, 3, 3), date(2025, 3, 9))
HOUR = 3600
_numbers = itertools.count(1)


def at(text: str) -> datetime:
    """A UTC moment from ``"2025-03-03 08:00"``."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def order(came_in: str, *moves: tuple[str, OrderStatus], partner=None, **fields) -> Order:
    """An order that came in as ``new`` at ``came_in`` and moved as ``moves`` say (UTC)."""
    status, history = S.NEW, [(None, S.NEW, at(came_in))]
    for moment, to_status in moves:
        history.append((status, to_status, at(moment)))
        status = to_status
    record = Order(
        order_number=f"CC-2025-{next(_numbers):05d}",
        status=status,
        partner_organization_id=partner.id if partner else None,
        created_at=at(came_in),
        **fields,
    )
    db.session.add(record)
    db.session.flush()
    for from_status, to_status, moment in history:
        db.session.add(
            OrderStatusTransition(
                order_id=record.id,
                from_status=from_status.value if from_status else None,
                to_status=to_status.value,
                created_at=moment,
            )
        )
    return record


@pytest.fixture
def orders(app):
    app.config["ORDER_WAIT_HOURS"] = 4.0
    groendus = Organization(name="Groendus", organization_type=OrganizationType.PARTNER)
    vattenfall = Organization(name="Vattenfall", organization_type=OrganizationType.PARTNER)
    db.session.add_all([groendus, vattenfall])
    db.session.flush()
    # Groendus, Mon 09:00 local, approved at 10:00: 1 working hour, in time.
    order("2025-03-03 08:00", ("2025-03-03 09:00", S.APPROVED), partner=groendus)
    # Groendus, Fri 13:00 local, a quote on Fri 15:00 (still waiting), approved Mon 10:00:
    # Fri 13–17 and Mon 8–10 = 6 working hours (69 hours on the clock): late.
    order(
        "2025-03-07 12:00",
        ("2025-03-07 14:00", S.QUOTE_SENT),
        ("2025-03-10 09:00", S.APPROVED),
        partner=groendus,
    )
    # Vattenfall, Fri 14:00 local, to review and still waiting: Fri 14–17 and
    # Mon 8–11 = 6 working hours by now: late, and on the desk's review tab now.
    order("2025-03-07 13:00", partner=vattenfall, needs_review=True)
    # Our own intake, Sat 12:00 local: the weekend does not count, Mon 8–11 = 3 working
    # hours so far: waiting, in time.
    order("2025-03-08 11:00")
    # Our own intake, from the week before, still new: outside the range, but waiting
    # too long now (new tab).
    order("2025-02-27 09:00")
    # A partner's test order: in no figure, however long it waits.
    order("2025-03-03 08:00", partner=vattenfall, is_test=True)
    db.session.commit()
    return {"groendus": groendus, "vattenfall": vattenfall}


def by_label(table) -> dict:
    return {row["label"]: row for row in table.rows}


def test_orders_in_time_late_and_waiting_in_working_hours(orders):
    table = compute("order_sla", WEEK, NOW)
    rows = by_label(table)
    assert list(rows) == ["Groendus", "Vattenfall", "No partner (own intake)"]
    groendus = rows["Groendus"]
    assert (groendus["n"], groendus["in_time"], groendus["late"], groendus["running"]) == (
        2,
        1,
        1,
        0,
    )
    assert groendus["share"] == 50.0
    # Nearest rank over the two taken up: the middle is the 1-hour one, 90 % the 6-hour one.
    assert groendus["median"] == pytest.approx(1 * HOUR)
    assert groendus["p90"] == pytest.approx(6 * HOUR)
    assert groendus["waiting_now"] == 0

    vattenfall = rows["Vattenfall"]
    assert (vattenfall["n"], vattenfall["in_time"], vattenfall["late"]) == (1, 0, 1)
    assert vattenfall["share"] == 0.0
    assert vattenfall["median"] is None and vattenfall["p90"] is None  # none taken up yet
    # The test order (from Monday, so waiting far longer) is not counted.
    assert (vattenfall["waiting_now"], vattenfall["review_now"]) == (1, 1)

    own = rows["No partner (own intake)"]
    assert (own["n"], own["in_time"], own["late"], own["running"]) == (1, 0, 0, 1)
    assert own["share"] is None
    assert (own["waiting_now"], own["new_now"]) == (1, 1)  # the order of the week before

    total = table.total
    assert (total["n"], total["in_time"], total["late"], total["running"]) == (4, 1, 2, 1)
    assert total["share"] == pytest.approx(100 / 3)
    assert total["median"] == pytest.approx(1 * HOUR)
    assert total["p90"] == pytest.approx(6 * HOUR)
    assert (total["waiting_now"], total["review_now"], total["new_now"]) == (2, 1, 1)
    assert "4 working hours" in table.note


def test_the_limit_is_the_configured_one(app, orders):
    # At 7 working hours the 6-hour waits are in time.
    app.config["ORDER_WAIT_HOURS"] = 7.0
    table = compute("order_sla", WEEK, NOW)
    assert by_label(table)["Groendus"]["in_time"] == 2
    assert (table.total["in_time"], table.total["late"], table.total["running"]) == (2, 0, 2)
    assert table.total["waiting_now"] == 1  # the order of the week before, 7 days on
    assert "7 working hours" in table.note


def test_a_range_without_orders(orders):
    empty = AnalyticsFilter(date(2025, 1, 6), date(2025, 1, 12))
    table = compute("order_sla", empty, NOW)
    # Only the orders waiting too long now, whenever they came in.
    assert {row["label"]: row["n"] for row in table.rows} == {
        "Vattenfall": 0,
        "No partner (own intake)": 0,
    }
    assert table.total["waiting_now"] == 2 and table.total["share"] is None


def test_the_page_shows_the_order_sla_in_dutch(client, auth, make_user, orders):
    # The page's now is today's: the orders still waiting from March 2025 all wait too long.
    auth.login(make_user(Role.MANAGER.value, language="nl").email)
    page = client.get("/analytics", query_string={"from": "2025-03-03", "to": "2025-03-09"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="figure-order_sla"' in html
    assert ">Order-SLA<" in html
    for heading in ("Op tijd", "Te laat", "Mediane wachttijd (werkuren)", "Wacht nu te lang"):
        assert heading in html, heading
    assert "Geen partner (eigen intake)" in html
    # Groendus: 50 % in time, median 1,0 and 90 % 6,0 working hours.
    assert "50,0 %" in html and ">1,0<" in html and ">6,0<" in html
    assert "Orders op tijd" in html  # the headline
    assert "3 orders wachten nu langer dan 4 werkuren:" in html
    assert 'href="/orders?tab=review"' in html and 'href="/orders?tab=new"' in html
    vattenfall = orders["vattenfall"].id
    assert f'href="/orders?tab=review&amp;partner={vattenfall}"' in html
    csv = client.get(
        "/analytics.csv",
        query_string={"from": "2025-03-03", "to": "2025-03-09", "figure": "order_sla"},
    ).get_data(as_text=True)
    assert "Groendus;2;1;1;0;50,0;1,0;6,0;0" in csv
