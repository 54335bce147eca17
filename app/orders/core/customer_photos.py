"""The customer's photos before the visit: which are asked, and where they stand.

Which photos is data (like :mod:`app.orders.customer_page.preparation`).

The technician plans the work from them: how the meter cupboard is laid out,
what main fuse the house has (is a charger's load possible, is a new group
needed), where the charger goes and which way the cable runs. A charger
installation asks all four. A return visit after the grid operator changed
the meter box only needs the cupboard and the fuse again: the spot and the
route were seen on the first day. A visit for a missing part, or to finish on
a second day, asks nothing: the technician has been there. An order without
a charger or installation on its lines (a service call) asks for the cupboard
and the fuse, where that work is done.

Here, in the orders' core, because the page (:mod:`app.orders.customer_page`),
the planning board and the technician's card all read it. The upload and the
review live with the page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.platform.extensions import db
from app.platform.models import CustomerPhoto, Order, Visit
from app.platform.models.customer_links import PHOTO_APPROVED, PHOTO_ASKED_AGAIN
from app.platform.models.enums import ArticleType
from app.platform.models.planning import METER_BOX, MISSING_PART, SECOND_DAY


@dataclass(frozen=True)
class PhotoItem:
    """One photo the customer is asked for; ``key`` is the photo's ``kind``."""

    key: str
    title: object  # lazy texts, read in the page's language
    instruction: object
    # The example drawing under static/img/customer-photos/.
    example: str


METER_CUPBOARD = PhotoItem(
    "meter_cupboard",
    _l("Meter cupboard"),
    _l("Open the meter cupboard and take the whole of it, meters and switches included."),
    "img/customer-photos/meter_cupboard.svg",
)
MAIN_FUSE = PhotoItem(
    "main_fuse",
    _l("Main fuse"),
    _l("Take the main fuse up close, so the number on it (for example 25A or 3x25A) can be read."),
    "img/customer-photos/main_fuse.svg",
)
CHARGER_SPOT = PhotoItem(
    "charger_spot",
    _l("Where the charger goes"),
    _l("Take the wall where you want the charger, from a few steps back."),
    "img/customer-photos/charger_spot.svg",
)
CABLE_ROUTE = PhotoItem(
    "cable_route",
    _l("The cable's way"),
    _l("Take the way from the meter cupboard to the charger: walls, ceiling or crawl space."),
    "img/customer-photos/cable_route.svg",
)
ITEMS = {item.key: item for item in (METER_CUPBOARD, MAIN_FUSE, CHARGER_SPOT, CABLE_ROUTE)}

INSTALLATION = (METER_CUPBOARD, MAIN_FUSE, CHARGER_SPOT, CABLE_ROUTE)
CUPBOARD_ONLY = (METER_CUPBOARD, MAIN_FUSE)
# A later visit asks by why it is needed; nothing for what the technician saw already.
BY_PURPOSE = {METER_BOX: CUPBOARD_ONLY, MISSING_PART: (), SECOND_DAY: ()}
INSTALLING = (ArticleType.WALLBOX, ArticleType.INSTALLATION)


def photo_checklist(order: Order, visit: Visit | None) -> list[PhotoItem]:
    """The photos asked for ``visit`` of ``order`` (its current visit), in the page's order."""
    if visit is not None and visit.purpose in BY_PURPOSE:
        return list(BY_PURPOSE[visit.purpose])
    types = {line.article.article_type for line in order.line_items if line.article is not None}
    return list(INSTALLATION if types & set(INSTALLING) else CUPBOARD_ONLY)


def current_photos(order: Order) -> dict[str, CustomerPhoto]:
    """The order's current photo of each checklist item, by kind."""
    photos = db.session.scalars(
        sa.select(CustomerPhoto).where(
            CustomerPhoto.order_id == order.id, CustomerPhoto.superseded_at.is_(None)
        )
    )
    return {photo.kind: photo for photo in photos}


# The desk's words for a photo's state.
DESK_WORDS = {
    "needed": _l("not sent yet"),
    "received": _l("to review"),
    "approved": _l("in order"),
    "asked_again": _l("asked again"),
}


@dataclass(frozen=True)
class ReviewItem:
    """A checklist item on the desk: its current photo, if one came."""

    item: PhotoItem
    photo: CustomerPhoto | None

    @property
    def state(self) -> str:
        return self.photo.status if self.photo is not None else "needed"

    @property
    def words(self) -> object:
        return DESK_WORDS[self.state]


def review_items(order: Order) -> list[ReviewItem]:
    """The order's checklist with each current photo; a photo of an item no longer
    asked (the visit's purpose changed) is listed after it."""
    current = current_photos(order)
    listed = [
        ReviewItem(item, current.pop(item.key, None))
        for item in photo_checklist(order, order.visit)
    ]
    return listed + [
        ReviewItem(ITEMS[kind], photo) for kind, photo in current.items() if kind in ITEMS
    ]


@dataclass(frozen=True)
class PhotoCount:
    """How far an order's photos are: ``sent`` of ``asked``, ``approved`` of them."""

    sent: int
    asked: int
    approved: int

    @property
    def all_approved(self) -> bool:
        return self.asked > 0 and self.approved >= self.asked


def photo_counts(orders: list[Order]) -> dict[uuid.UUID, PhotoCount]:
    """Each order's photo count, for the board's visit cards (one query for all)."""
    if not orders:
        return {}
    rows = db.session.execute(
        sa.select(CustomerPhoto.order_id, CustomerPhoto.kind, CustomerPhoto.status).where(
            CustomerPhoto.order_id.in_([order.id for order in orders]),
            CustomerPhoto.superseded_at.is_(None),
        )
    ).all()
    counts = {}
    for order in orders:
        asked = {item.key for item in photo_checklist(order, order.visit)}
        mine = [(kind, status) for order_id, kind, status in rows if order_id == order.id]
        # A photo asked again is not counted as sent: the technician still waits for it.
        sent = sum(1 for kind, status in mine if kind in asked and status != PHOTO_ASKED_AGAIN)
        approved = sum(1 for kind, status in mine if kind in asked and status == PHOTO_APPROVED)
        counts[order.id] = PhotoCount(sent, len(asked), approved)
    return counts
