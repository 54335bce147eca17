"""Technicians with a base, orders at a place and visits planned, for the slot tests."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

from app.orders.mobile.services import local_today
from app.orders.planning.hours import public_holiday
from app.orders.planning.services import PlanRequest, save_plan
from app.platform.extensions import db
from app.platform.models import Article, LineItem, Order, TechnicianAbsence, TechnicianBase
from app.platform.models.enums import ArticleType
from app.platform.transactions import commit
from tests.support.planning_support import approved_order

UTRECHT = (Decimal("52.090700"), Decimal("5.121400"))
AMERSFOORT = (Decimal("52.156000"), Decimal("5.389000"))
ZWOLLE = (Decimal("52.512000"), Decimal("6.094000"))
# A customer in Utrecht, a kilometre from the Utrecht technicians' base.
CUSTOMER = (Decimal("52.100000"), Decimal("5.110000"))


def quiet_week() -> tuple[date, list[date]]:
    """The Sunday before a week at least a fortnight ahead whose five weekdays are no
    public holiday, and those five days: ``best_slots(order, sunday, 5)`` looks there."""
    monday = local_today() + timedelta(days=14)
    monday += timedelta(days=(7 - monday.weekday()) % 7)
    while any(public_holiday(monday + timedelta(days=n)) for n in range(5)):
        monday += timedelta(days=7)
    return monday - timedelta(days=1), [monday + timedelta(days=n) for n in range(5)]


def technician_at(make_user, name: str, place, skills=("alfen",)):
    """A technician called ``name`` whose days start and end at ``place``."""
    user = make_user("technician", skills=list(skills), language="nl")
    user.name = name
    db.session.add(
        TechnicianBase(
            user_id=user.id,
            start_label=f"{name}, thuis",
            start_postal_code="3511AB",
            start_house_number="1",
            start_latitude=place[0],
            start_longitude=place[1],
        )
    )
    db.session.commit()
    return user


def order_at(number: str, place=CUSTOMER, brand="Alfen", preferences=None, crew_size=1):
    """An approved order at ``place`` (None: not on the map) needing ``brand``, any time
    of day unless ``preferences`` say otherwise."""
    wishes = {"time_window": None, **(preferences or {})}
    order = approved_order(number, brand=brand, preferences=wishes)
    address = order.installation_address
    address.latitude, address.longitude = place if place else (None, None)
    if crew_size > 1:
        article = Article(
            sku=f"CREW-{number}",
            name="Laadplein, twee monteurs",
            article_type=ArticleType.INSTALLATION,
            crew_size=crew_size,
        )
        db.session.add(article)
        db.session.flush()
        db.session.add(LineItem(order_id=order.id, article_id=article.id, description=article.name))
    db.session.commit()
    return order


def days_off(technician, first: date, last: date, reason="Vakantie") -> None:
    db.session.add(
        TechnicianAbsence(user_id=technician.id, starts_on=first, ends_on=last, reason=reason)
    )
    db.session.commit()


def plan(order: Order, technicians, day: date, start: time, end: time, planner) -> None:
    """Plan ``order`` as the plan dialog would (through save_plan), and commit."""
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    save_plan(
        order,
        PlanRequest(
            day=day,
            window_start=start,
            window_end=end,
            technician_ids=tuple(t.id for t in technicians),
            duration_minutes=minutes,
            materials=None,
            technician_notes=None,
            seen_version=order.visit.version if order.visit else 0,
        ),
        planner,
        local_today(),
    )
    commit()
