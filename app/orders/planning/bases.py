"""Where a technician's day starts and ends, and how far they go.

A planner types a postcode and house number (home, or the depot); PDOK says where
that is, and its label and coordinates are kept, so every route is measured from a
place that exists. An end left empty means the day ends where it started. A radius
keeps the technician to visits within that many kilometres of their start.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext

from app.orders.addresses.pdok import MISMATCH, UNAVAILABLE, VALID, check_address
from app.orders.planning import travel
from app.platform.database import upsert_insert, utcnow
from app.platform.extensions import db
from app.platform.models import TechnicianBase, User

MAX_RADIUS_KM = 400  # the Netherlands end to end, with room: more means "anywhere"


@dataclass(frozen=True)
class Place:
    """A place PDOK confirmed: its label, postcode, number and coordinates."""

    label: str
    postal_code: str
    house_number: str
    latitude: Decimal
    longitude: Decimal


class BaseRefused(Exception):
    """What was typed cannot be saved; ``errors`` names each field in the reader's language."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(", ".join(errors.values()))
        self.errors = errors


def base_of(user_id: uuid.UUID) -> TechnicianBase | None:
    return db.session.scalar(sa.select(TechnicianBase).where(TechnicianBase.user_id == user_id))


def bases_of(user_ids: list[uuid.UUID]) -> dict[uuid.UUID, TechnicianBase]:
    """Each technician's base, by their id (those without one are left out)."""
    if not user_ids:
        return {}
    rows = db.session.scalars(sa.select(TechnicianBase).where(TechnicianBase.user_id.in_(user_ids)))
    return {base.user_id: base for base in rows}


def save_base(user: User, form) -> TechnicianBase:
    """Check what was typed (PDOK for each place) and store it; raises :class:`BaseRefused`.

    Written as one upsert on the technician's unique key, so two planners saving at
    once leave one row, the last one's.
    """
    errors: dict[str, str] = {}
    start = _place(form, "start", gettext("Starting point"), errors, required=True)
    end = _place(form, "end", gettext("End point"), errors, required=False)
    radius = _radius(form.get("area_radius_km"), errors)
    if errors:
        raise BaseRefused(errors)
    values = dict(
        user_id=user.id,
        start_label=start.label,
        start_postal_code=start.postal_code,
        start_house_number=start.house_number,
        start_latitude=start.latitude,
        start_longitude=start.longitude,
        end_label=end.label if end else None,
        end_postal_code=end.postal_code if end else None,
        end_house_number=end.house_number if end else None,
        end_latitude=end.latitude if end else None,
        end_longitude=end.longitude if end else None,
        area_radius_km=radius,
    )
    now = utcnow()
    statement = upsert_insert(TechnicianBase, db.session.get_bind().dialect.name).values(
        id=uuid.uuid4(), created_at=now, updated_at=now, **values
    )
    changed = {key: value for key, value in values.items() if key != "user_id"}
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id"], set_={**changed, "updated_at": now}
        )
    )
    db.session.expire_all()
    return base_of(user.id)


def _place(form, prefix: str, name: str, errors: dict[str, str], required: bool) -> Place | None:
    postal_code = (form.get(f"{prefix}_postal_code") or "").strip()
    house_number = (form.get(f"{prefix}_house_number") or "").strip()
    if not postal_code and not house_number:
        if required:
            errors[f"{prefix}_postal_code"] = gettext(
                "%(name)s: type a postcode and house number", name=name
            )
        return None
    if not postal_code or not house_number:
        field = f"{prefix}_postal_code" if not postal_code else f"{prefix}_house_number"
        errors[field] = gettext("%(name)s: type both the postcode and the house number", name=name)
        return None
    check = check_address(postal_code, house_number)
    if check.outcome == UNAVAILABLE:
        errors[f"{prefix}_postal_code"] = gettext(
            "%(name)s: the address service (PDOK) does not answer; try again in a minute",
            name=name,
        )
        return None
    if check.outcome not in (VALID, MISMATCH) or check.latitude is None:
        errors[f"{prefix}_postal_code"] = gettext(
            "%(name)s: PDOK knows no address %(postcode)s %(number)s",
            name=name,
            postcode=postal_code.upper(),
            number=house_number,
        )
        return None
    return Place(
        label=check.display or f"{check.postal_code} {check.house_number}",
        postal_code=check.postal_code or postal_code.upper().replace(" ", ""),
        house_number=house_number,
        latitude=check.latitude,
        longitude=check.longitude,
    )


def _radius(typed: str | None, errors: dict[str, str]) -> int | None:
    typed = (typed or "").strip()
    if not typed:
        return None
    try:
        radius = int(typed)
    except ValueError:
        radius = 0
    if not 1 <= radius <= MAX_RADIUS_KM:
        errors["area_radius_km"] = gettext(
            "Area: a whole number of kilometres from 1 to %(most)s, or empty for anywhere",
            most=MAX_RADIUS_KM,
        )
        return None
    return radius


def base_place(base: TechnicianBase | None, which: str) -> travel.Place | None:
    """Where a technician's day starts (``which="start"``) or ends, if known."""
    if base is None:
        return None
    latitude = getattr(base, f"{which}_latitude")
    longitude = getattr(base, f"{which}_longitude")
    if latitude is None or longitude is None:
        return None
    return travel.Place(float(latitude), float(longitude))
