"""Orders ready to plan, technicians, and a planner's form, for the planning tests."""

from __future__ import annotations

from datetime import date, timedelta

from app.orders.mobile.services import local_today
from app.orders.planning.hours import public_holiday
from app.platform.extensions import db
from app.platform.models import Article, LineItem, Order
from app.platform.models.enums import ArticleType, OrderStatus
from tests.support.mobile_support import visit


def working_day(offset: int = 7) -> date:
    """A weekday ``offset`` days or more ahead that is no public holiday."""
    day = local_today() + timedelta(days=offset)
    while day.weekday() >= 5 or public_holiday(day):
        day += timedelta(days=1)
    return day


def approved_order(number: str = "CC-2026-00101", brand: str | None = "Alfen", **fields) -> Order:
    """An approved, unplanned order with a customer on WhatsApp and e-mail, and a
    ``brand`` charger on its lines (a required skill)."""
    order = visit(None, number=number, status=OrderStatus.APPROVED, **fields)
    order.scheduled_date = None
    if brand:
        article = Article(
            sku=f"{brand.upper()}-{number}",
            name=f"{brand} Eve Single 11 kW",
            article_type=ArticleType.WALLBOX,
            brand=brand,
        )
        db.session.add(article)
        db.session.flush()
        db.session.add(
            LineItem(
                order_id=order.id, article_id=article.id, description=article.name, line_order=3
            )
        )
    db.session.commit()
    return order


def plan_form(technicians, day: date, start="09:00", end="12:00", version=0, **extra) -> dict:
    return {
        "date": day.isoformat(),
        "window_start": start,
        "window_end": end,
        "technician_ids": [str(t.id) for t in technicians],
        "duration_minutes": "120",
        "materials": "1× Alfen Eve\nKabel 10 m",
        "technician_notes": "Bel aan bij de achterdeur",
        "version": str(version),
        **extra,
    }
