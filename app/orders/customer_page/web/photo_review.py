"""The customer's photos on the desk (``/orders/<key>/customer-photos``).

The order page loads the panel (thumbnails, "In orde", "Opnieuw vragen");
the images themselves are answered only to the desk and the order's own
technicians (their phone card links here), never cached, and sandboxed like
every file a customer sent.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, render_template, request, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.conversations.attachments.storage import stored_file
from app.orders.core.customer_photos import review_items
from app.orders.core.services import find_order
from app.orders.customer_page.review import (
    ReviewRefused,
    approve_photo,
    ask_again,
    may_see_photos,
    photo_of,
)
from app.platform.auth.decorators import gate, role_required
from app.platform.extensions import db
from app.platform.models import Order
from app.platform.models.enums import Role
from app.platform.security.access import DESK, STAFF, Access
from app.platform.transactions import commit

bp = Blueprint("customer_photo_review", __name__, url_prefix="/orders")

desk_only = role_required(*DESK, refusal=_l("Reviewing the customer's photos is the desk's work."))
OWN_ORDER_PHOTOS = Access(
    roles=STAFF,
    own_only=frozenset({Role.TECHNICIAN}),
    reason="technicians see the photos of the orders they visit only",
)


@bp.get("/<key>/customer-photos")
@desk_only
def panel(key: str):
    """The order page's panel of the customer's photos."""
    order = _order(key)
    return render_template(
        "customer_page/_desk_photos.html", order=order, items=review_items(order), errors={}
    )


@bp.get("/<key>/customer-photos/<uuid:photo_id>")
@gate(OWN_ORDER_PHOTOS)
def image(key: str, photo_id: uuid.UUID):
    """One photo (``?size=thumbnail``: its thumbnail), for the desk and the order's
    technicians (403 for another technician)."""
    order = _order(key)
    photo = photo_of(order, photo_id)
    if photo is None:
        abort(404)
    if not may_see_photos(current_user, order):
        abort(403, _("Only the desk and the technicians of this order see its photos."))
    small = request.args.get("size") == "thumbnail"
    path = stored_file({"status": "stored", "path": photo.thumbnail_path if small else photo.path})
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/jpeg" if small else photo.content_type, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<key>/customer-photos/<uuid:photo_id>/review")
@desk_only
def review(key: str, photo_id: uuid.UUID):
    """ "In orde", or ask the customer again with a reason (told once, after the commit)."""
    order = _order(key)
    photo = photo_of(order, photo_id)
    if photo is None:
        abort(404)
    try:
        if request.form.get("decision") == "approve":
            approve_photo(photo, current_user)
        elif request.form.get("decision") == "ask_again":
            ask_again(photo, current_user, request.form.get("reason", ""))
        else:
            abort(400)
    except ReviewRefused as exc:
        db.session.rollback()
        errors = {photo.kind: " ".join(exc.fields.values())}
        body = render_template(
            "customer_page/_desk_photos.html", order=order, items=review_items(order), errors=errors
        )
        # htmx swaps 2xx only: the panel with its error comes back as 200 to it.
        return body, 200 if request.headers.get("HX-Request") == "true" else 422
    commit()
    return render_template(
        "customer_page/_desk_photos.html",
        order=order,
        items=review_items(order),
        errors={},
        notice=_("Saved."),
    )


def _order(key: str) -> Order:
    order = find_order(key)
    if order is None or order.is_test:
        abort(404)
    return order
