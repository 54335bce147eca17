"""The order desk, ``/orders``: every live order by stage, found however typed."""

from __future__ import annotations

import itertools
import re
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from app.orders.core.desk import local_today
from app.orders.core.stages import STAGES, stage_of, week_end
from app.orders.planning.services import PlanRequest, save_plan
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import Address, LineItem, Order, Visit, VisitTechnician
from app.platform.models.enums import OrderSource, OrderStatus
from tests.support import factories
from tests.support.partner_support import make_partner
from tests.support.planning_support import approved_order, working_day

DESK = ("agent", "team_lead", "manager", "admin")
_numbers = itertools.count(1)


def _order(status=OrderStatus.NEW, *, days_ago=1, customer=None, address=None, **fields):
    order = Order(
        order_number=fields.pop("order_number", f"CC-2026-{next(_numbers):05d}"),
        status=status,
        end_customer_contact_id=customer.id if customer else None,
        installation_address_id=address.id if address else None,
        created_at=utcnow() - timedelta(days=days_ago),
        installation_preferences=fields.pop("installation_preferences", {"preferred_date": "x"}),
        **fields,
    )
    db.session.add(order)
    db.session.flush()
    return order


def _address(postcode="3511AB", number="12", city="Utrecht"):
    address = Address(postal_code=postcode, house_number=number, city=city)
    db.session.add(address)
    db.session.flush()
    return address


def _plan(order, day, technician=None):
    order.scheduled_date = day
    visit = Visit(order_id=order.id, scheduled_date=day)
    db.session.add(visit)
    db.session.flush()
    if technician is not None:
        order.assigned_technician_id = technician.id
        db.session.add(
            VisitTechnician(visit_id=visit.id, technician_id=technician.id, is_lead=True)
        )
        db.session.flush()


def _technician(make_user):
    user = make_user("technician")
    user.name = "Tess Monteur"
    return user


def _listed(response) -> list[str]:
    return re.findall(r'data-order="([^"]+)"', response.get_data(as_text=True))


def _count(response, tab) -> int:
    match = re.search(rf'data-testid="count-{tab}">(\d+)<', response.get_data(as_text=True))
    return int(match[1])


@pytest.fixture
def agent(auth, make_user):
    user = make_user("agent", language="nl")
    auth.login(user.email)
    return user


@pytest.fixture
def every_stage(app, make_user):
    """One order per stage, a test order beside each, and the stage each belongs to."""
    technician = _technician(make_user)
    today = local_today()
    expected = {
        "review": _order(needs_review=True, review_reasons=["unmapped product: X-1"]),
        "new": _order(status=OrderStatus.QUOTE_SENT),
        "to_plan": _order(status=OrderStatus.APPROVED),
        "planned_week": _order(status=OrderStatus.SCHEDULED),
        "planned_later": _order(status=OrderStatus.SCHEDULED),
        "in_progress": _order(status=OrderStatus.IN_PROGRESS),
        "completed": _order(status=OrderStatus.COMPLETED, completed_at=utcnow()),
        "closed": _order(status=OrderStatus.ON_HOLD),
    }
    _plan(expected["planned_week"], week_end(today), technician)
    _plan(expected["planned_later"], week_end(today) + timedelta(days=3))
    cancelled = _order(status=OrderStatus.CANCELLED)
    for status in OrderStatus:
        _order(status=status, is_test=True, needs_review=True)
    db.session.commit()
    return {name: [order.order_number] for name, order in expected.items()} | {
        "closed": [expected["closed"].order_number, cancelled.order_number]
    }


def test_each_tab_lists_its_orders_with_its_count(client, agent, every_stage):
    for stage in STAGES:
        response = client.get(f"/orders?tab={stage.name}")
        assert response.status_code == 200
        assert sorted(_listed(response)) == sorted(every_stage[stage.name]), stage.name
        for other in STAGES:
            assert _count(response, other.name) == len(every_stage[other.name])


def test_the_first_tab_is_to_review_and_test_orders_never_show(client, agent, every_stage):
    response = client.get("/orders")
    assert _listed(response) == every_stage["review"]
    listed = {n for s in STAGES for n in _listed(client.get(f"/orders?tab={s.name}"))}
    assert listed == {n for numbers in every_stage.values() for n in numbers}


@pytest.mark.parametrize("role", DESK)
def test_the_desk_roles_have_it_in_their_menu(client, auth, make_user, role):
    auth.login(make_user(role).email)
    page = client.get("/inbox").get_data(as_text=True)
    assert 'href="/orders"' in page
    assert client.get("/orders").status_code == 200


