"""Travel times between places as a routing service gave them, kept per day."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.platform.database import Entity
from app.platform.extensions import db


class TravelLeg(Entity, db.Model):
    """Driving from one place to another on one day, as ``provider`` answered it.

    Written only by :mod:`app.orders.planning.travel`, with ``INSERT … ON CONFLICT
    DO NOTHING`` under the unique key: two planners asking for the same legs at once
    both succeed and one row stays. A place is its key, latitude and longitude
    rounded to 5 decimals (about a metre), so the same address always meets its
    row. Kept per day because roads close and reopen; a day's rows are what that
    day's plan was made with.
    """

    __tablename__ = "travel_legs"
    __table_args__ = (sa.UniqueConstraint("provider", "day", "origin_key", "destination_key"),)

    provider: so.Mapped[str] = so.mapped_column(sa.String(16))
    day: so.Mapped[date] = so.mapped_column(sa.Date)
    origin_key: so.Mapped[str] = so.mapped_column(sa.String(24))
    destination_key: so.Mapped[str] = so.mapped_column(sa.String(24))
    seconds: so.Mapped[int] = so.mapped_column()
    metres: so.Mapped[int] = so.mapped_column()
