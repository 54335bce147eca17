"""Demo planning: technicians' hours and days off, and a plan for each visit with a
technician (done ones too, so last week's visits keep their time on the board), so
the planning board shows a believable week. Approved orders stay unplanned: they
fill the board's "to plan" list."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import time, timedelta
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.orders.planning.services import default_materials
from app.platform.extensions import db
from app.platform.models import (
    Order,
    TechnicianAbsence,
    TechnicianBase,
    TechnicianSchedule,
    Visit,
    VisitTechnician,
)
from app.platform.models.enums import OrderStatus
from app.seed.context import DemoContext
from app.seed.demo_content import next_workday

# Orders whose visit has a plan: coming, under way, and done.
PLANNED = (OrderStatus.SCHEDULED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)
# Own generator: the rest of the demo draws from ctx.rng in a fixed order.
PLANNING_SEED = 28
# Windows of a technician's day, in order: the first visit starts at eight.
SLOTS = ((8, 0, 10, 0), (10, 30, 12, 30), (13, 0, 15, 0), (15, 0, 17, 0))
HOURS = {
    # Ruben works four long days and a short Friday; Kevin, a team lead who still
    # installs, mornings.
    "ruben.dejong": {
        **{d: ["07:30", "17:30"] for d in ("mon", "tue", "wed", "thu")},
        "fri": ["07:30", "12:00"],
        "sat": None,
        "sun": None,
    },
    "kevin.hendriks": {
        **{d: ["08:00", "13:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        "sat": None,
        "sun": None,
    },
}
# Where each technician's day starts (as PDOK would have placed it): Daan and Kevin
# from the depot in Nieuwegein, Ruben from home in Amersfoort with a smaller area.
BASES = {
    "tech": ("Symfonielaan 8, 3438EX Nieuwegein", "3438EX", "8", "52.029470", "5.091150", None),
    "ruben.dejong": (
        "Utrechtseweg 120, 3818ES Amersfoort",
        "3818ES",
        "120",
        "52.154400",
        "5.371390",
        60,
    ),
    "kevin.hendriks": (
        "Symfonielaan 8, 3438EX Nieuwegein",
        "3438EX",
        "8",
        "52.029470",
        "5.091150",
        80,
    ),
}
NOTES = (
    "Klant werkt thuis, graag vooraf even bellen.",
    "Meterkast zit in de trapkast; groep vrijhouden.",
    "Parkeren op de oprit is toegestaan.",
    None,
    None,
)


def build_planning(ctx: DemoContext) -> int:
    """Working hours, a day off, and visit plans; returns the number of plans."""
    rng = random.Random(PLANNING_SEED)  # noqa: S311 (demo data, not security)
    for key, hours in HOURS.items():
        db.session.add(TechnicianSchedule(user_id=ctx.user(key).id, weekly_hours=hours))
    db.session.add(TechnicianSchedule(user_id=ctx.user("tech").id))
    for key, (label, postcode, number, lat, lon, radius) in BASES.items():
        db.session.add(
            TechnicianBase(
                user_id=ctx.user(key).id,
                start_label=label,
                start_postal_code=postcode,
                start_house_number=number,
                start_latitude=Decimal(lat),
                start_longitude=Decimal(lon),
                area_radius_km=radius,
            )
        )
    day_off = next_workday(ctx.today + timedelta(days=2))
    db.session.add(
        TechnicianAbsence(
            user_id=ctx.user("kevin.hendriks").id,
            starts_on=day_off,
            ends_on=day_off,
            reason="Cursus laadpleinen",
        )
    )
    by_day: dict[tuple, list[Order]] = defaultdict(list)
    for order in ctx.orders:
        if order.status in PLANNED and order.assigned_technician_id and order.scheduled_date:
            by_day[(order.assigned_technician_id, order.scheduled_date)].append(order)
    # Every planned order's lines in one statement (the materials come from them).
    planned = [order.id for orders in by_day.values() for order in orders]
    db.session.scalars(
        sa.select(Order).where(Order.id.in_(planned)).options(so.selectinload(Order.line_items))
    ).all()
    plans, visits = 0, []
    for orders in by_day.values():
        # The visit under way first: it started this morning.
        orders.sort(key=lambda o: (o.status != OrderStatus.IN_PROGRESS, o.order_number))
        # Every scheduled order has its visit: a busy day doubles up a window.
        for index, order in enumerate(orders):
            slot = SLOTS[index % len(SLOTS)]
            visit = Visit(
                order_id=order.id,
                scheduled_date=order.scheduled_date,
                window_start=time(slot[0], slot[1]),
                window_end=time(slot[2], slot[3]),
                duration_minutes=rng.choice([90, 120, 120, 150]),
                materials=default_materials(order) or None,
                technician_notes=rng.choice(NOTES),
                version=1,
                planned_at=ctx.scheduled_at.get(order.id) or ctx.ago(days=rng.uniform(1, 6)),
            )
            visit.crew.append(
                VisitTechnician(technician_id=order.assigned_technician_id, is_lead=True)
            )
            visits.append(visit)
            plans += 1
    db.session.add_all(visits)
    db.session.flush()
    return plans
