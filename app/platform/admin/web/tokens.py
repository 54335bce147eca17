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

from app.platform.admin.services import find_personal_token, find_user, list_users
from app.platform.auth.api_tokens import (
    ROTATION_GRACE,
    expiry_from_date,
    issue_personal_token,
    personal_tokens,
    revoke_personal_token,
    rotate_personal_token,
)
from app.platform.auth.decorators import role_required
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import ApiToken, User
from app.platform.models.enums import KeyScope, Role
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
    owner = _user(form.get("user_id"))
    errors: dict[str, str] = {}
    if owner is None:
        errors["user_id"] = _("Choose the user the token acts as.")
    try:
        scope = KeyScope(form.get("scope") or KeyScope.WRITE.value)
    except ValueError:
        errors["scope"] = _("Choose one of the options.")
    try:
        expires_at = expiry_from_date(form.get("expires_at"))
    except ValueError as exc:
        errors["expires_at"] = str(exc)
    if not errors:
        try:
            token, plain = issue_personal_token(
                owner, form.get("name", ""), current_user, scope=scope, expires_at=expires_at
            )
        except ValueError as exc:
            field, _sep, message = str(exc).partition(": ")
            errors[field if message else "name"] = message or str(exc)
    if errors:
        db.session.rollback()
        return _page(422, errors=errors, form=form)
    commit()
    return _page(201, new_token=plain, new_token_owner=owner)


def _user(value: str | None) -> User | None:
    try:
        return find_user(uuid.UUID(str(value)))
    except (ValueError, TypeError):
        return None


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
