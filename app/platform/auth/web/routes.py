"""Sign-in (with its second step) and sign-out pages."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from app.platform.auth.decorators import gate
from app.platform.auth.forms import LoginForm, SecondFactorForm
from app.platform.auth.services import SignInResult, check_second_factor, home_endpoint_for, sign_in
from app.platform.auth.signin import (
    abandon_pending_sign_in,
    client_address,
    finish_pending_sign_in,
    finish_sign_in,
    pending_sign_in,
    pending_user_id,
    sign_out_everywhere,
)
from app.platform.security.access import ACCOUNT, SESSION_CSRF, declare, public

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@declare(public("the sign-in page", csrf=SESSION_CSRF))
def login():
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint_for(current_user)))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        result = sign_in(form.email.data, form.password.data, client_address())
        if result.user is not None:
            return finish_sign_in(
                result.user,
                remember=form.remember.data,
                method="password",
                next_url=request.args.get("next"),
            )
        form.password.errors.append(result.error)
        if result.retry_after:
            return _throttled(render_template("auth/login.html", form=form), result)
    elif form.is_submitted():
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/login/verify", methods=["GET", "POST"])
@declare(public("the second step of a sign-in held in the session", csrf=SESSION_CSRF))
def verify():
    """The second step: a code from the authenticator app, or a recovery code."""
    pending = pending_sign_in()
    if pending is None:
        abandon_pending_sign_in()
        flash(gettext("Sign in again: the sign-in expired."), "info")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    status = 200
    if form.validate_on_submit():
        result = check_second_factor(pending_user_id(pending), form.code.data, client_address())
        if result.user is not None:
            return finish_pending_sign_in(result.user, pending)
        if result.locked:
            abandon_pending_sign_in()
            flash(result.error, "error")
            return redirect(url_for("auth.login"))
        form.code.errors.append(result.error)
        if result.retry_after:
            return _throttled(render_template("auth/verify.html", form=form), result)
    elif form.is_submitted():
        status = 400
    return render_template("auth/verify.html", form=form), status


def _throttled(page: str, result: SignInResult):
    """429 with ``Retry-After``: the seconds until the address throttle lets a try in."""
    return page, 429, {"Retry-After": str(result.retry_after)}


@bp.route("/logout", methods=["POST"])
@gate(ACCOUNT)
def logout():
    # Signing out ends every session of the user, not only this browser's:
    # a copy of a cookie (another device, a stolen one) must not outlive it.
    sign_out_everywhere(current_user._get_current_object())
    flash(gettext("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/")
@declare(public("sends a visitor to the sign-in page or their home page"))
def root():
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint_for(current_user)))
    return redirect(url_for("auth.login"))
