"""The desk's side of the customer's photos: who may see them, the review, the ask.

The desk and the order's technicians (lead or crew of any of its visits) see
the photos; partners do not (their portal shows no order files), nor does anyone
by a photo's address alone. A planner marks a photo "in orde" or asks for another
with a reason. Asking is told to the customer once, on their own channel, by a
job queued after the commit (as the planning's visit notices are): it takes the
photo under a row lock and marks the ask sent in the transaction that writes the
message, so a job run twice sends once; a photo replaced or reviewed otherwise
in the meantime is not asked about any more.
"""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa
from flask_babel import gettext as _

from app.orders.core.customer_links import customer_link_url
from app.orders.core.services import may_view_orders
from app.orders.mobile.conversation import customer_thread, no_customer_thread_reason, tell_customer
from app.orders.mobile.services import on_any_visit
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.jobs.queues import enqueue
from app.platform.models import CustomerPhoto, Order, User
from app.platform.models.customer_links import PHOTO_APPROVED, PHOTO_ASKED_AGAIN
from app.platform.transactions import after_commit, commit

log = logging.getLogger(__name__)

MAX_REASON = 300
ASK_SUBJECT = "Graag een nieuwe foto ({order})"
ASK_TEXT = (
    "Beste {name},\n\nDank u voor uw foto's voor de installatie van uw laadpaal (order "
    '{order}). Wilt u de foto "{what}" opnieuw maken? {reason}\n\nU kunt de foto sturen '
    "via uw pagina: {link}\n\nMet vriendelijke groet,\nChargeCars"
)
# The items' names in the message, which is in Dutch like the visit notices.
DUTCH_NAMES = {
    "meter_cupboard": "meterkast",
    "main_fuse": "hoofdzekering",
    "charger_spot": "plek van de laadpaal",
    "cable_route": "weg van de kabel",
}


class ReviewRefused(ValueError):
    """The review cannot be saved; ``fields`` names what is wrong."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(fields.values()))
        self.fields = fields


def may_see_photos(user: User, order: Order) -> bool:
    """Desk staff, and the technicians of the order's visits."""
    return may_view_orders(user) or on_any_visit(user, order)


def photo_of(order: Order, photo_id: uuid.UUID) -> CustomerPhoto | None:
    """The order's photo ``photo_id`` (current or replaced), None if it is another order's."""
    photo = db.session.get(CustomerPhoto, photo_id)
    return photo if photo is not None and photo.order_id == order.id else None


def approve_photo(photo: CustomerPhoto, by: User) -> None:
    """The photo is what the technician needs (no commit)."""
    _current(photo)
    photo.status = PHOTO_APPROVED
    photo.reviewed_by_user_id, photo.reviewed_at = by.id, utcnow()


def ask_again(photo: CustomerPhoto, by: User, reason: str) -> None:
    """Ask the customer for another photo, saying why; told once, after the commit."""
    _current(photo)
    reason = " ".join((reason or "").split())
    if not reason:
        what = _("Say what is wrong with the photo: the customer reads it.")
        raise ReviewRefused({"reason": what})
    if len(reason) > MAX_REASON:
        raise ReviewRefused(
            {"reason": _("A reason can be at most %(count)s characters.", count=MAX_REASON)}
        )
    photo.status = PHOTO_ASKED_AGAIN
    photo.reviewed_by_user_id, photo.reviewed_at = by.id, utcnow()
    photo.ask_reason = reason
    photo.ask_sent_at = photo.ask_message_id = photo.ask_problem = None
    db.session.flush()
    photo_id = str(photo.id)
    after_commit(lambda: enqueue("app.orders.customer_page.review.send_photo_ask", photo_id))


def _current(photo: CustomerPhoto) -> None:
    if photo.superseded_at is not None:
        raise ReviewRefused({"photo": _("The customer has sent a newer photo since.")})


def send_photo_ask(photo_id: str) -> str:
    """Tell the customer a photo is asked again (job); returns sent, skipped or not_told."""
    photo = db.session.scalar(
        sa.select(CustomerPhoto).where(CustomerPhoto.id == uuid.UUID(photo_id)).with_for_update()
    )
    if (
        photo is None
        or photo.status != PHOTO_ASKED_AGAIN
        or photo.superseded_at is not None
        or photo.ask_sent_at is not None
        or photo.ask_problem
    ):
        db.session.rollback()
        return "skipped"
    order = db.session.get(Order, photo.order_id)
    author = db.session.get(User, photo.reviewed_by_user_id) if photo.reviewed_by_user_id else None
    message, problem = _tell(photo, order, author)
    photo.ask_sent_at = utcnow() if message else None
    photo.ask_message_id = message.id if message else None
    photo.ask_problem = problem
    commit()
    if problem:
        log.info("photo ask %s for %s not sent: %s", photo_id, order.order_number, problem)
        return "not_told"
    return "sent"


def _tell(photo: CustomerPhoto, order: Order, author: User | None):
    if author is None:
        return None, "the planner's account no longer exists"
    thread = customer_thread(order)
    if thread is None:
        return None, no_customer_thread_reason(order)
    words = {
        "name": thread.contact.display_name if thread.contact else "",
        "order": order.order_number,
        "what": DUTCH_NAMES.get(photo.kind, photo.kind),
        "reason": photo.ask_reason,
        "link": customer_link_url(order),
    }
    message, _channel, problem = tell_customer(
        thread,
        author,
        template=None,
        text=ASK_TEXT.format(**words),
        subject=ASK_SUBJECT.format(**words),
        variables={"order_id": order.order_number, "customer_link": words["link"]},
    )
    return message, problem