@pytest.mark.parametrize("role", ("technician", "partner", None))
def test_others_are_refused(client, auth, make_user, role):
    if role == "partner":
        partner = make_partner("Desk Partner")
        user = make_user(
            "partner", two_factor=True, partner_organization_id=partner.organization.id
        )
        auth.login(user.email)
    elif role:
        auth.login(make_user(role).email)
    response = client.get("/orders")
    assert response.status_code in (302, 401, 403, 404)
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]


def test_the_rows_say_who_where_what_blocks_and_the_visit(client, agent, make_user):
    partner = make_partner("Groendus")
    technician = _technician(make_user)
    customer = factories.contact(display_name="Jan de Vries")
    waiting = _order(
        needs_review=True,
        review_reasons=["address not confirmed by PDOK: niet gevonden"],
        customer=customer,
        address=_address(city="Utrecht"),
        partner_organization_id=partner.organization.id,
        installation_preferences={},
        days_ago=3,
    )
    db.session.add(LineItem(order_id=waiting.id, partner_sku="GRD-WB-11", description="Wallbox"))
    planned = _order(status=OrderStatus.SCHEDULED, customer=customer)
    _plan(planned, local_today(), technician)
    visit = db.session.scalar(sa.select(Visit).where(Visit.order_id == planned.id))
    visit.window_start, visit.window_end = time(8), time(12)
    db.session.commit()

    page = client.get("/orders?tab=review").get_data(as_text=True)
    assert f'href="/orders/{waiting.order_number}"' in page
    for text in ("Groendus", "Jan de Vries", "Utrecht", "3 dagen", "niet gevonden", "GRD-WB-11"):
        assert text in page, text
    assert "Adres niet bevestigd door PDOK" in page
    assert "Geen voorkeursdag of dagdeel" in page
    planned_page = client.get("/orders?tab=planned_week").get_data(as_text=True)
    assert "08:00-12:00" in planned_page and "Tess Monteur" in planned_page


def test_each_filter_narrows_the_list(client, agent, make_user):
    groendus, other = make_partner("Groendus"), make_partner("Andere")
    technician = make_user("technician")
    by_partner = _order(partner_organization_id=groendus.organization.id)
    _order(partner_organization_id=other.organization.id)
    by_intake = _order(source=OrderSource.MAKE)
    in_area = _order(address=_address(postcode="3511AB"))
    _order(address=_address(postcode="1012AB"))
    visited = _order(status=OrderStatus.SCHEDULED)
    _plan(visited, local_today(), technician)
    old = _order(days_ago=40)
    db.session.commit()
    # The desk's dates are Amsterdam's: late in the evening UTC is already tomorrow there.
    day = local_today(utcnow() - timedelta(days=40))

    def listed(args):
        response = client.get("/orders", query_string={"tab": "new", **args})
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return set(_listed(response))

    assert listed({"partner": groendus.organization.id}) == {by_partner.order_number}
    assert listed({"intake": "make"}) == {by_intake.order_number}
    assert listed({"area": "351"}) == {in_area.order_number}
    assert listed({"area": "3511"}) == {in_area.order_number}
    assert listed({"tab": "planned_week", "technician": technician.id}) == {visited.order_number}
    assert listed({"created_to": day.isoformat()}) == {old.order_number}
    between = {"created_from": day.isoformat(), "created_to": day.isoformat()}
    assert listed(between) == {old.order_number}


@pytest.mark.parametrize(
    "args, field",
    [
        ({"tab": "everything"}, "Tabblad"),
        ({"partner": "not-a-uuid"}, "Partner"),
        ({"partner": "00000000-0000-0000-0000-000000000007"}, "Partner"),
        ({"intake": "fax"}, "Binnenkomst"),
        ({"area": "35a"}, "Postcodegebied"),
        ({"area": "35111"}, "Postcodegebied"),
        ({"technician": "7"}, "Monteur"),
        ({"created_from": "2026-13-01"}, "Aangemaakt vanaf"),
        ({"created_to": "9999-01-01"}, "Aangemaakt tot en met"),
        ({"created_from": "2026-11-20", "created_to": "2026-11-01"}, "Aangemaakt tot en met"),
        ({"cursor": "bm9wZQ"}, "Pagina"),
        ({"q": "x" * 201}, "Zoeken"),
    ],
)
def test_a_bad_filter_is_refused_naming_its_field(client, agent, args, field):
    response = client.get("/orders", query_string=args)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(rf'data-testid="desk-error">{re.escape(field)}: ', page), page[-2000:]


