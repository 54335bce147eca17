"""The customer's page (``/t/<token>``, no sign-in) and the desk's panel for the link.

The page is the customer's, reached from any message about their order: in
their language (the contact's, or the one they switched to, kept in a cookie),
refreshing its status part by itself on the visit's day (htmx, or a meta
refresh without script). A wrong, revoked, expired or erased token gets the
one plain 404 page. Every answer under ``/t/`` is kept out of search engines,
caches and referrers, and one address may ask only so often (429).

From the page the customer moves their visit to another offered slot, until the
cut-off, or asks to be called back (:mod:`.moving`).

On the order page the desk (not technicians, not partners) sees the link and
can revoke it for a new one, after a confirm step.
"""

from __future__ import annotations

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.orders.core.customer_links import current_link, link_url, order_of_token, renew_link
from app.orders.core.services import find_order
from app.orders.customer_page.confirming import confirm_on_page
from app.orders.customer_page.moving import (
    MoveClosed,
    MoveRefused,
    already_there,
    appointment_words,
    ask_callback,
    movable_visit,
    move_options,
    move_visit,
    parse_callback,
)
from app.orders.customer_page.page import customer_language, customer_page
from app.orders.customer_page.photos import photo_section
from app.orders.customer_page.throttle import wait_seconds
from app.orders.mobile.services import local_today
from app.orders.planning.services import PlanChanged, PlanRefused, visit_of
from app.platform.auth.decorators import role_required
from app.platform.auth.signin import client_address
from app.platform.extensions import db
from app.platform.security.access import DESK, declare_blueprint, public
from app.platform.transactions import commit

bp = Blueprint("customer_page", __name__)
declare_blueprint(
    bp, public("the customer's personal link: a bearer token in the URL, rate-limited")
)
desk_bp = Blueprint("customer_links", __name__, url_prefix="/orders")

