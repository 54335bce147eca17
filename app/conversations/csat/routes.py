"""The public rating page a customer reaches from the e-mail: ``/csat/<token>``.

No sign-in: the signed token names the survey. The page is in Dutch unless the
browser prefers English (it is read by customers, not staff). Five big buttons
give the rating; after that an optional comment, and the rating may still be
changed for a week (:mod:`app.conversations.csat.answers`).
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import force_locale

from app.conversations.csat.answers import (
    RATINGS,
    WEB,
    AnswerRefused,
    can_change,
    record_answer,
)
from app.conversations.csat.answers import survey as find_survey
from app.conversations.csat.rating_form import RatingFormRefused, parse_rating_form
from app.conversations.csat.tokens import response_id_of
from app.platform.security.access import SESSION_CSRF, declare_blueprint, public
from app.platform.transactions import commit

bp = Blueprint("csat", __name__)
declare_blueprint(
    bp, public("the customer's rating link, a signed token in the URL", csrf=SESSION_CSRF)
)

PAGE_LANGUAGES = ("nl", "en")


def _page_language() -> str:
    return request.accept_languages.best_match(PAGE_LANGUAGES, default="nl") or "nl"


def _survey_or_404(token: str):
    response_id = response_id_of(token)
    response = find_survey(response_id) if response_id else None
    if response is None:
        abort(404)
    return response


@bp.get("/csat/<token>")
def rate(token: str):
    with force_locale(_page_language()):
        response = _survey_or_404(token)
        return _page(token, response)


@bp.post("/csat/<token>")
def answer(token: str):
    with force_locale(_page_language()):
        response = _survey_or_404(token)
        try:
            rating, comment = parse_rating_form(request.form)
        except RatingFormRefused as exc:
            return _page(token, response, errors=exc.fields, comment=exc.comment), 422
        try:
            record_answer(response, rating, comment, WEB)
        except AnswerRefused:
            return _page(token, response), 409
        commit()
        return _page(token, response, saved=True)


def _page(token: str, response, *, errors=None, comment=None, saved=False):
    return render_template(
        "csat/rate.html",
        token=token,
        response=response,
        open=can_change(response),
        errors=errors or {},
        comment=response.comment if comment is None else comment,
        saved=saved,
        ratings=list(RATINGS),
    )