def test_keyset_paging_gives_every_order_once(app, client, agent, monkeypatch):
    monkeypatch.setattr("app.orders.core.desk.PAGE_SIZE", 7)
    moment = utcnow() - timedelta(days=2)
    made = []
    for n in range(30):
        # Ten share each moment: the id breaks the tie.
        order = _order(days_ago=0)
        order.created_at = moment + timedelta(hours=n // 10)
        made.append(order)
    db.session.commit()
    seen: list[str] = []
    url = "/orders?tab=new"
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        seen.extend(_listed(response))
        more = re.search(r'href="([^"]+)" data-testid="desk-more"', response.get_data(as_text=True))
        url = more[1].replace("&amp;", "&") if more else None
        pages += 1
    assert pages == 5
    assert sorted(seen) == sorted(o.order_number for o in made)
    assert len(seen) == len(set(seen))
    # Oldest first where work waits.
    first_hour = {o.order_number for o in made[:10]}
    assert set(seen[:10]) == first_hour


@pytest.fixture
def findable(app):
    partner = make_partner("Groendus")
    customer = factories.contact(
        display_name="Marieke Jansen", email="marieke@example.nl", phone="+31612345678"
    )
    order = _order(
        customer=customer,
        address=_address(postcode="3511AB", number="12"),
        partner_order_id="GRD-778812",
        partner_organization_id=partner.organization.id,
        order_number="CC-2026-04321",
    )
    _order(
        customer=factories.contact(display_name="Iemand Anders"), address=_address("3511AB", "14")
    )
    _order(
        partner_order_id="GRD-778812",
        is_test=True,
        customer=customer,
        address=_address("3511AB", "12"),
        order_number="CC-2026-09999",
    )
    db.session.commit()
    return order.order_number


@pytest.mark.parametrize(
    "typed",
    [
        "CC-2026-04321",
        "cc-2026-04321",
        "2026-04321",
        "GRD-778812",
        "grd-778812",
        "Marieke Jansen",
        "jansen",
        "MARIEKE@example.nl",
        "06-12345678",
        "+31 6 1234 5678",
        "06 12 34 56 78",
        "0031612345678",
        "3511AB 12",
        "3511 ab 12",
    ],
)
def test_search_finds_the_order_however_typed(client, agent, findable, typed):
    response = client.get("/orders", query_string={"q": typed})
    assert response.status_code == 200
    assert _listed(response) == [findable]


def test_inbox_search_of_an_order_number_goes_to_the_order(client, agent, findable):
    response = client.get("/inbox", query_string={"q": "cc-2026-04321"})
    assert response.status_code in (302, 303)
    assert response.headers["Location"].endswith(f"/orders/{findable}")
    # A test order's number is not the desk's: no redirect to it.
    assert client.get("/inbox", query_string={"q": "CC-2026-09999"}).status_code == 200


def test_inbox_search_says_how_many_orders_match(client, agent, findable):
    page = client.get("/inbox", query_string={"q": "+31 6 1234 5678"}).get_data(as_text=True)
    match = re.search(r'data-testid="inbox-orders-match"[^>]*>([^<]+)<', page)
    assert match and match[1].strip() == "1 order komt overeen"
    assert 'href="/orders?q=%2B31+6+1234+5678"' in page


def test_review_reasons_as_the_demo_wrote_them_read_in_dutch(client, agent):
    order = _order(
        needs_review=True,
        review_reasons=["address not confirmed by PDOK", "unmapped SKU EVB-22"],
    )
    db.session.commit()
    blocks = re.search(
        rf'data-order="{order.order_number}".*?desk-blocks">(.*?)</ul>',
        client.get("/orders").get_data(as_text=True),
        re.S,
    )[1]
    assert "Adres niet bevestigd door PDOK" in blocks
    assert "Er is geen artikel gekoppeld aan product EVB-22" in blocks
    assert "address not" not in blocks and "unmapped" not in blocks


def test_a_tab_count_stops_at_its_cap_and_says_so(client, agent, monkeypatch):
    # A count stops after COUNT_CAP + 1 index entries (999+ at a million orders).
    monkeypatch.setattr("app.orders.core.stages.COUNT_CAP", 2)
    for _ in range(3):
        _order(needs_review=True)
    _order(status=OrderStatus.APPROVED)
    db.session.commit()
    page = client.get("/orders").get_data(as_text=True)
    assert 'data-testid="count-review">2+<' in page
    assert 'data-testid="count-to_plan">1<' in page
    assert len(_listed(client.get("/orders"))) == 3


def test_a_postcode_area_is_every_postcode_it_starts_and_no_other(client, agent):
    inside = [_order(address=_address(postcode=code)) for code in ("3500AA", "3599ZZ")]
    for code in ("3600AA", "3499ZZ", "1035AB"):
        _order(address=_address(postcode=code))
    last = _order(address=_address(postcode="9999ZZ"))
    db.session.commit()

    def listed(area):
        response = client.get("/orders", query_string={"tab": "new", "area": area})
        return set(_listed(response))

    assert listed("35") == {order.order_number for order in inside}
    assert listed("99") == listed("9999") == {last.order_number}
    assert listed("3599") == {inside[1].order_number}


def _desk(client, **args) -> set[str]:
    response = client.get("/orders", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return set(_listed(response))


def test_the_technician_filter_follows_the_crew_as_planning_leaves_it(client, agent, make_user):
    # The lead is read from the order, the helpers from the crew: planning keeps both.
    lead, helper, other = (make_user("technician") for _ in range(3))
    order = approved_order(brand=None)
    day = working_day()

    def plan(crew, version):
        request = PlanRequest(
            day=day,
            window_start=time(9),
            window_end=time(12),
            technician_ids=tuple(t.id for t in crew),
            duration_minutes=120,
            materials=None,
            technician_notes=None,
            seen_version=version,
            override=True,
        )
        visit = save_plan(order, request, agent, local_today())
        db.session.commit()
        return visit.version

    version = plan((lead, helper), 0)
    tab = stage_of(order, local_today())
    found = {order.order_number}
    assert _desk(client, tab=tab, technician=lead.id) == found
    assert _desk(client, tab=tab, technician=helper.id) == found
    assert _desk(client, tab=tab, technician=other.id) == set()

    # The helper leads now, the other helps; the first lead is off the visit.
    plan((helper, other), version)
    assert _desk(client, tab=tab, technician=helper.id) == found
    assert _desk(client, tab=tab, technician=other.id) == found
    assert _desk(client, tab=tab, technician=lead.id) == set()


def test_an_orders_postcode_follows_its_installation_address(client, agent):
    # The area filter reads the order's copy of the postcode: every change reaches it.
    address = _address(postcode="3511AB")
    order = _order(address=address)
    db.session.commit()
    assert _desk(client, tab="new", area="3511") == {order.order_number}

    address.postal_code = "9711AA"  # corrected, e.g. as PDOK spells it
    db.session.commit()
    assert _desk(client, tab="new", area="35") == set()
    assert _desk(client, tab="new", area="97") == {order.order_number}

    order.installation_address_id = _address(postcode="1012AB").id
    db.session.commit()
    assert _desk(client, tab="new", area="97") == set()
    assert _desk(client, tab="new", area="10") == {order.order_number}

    order.installation_address_id = None
    db.session.commit()
    assert _desk(client, tab="new", area="10") == set()
    assert db.session.scalar(sa.select(Order.installation_postcode)) is None


def test_a_period_on_the_completed_tab_keeps_its_order_and_pages(client, agent, monkeypatch):
    # A short period is sorted rather than walked; the order and the paging are the same.
    monkeypatch.setattr("app.orders.core.desk.PAGE_SIZE", 2)
    now = utcnow()
    made = []
    for n in range(5):
        order = _order(status=OrderStatus.COMPLETED, days_ago=20 - n)
        order.completed_at = now - timedelta(days=5 - (n * 7) % 5)  # not in creation order
        made.append(order)
    _order(status=OrderStatus.COMPLETED, days_ago=90, completed_at=now)  # before the period
    db.session.commit()
    first_day = (now - timedelta(days=30)).date().isoformat()
    seen: list[str] = []
    url = f"/orders?tab=completed&created_from={first_day}"
    while url:
        response = client.get(url)
        seen.extend(_listed(response))
        more = re.search(r'href="([^"]+)" data-testid="desk-more"', response.get_data(as_text=True))
        url = more[1].replace("&amp;", "&") if more else None
    by_completion = sorted(made, key=lambda o: (o.completed_at, o.id))
    assert seen == [o.order_number for o in by_completion]
