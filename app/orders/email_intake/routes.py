"""The review queue of partner order e-mails, one draft's review, and .eml upload."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from app.orders.email_intake.drafts import (
    DraftClosed,
    approve_draft,
    draft_for_message,
    draft_from_email,
    reject_draft,
)
from app.orders.email_intake.eml import MAX_EML_BYTES, EmlError, read_eml
from app.orders.email_intake.forms import UploadInvalid, corrections_from_form, read_upload
from app.orders.email_intake.review import (
    confidence_band,
    draft_page,
    find_partner,
    review_queue,
    state_counts,
    upload_partners,
)
from app.orders.partners.intake import IntakeInvalid
from app.platform.auth.decorators import STAFF_DESK_ROLES, role_required
from app.platform.extensions import db
from app.platform.models import OrderDraft
from app.platform.security.bodies import accepts_body_up_to
from app.platform.transactions import commit

bp = Blueprint("email_intake", __name__, url_prefix="/intake")

# Room for the multipart envelope and the other form fields around the file.
UPLOAD_LIMIT = MAX_EML_BYTES + 64 * 1024
TOO_LARGE = _l("The file is larger than 5 MB.")


@bp.app_template_filter("confidence_band")
def _confidence_band(value) -> str:
    return confidence_band(value)


def _draft(draft_id: uuid.UUID) -> OrderDraft:
    return db.get_or_404(OrderDraft, draft_id, description=_("There is no such order draft."))


def _queue_page(status: int = 200, upload_error: UploadInvalid | None = None, partner_id=None):
    return (
        render_template(
            "email_intake/queue.html",
            rows=review_queue(),
            counts=state_counts(),
            partners=upload_partners(),
            upload_error=upload_error,
            chosen_partner_id=partner_id,
        ),
        status,
    )


def _draft_page(draft: OrderDraft, status: int = 200, reason_error: str | None = None):
    return (
        render_template(
            "email_intake/show.html",
            page=draft_page(draft),
            reason_error=reason_error,
            reason=request.form.get("reason", ""),
        ),
        status,
    )


@bp.get("/drafts")
@role_required(*STAFF_DESK_ROLES)
def queue():
    return _queue_page()


@bp.errorhandler(RequestEntityTooLarge)
def _upload_too_large(exc):
    # Refused from its Content-Length before the route ran (accepts_body_up_to):
    # the queue, with the reason by the file field, only for whom the route serves.
    if (
        request.endpoint == "email_intake.upload"
        and current_user.is_authenticated
        and current_user.role in STAFF_DESK_ROLES
    ):
        return _queue_page(413, UploadInvalid("eml", str(TOO_LARGE)))
    return render_template(
        "errors/error.html", code=413, title=_("Too large"), message=exc.description
    ), 413


@bp.post("/drafts/upload")
@accepts_body_up_to(UPLOAD_LIMIT)
@role_required(*STAFF_DESK_ROLES)
def upload():
    chosen = request.form.get("partner_id")
    try:
        partner_id, data = read_upload(request.files, request.form)
        partner = find_partner(partner_id)
        if partner is None:
            raise UploadInvalid("partner_id", _("Choose one of the listed partners."))
        mail = read_eml(data)
    except RequestEntityTooLarge:
        return _queue_page(413, UploadInvalid("eml", str(TOO_LARGE)), chosen)
    except EmlError as exc:
        return _queue_page(422, UploadInvalid("eml", str(exc)), chosen)
    except UploadInvalid as exc:
        status = 413 if "5 MB" in exc.message else 422
        return _queue_page(status, exc, chosen)
    seen = mail.internet_message_id and draft_for_message(mail.internet_message_id)
    draft = seen or draft_from_email(
        partner,
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        sender=mail.sender,
        internet_message_id=mail.internet_message_id,
        source="upload",
    )
    commit()
    if seen:
        flash(_("This e-mail was read before; here is its draft."), "info")
    elif draft.order_id:
        flash(_("The e-mail was clear enough: the order is created."), "info")
    else:
        flash(_("The e-mail is waiting for review below."), "info")
    return redirect(url_for("email_intake.show", draft_id=draft.id), 303)


@bp.get("/drafts/<uuid:draft_id>")
@role_required(*STAFF_DESK_ROLES)
def show(draft_id):
    return _draft_page(_draft(draft_id))


@bp.post("/drafts/<uuid:draft_id>/approve")
@role_required(*STAFF_DESK_ROLES)
def approve(draft_id):
    draft = _draft(draft_id)
    try:
        order = approve_draft(draft, corrections_from_form(request.form), current_user)
    except IntakeInvalid:
        # Keep the corrections and the errors on the draft for the next try.
        commit()
        return _draft_page(draft, 422)
    except DraftClosed as exc:
        db.session.rollback()
        flash(str(exc), "info")
        return redirect(url_for("email_intake.show", draft_id=draft_id), 303)
    commit()
    flash(_("Order %(number)s is created.", number=order.order_number), "info")
    return redirect(url_for("email_intake.show", draft_id=draft_id), 303)


@bp.post("/drafts/<uuid:draft_id>/reject")
@role_required(*STAFF_DESK_ROLES)
def reject(draft_id):
    draft = _draft(draft_id)
    try:
        reject_draft(draft, current_user, request.form.get("reason", ""))
    except ValueError as exc:
        db.session.rollback()
        return _draft_page(draft, 422, reason_error=str(exc))
    except DraftClosed as exc:
        db.session.rollback()
        flash(str(exc), "info")
        return redirect(url_for("email_intake.show", draft_id=draft_id), 303)
    commit()
    flash(_("The draft is rejected."), "info")
    return redirect(url_for("email_intake.queue"), 303)
