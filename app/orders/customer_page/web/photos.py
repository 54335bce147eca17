"""The customer sends their photos from their page (``/t/<token>/photos/<kind>``).

A plain multipart form that works without script (the answer is the page again,
or a 303 back to it); with htmx the item alone is swapped. Behind the page's
own throttle and private headers, and only while the order is not finished.
The form carries the session's CSRF token like the app's other public forms.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from app.conversations.attachments.storage import discard_message_files
from app.orders.core.customer_links import order_of_token
from app.orders.core.customer_photos import photo_checklist
from app.orders.customer_page.page import customer_page
from app.orders.customer_page.photos import (
    check_photo,
    keep_photo,
    may_send_photos,
    photo_section,
)
from app.orders.customer_page.web.routes import (
    LANGUAGES,
    keep_private,
    page_language,
    refuse_when_busy,
)
from app.orders.mobile.photos import MAX_PHOTO_BYTES, PhotoRejected, too_large_text
from app.platform.extensions import db
from app.platform.models import Order
from app.platform.security.access import SESSION_CSRF, declare_blueprint, public
from app.platform.security.bodies import accepts_body_up_to
from app.platform.transactions import commit

bp = Blueprint("customer_photos", __name__)
declare_blueprint(
    bp,
    public(
        "the customer's photos from their personal link: the token in the URL, rate-limited",
        csrf=SESSION_CSRF,
    ),
)
bp.before_request(refuse_when_busy)
bp.after_request(keep_private)

# Room for the CSRF token and the multipart boundaries beside the photo.
FORM_OVERHEAD = 64 * 1024


@bp.post("/t/<token>/photos/<kind>")
# Refused from its Content-Length before the CSRF check spools the form.
@accepts_body_up_to(MAX_PHOTO_BYTES + FORM_OVERHEAD)
def upload(token: str, kind: str):
    """Keep the customer's photo for checklist item ``kind``, or say what is wrong with it."""
    order = _order(token)
    with force_locale(page_language(order)):
        item = next((i for i in photo_checklist(order, order.visit) if i.key == kind), None)
        if item is None:
            abort(404)
        if not may_send_photos(order):
            finished = _("Your order is finished: no more photos are needed.")
            return _answer(order, token, kind, finished, status=409)
        upload = request.files.get("photo")
        try:
            photo = check_photo(upload.stream if upload and upload.filename else None)
            row = keep_photo(order, item, photo)
        except PhotoRejected as exc:
            db.session.rollback()
            return _answer(order, token, kind, " ".join(exc.fields.values()))
        try:
            commit()
        except Exception:
            db.session.rollback()
            discard_message_files(row.id)
            raise
        return _answer(order, token, kind, None)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    token = (request.view_args or {}).get("token", "")
    kind = (request.view_args or {}).get("kind", "")
    order = order_of_token(token)
    if order is None:
        return exc
    with force_locale(page_language(order)):
        return _answer(order, token, kind, too_large_text(), status=413)


def _order(token: str) -> Order:
    order = order_of_token(token)
    if order is None:
        abort(404)
    return order


def _answer(order: Order, token: str, kind: str, error: str | None, status: int = 422):
    """The item alone for htmx (always 200: htmx swaps only those), else the page
    with the error by its field, or back to the page when all went well. Once the
    order is finished the section holds only the refusal."""
    photos = photo_section(order, {kind: error} if error else None)
    asked = next((p for p in photos if p.item.key == kind), None)
    notice = error if asked is None else None
    if request.headers.get("HX-Request") == "true":
        if asked is None:
            return render_template(
                "customer_page/_photos.html", photos=photos, token=token, photo_notice=notice
            )
        return render_template(
            "customer_page/_photo_item.html", photo=asked, token=token, swapped=True
        )
    if error is None:
        return redirect(url_for("customer_page.show", token=token) + f"#photo-{kind}", 303)
    language = page_language(order)
    body = render_template(
        "customer_page/show.html",
        page=customer_page(order, language),
        token=token,
        languages=LANGUAGES,
        photos=photos,
        photo_notice=notice,
    )
    return body, status