LANGUAGES = ("nl", "en")
LANGUAGE_COOKIE = "customer_page_language"
# A year: the customer's choice outlives the order's link.
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600
PRIVATE_HEADERS = {
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
desk_only = role_required(*DESK, refusal=_l("The customer's link is the desk's to manage."))


@bp.before_request
def refuse_when_busy():
    """429 with the busy page for an address past its allowance (the photos' routes too)."""
    wait = wait_seconds(client_address())
    if wait:
        with force_locale(_chosen_language() or _browser_language()):
            page = render_template("customer_page/busy.html")
        return page, 429, {"Retry-After": str(wait)}
    return None


@bp.after_request
def keep_private(response):
    response.headers.update(PRIVATE_HEADERS)
    return response


@bp.get("/t/<token>")
def show(token: str):
    """The page; only its status part when htmx refreshes it."""
    order = order_of_token(token)
    if order is None:
        return _unknown()
    language = page_language(order)
    with force_locale(language):
        page = customer_page(order, language)
        partial = request.headers.get("HX-Request") == "true"
        template = "customer_page/_status.html" if partial else "customer_page/show.html"
        body = render_template(
            template,
            page=page,
            token=token,
            languages=LANGUAGES,
            photos=photo_section(order),
            movable=movable_visit(order, local_today()) is not None,
        )
    return _remember_language(body)


@bp.post("/t/<token>/confirm")
def confirm(token: str):
    """ "Bevestigen": the customer will be home for tomorrow's visit. Back to the page,
    which thanks them (or, for a visit moved or begun meanwhile, shows it as it is)."""
    order = order_of_token(token)
    if order is None:
        return _unknown()
    confirm_on_page(order.id)
    return redirect(f"{url_for('.show', token=token)}#cp-confirm", 303)


def page_language(order) -> str:
    """The page's language: the one the customer switched to, else the contact's."""
    return _chosen_language() or customer_language(order)


@bp.get("/t/<token>/move")
def move(token: str):
    """The slots the customer may move their visit to, or the call-back form."""
    order = order_of_token(token)
    if order is None:
        return _unknown()
    return _move_page(order, token)


@bp.post("/t/<token>/move")
def move_to(token: str):
    """Move the visit to the chosen slot through the plan's own save."""
    order = order_of_token(token)
    if order is None:
        return _unknown()
    with force_locale(page_language(order)):
        try:
            visit = move_visit(order, request.form, local_today())
        except MoveRefused as exc:
            db.session.rollback()
            return _move_page(order, token, 400, problem=str(exc))
        except MoveClosed:
            db.session.rollback()
            return _move_page(order, token, 409, problem=_too_late())
        except (PlanChanged, PlanRefused):
            db.session.rollback()
            db.session.expire_all()
            visit = already_there(order, request.form)
            if visit is None:
                return _move_page(order, token, 409, problem=_taken())
        else:
            commit()
    return _moved_page(order, token, visit)


@bp.post("/t/<token>/call-back")
def call_back(token: str):
    """The customer asks the desk to call them back about their visit."""
    order = order_of_token(token)
    if order is None:
        return _unknown()
    with force_locale(page_language(order)):
        (times, note), errors = parse_callback(request.form)
        if errors:
            return _move_page(order, token, 422, errors=errors)
        ask_callback(order, times, note)
        commit()
        body = render_template("customer_page/called_back.html", token=token)
    return body


def _move_page(order, token: str, status: int = 200, problem=None, errors=None):
    language = page_language(order)
    with force_locale(language):
        db.session.expire_all()
        options = move_options(order, language, local_today())
        visit = visit_of(order)
        body = render_template(
            "customer_page/move.html",
            order=order,
            token=token,
            options=options,
            current=appointment_words(visit, language),
            problem=problem,
            errors=errors or {},
            form=request.form if request.method == "POST" else {},
        )
    return body, status


def _moved_page(order, token: str, visit):
    language = page_language(order)
    with force_locale(language):
        return render_template(
            "customer_page/moved.html",
            order=order,
            token=token,
            now=appointment_words(visit, language),
        )


def _too_late() -> str:
    return gettext(
        "Your appointment is too close to move here. Ask us to call you back and we will "
        "find a time together."
    )


def _taken() -> str:
    return gettext("That time has just been taken. Please choose another one.")


def _unknown():
    with force_locale(_chosen_language() or _browser_language()):
        return render_template("customer_page/unknown.html"), 404


def _chosen_language() -> str | None:
    """The language the customer switched to: now (``?lang=``) or before (the cookie)."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    kept = request.cookies.get(LANGUAGE_COOKIE)
    return kept if kept in LANGUAGES else None


def _browser_language() -> str:
    # No order, so no customer to ask: the browser's preference, Dutch by default.
    return request.accept_languages.best_match(LANGUAGES, default="nl") or "nl"


def _remember_language(body: str):
    response = make_response(body)
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            asked,
            max_age=LANGUAGE_COOKIE_SECONDS,
            path="/t/",
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    return response


@desk_bp.get("/<key>/customer-link")
@desk_only
def panel(key: str):
    """The order page's panel: the customer's link, and revoking it (confirm first)."""
    order = _order(key)
    return render_template(
        "customer_page/_desk_link.html",
        order=order,
        link=_url(order),
        confirming=request.args.get("confirm") == "1",
        renewed=False,
    )


@desk_bp.post("/<key>/customer-link")
@desk_only
def renew(key: str):
    """Revoke the customer's link (it opens nothing from now on) and make a new one."""
    order = _order(key)
    url = link_url(renew_link(order, current_user))
    commit()
    return render_template(
        "customer_page/_desk_link.html", order=order, link=url, confirming=False, renewed=True
    )


def _order(key: str):
    order = find_order(key)
    if order is None or order.is_test:
        abort(404)
    return order


def _url(order) -> str | None:
    link = current_link(order)
    return link_url(link) if link is not None else None
