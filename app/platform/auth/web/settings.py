"""``/settings/security``: the signed-in user's password, second factor and sessions."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from app.platform.auth import account, two_factor
from app.platform.auth.decorators import gate
from app.platform.auth.forms import PasswordChangeForm, SecondFactorForm
from app.platform.auth.sessions import remembered_browsers
from app.platform.auth.signin import (
    client_address,
    note_second_factor,
    passed_second_factor,
    restart_session_after,
    safe_next,
    sign_out_everywhere,
)
from app.platform.extensions import db
from app.platform.security.access import ACCOUNT
from app.platform.transactions import commit

bp = Blueprint("security", __name__, url_prefix="/settings")


def _me():
    return current_user._get_current_object()


def _next() -> str | None:
    return safe_next(request.values.get("next"))


def _no_store(page: str, status: int = 200):
    # Pages with a secret or recovery codes must not stay in any cache.
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/security")
@gate(ACCOUNT)
def index():
    user = _me()
    credential = two_factor.credential_for(user)
    return render_template(
        "auth/security.html",
        enabled=credential is not None and credential.confirmed_at is not None,
        enabled_at=credential.confirmed_at if credential else None,
        codes_left=two_factor.recovery_codes_left(user),
        required=two_factor.two_factor_need(user),
        passed_second_factor=passed_second_factor(),
        browsers=remembered_browsers(user),
        code_form=SecondFactorForm(),
        next_url=_next(),
    )


@bp.post("/security/confirm")
@gate(ACCOUNT)
def confirm_second_factor():
    """Step up: a session signed in without a code shows one to open admin pages."""
    form = SecondFactorForm()
    if not form.validate_on_submit():
        flash(gettext("Enter a code from your authenticator app."), "error")
        return redirect(url_for("security.index", next=_next()))
    try:
        account.prove_second_factor(_me(), form.code.data, client_ip=client_address())
    except account.AccountChangeRefused as exc:
        commit()  # a wrong code counts towards the lockout
        flash(exc.fields["code"], "error")
        return redirect(url_for("security.index", next=_next()))
    commit()
    note_second_factor()
    return redirect(_next() or url_for("security.index"))


@bp.post("/security/two-factor/start")
@gate(ACCOUNT)
def start_two_factor():
    try:
        two_factor.start_setup(_me())
    except two_factor.TwoFactorError as exc:
        flash(str(exc), "info")
        return redirect(url_for("security.index"))
    commit()
    return redirect(url_for("security.setup_two_factor", next=_next()))


@bp.route("/security/two-factor", methods=["GET", "POST"])
@gate(ACCOUNT)
def setup_two_factor():
    """Scan (or type) the secret, then confirm with a code from the app."""
    user = _me()
    credential = two_factor.pending_setup(user)
    if credential is None:
        return redirect(url_for("security.index", next=_next()))
    form = SecondFactorForm()
    status = 200
    if form.validate_on_submit():
        try:
            codes = account.turn_on_two_factor(user, form.code.data, client_ip=client_address())
        except account.AccountChangeRefused as exc:
            db.session.rollback()
            form.code.errors.append(exc.fields["code"])
            status = 422
        else:
            commit()
            note_second_factor()
            return _no_store(
                render_template(
                    "auth/recovery_codes.html", codes=codes, first_time=True, next_url=_next()
                )
            )
    elif form.is_submitted():
        status = 400
    uri = two_factor.provisioning_uri(user, credential)
    page = render_template(
        "auth/two_factor_setup.html",
        form=form,
        qr_svg=two_factor.qr_code_svg(uri),
        secret=two_factor.grouped_secret(credential),
        issuer=two_factor.ISSUER,
        next_url=_next(),
    )
    return _no_store(page, status)


@bp.post("/security/two-factor/disable")
@gate(ACCOUNT)
def disable_two_factor():
    return _with_code(
        lambda user, code: account.turn_off_two_factor(user, code, client_ip=client_address()),
        done=gettext("Two-factor sign-in is off."),
    )


@bp.post("/security/recovery-codes")
@gate(ACCOUNT)
def regenerate_recovery_codes():
    return _with_code(
        lambda user, code: account.new_recovery_codes(user, code, client_ip=client_address()),
        codes_page=True,
    )


def _with_code(change, *, done: str | None = None, codes_page: bool = False):
    """Run ``change`` (which checks a current code) and answer the security page."""
    form = SecondFactorForm()
    if not form.validate_on_submit():
        flash(gettext("Enter a code from your authenticator app."), "error")
        return redirect(url_for("security.index"))
    try:
        result = change(_me(), form.code.data)
    except account.AccountChangeRefused as exc:
        commit()  # a wrong code counts towards the lockout
        flash(exc.fields["code"], "error")
        return redirect(url_for("security.index"))
    commit()
    if codes_page:
        return _no_store(render_template("auth/recovery_codes.html", codes=result))
    flash(done, "info")
    return redirect(url_for("security.index"))


@bp.post("/security/sign-out-everywhere")
@gate(ACCOUNT)
def sign_out_all():
    sign_out_everywhere(_me())
    flash(gettext("You are signed out everywhere."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@gate(ACCOUNT)
def change_password():
    form = PasswordChangeForm()
    status = 200
    if form.validate_on_submit():
        user = _me()
        try:
            account.change_password(
                user,
                form.current_password.data,
                form.new_password.data,
                client_ip=client_address(),
            )
        except account.AccountChangeRefused as exc:
            commit()  # a wrong current password counts towards the lockout
            for field, message in exc.fields.items():
                getattr(form, field).errors.append(message)
            status = 422
        else:
            restart_session_after(user)
            flash(
                gettext("Your password is changed. Every other session has been signed out."),
                "info",
            )
            return redirect(url_for("security.index"))
    elif form.is_submitted():
        status = 400
    return render_template("auth/password.html", form=form), status
