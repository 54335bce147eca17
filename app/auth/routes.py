"""Sign-in and sign-out pages."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, logout_user

from app.auth.forms import LoginForm
from app.auth.services import home_endpoint_for, sign_in
from app.auth.signin import finish_sign_in

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint_for(current_user)))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        result = sign_in(form.email.data, form.password.data, request.remote_addr or "unknown")
        if result.user is not None:
            return finish_sign_in(
                result.user,
                remember=form.remember.data,
                method="password",
                next_url=request.args.get("next"),
            )
        form.password.errors.append(result.error)
        status = 429 if result.retry_after else 200
    elif form.is_submitted():
        status = 400
    response = render_template("auth/login.html", form=form), status
    return response


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/")
def root():
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint_for(current_user)))
    return redirect(url_for("auth.login"))
