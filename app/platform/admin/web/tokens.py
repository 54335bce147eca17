"""Admin page of personal API tokens (``sbp_…``).

Admins issue a token for a user or service account (scope, expiry), rotate and
revoke it; the plain token is in the answer to the POST that made it and never
again (``no-store``). The services are :mod:`app.platform.auth.api_tokens`.
"""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.platform.admin.services import find_personal_token, list_users
from app.platform.admin.token_forms import TokenFormRefused, issue_token_from_form
from app.platform.auth.api_tokens import (
    ROTATION_GRACE,
    personal_tokens,
    revoke_personal_token,
    rotate_personal_token,
)
from app.platform.auth.decorators import role_required
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import ApiToken
from app.platform.models.enums import Role
from app.platform.transactions import commit
from app.platform.ui import no_store

bp = Blueprint("api_tokens", __name__, url_prefix="/admin/api-tokens")


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    return _page()


def _page(status: int = 200, *, errors: dict | None = None, form: dict | None = None, **extra):
    context = dict(
        tokens=personal_tokens(),
        users=[user for user in list_users() if user.is_active],
        now=utcnow(),
        rotation_days=ROTATION_GRACE.days,
        errors=errors or {},
        form=form or {},
    )
    context.update(extra)
    return no_store(make_response(render_template("admin/api_tokens.html", **context), status))


@bp.post("/")
@role_required(Role.ADMIN)
def issue():
    form = request.form.to_dict()
    try:
        owner, plain = issue_token_from_form(form, current_user)
    except TokenFormRefused as exc:
        db.session.rollback()
        return _page(422, errors=exc.fields, form=form)
    commit()
    return _page(201, new_token=plain, new_token_owner=owner)


def _token(token_id: uuid.UUID) -> ApiToken:
    token = find_personal_token(token_id)
    if token is None:
        abort(404, _("There is no such token."))
    return token


@bp.post("/<uuid:token_id>/rotate")
@role_required(Role.ADMIN)
def rotate(token_id: uuid.UUID):
    token = _token(token_id)
    try:
        new, plain = rotate_personal_token(token, current_user)
    except ValueError as exc:
        return _page(422, errors={"token": str(exc)})
    commit()
    return _page(201, new_token=plain, new_token_owner=new.user, rotated=True)


@bp.post("/<uuid:token_id>/revoke")
@role_required(Role.ADMIN)
def revoke(token_id: uuid.UUID):
    token = _token(token_id)
    try:
        revoke_personal_token(token, current_user)
    except ValueError as exc:
        return _page(422, errors={"token": str(exc)})
    commit()
    flash(
        _("Token %(prefix)s… is revoked; requests with it now get 401.", prefix=token.prefix),
        "info",
    )
    return redirect(url_for("api_tokens.index"), 303)
