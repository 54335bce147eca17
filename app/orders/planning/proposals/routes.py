"""Proposed plans on the board: ask for one, watch it being made, accept it."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

from app.orders.mobile.services import local_today
from app.orders.planning.access import planners_only
from app.orders.planning.board import this_monday, week_asked, week_board, week_key
from app.orders.planning.proposals.accepting import accept_visits, open_visits
from app.orders.planning.proposals.forms import parse_accept, parse_proposal_request
from app.orders.planning.proposals.making import (
    ask_again,
    find_proposal,
    proposal_days,
    request_proposal,
)
from app.orders.planning.proposals.view import proposal_view
from app.platform.transactions import commit

bp = Blueprint("proposals", __name__, url_prefix="/planning/proposals")


def _proposal(proposal_id: str):
    try:
        found = find_proposal(uuid.UUID(proposal_id))
    except ValueError:
        found = None
    if found is None:
        abort(404, gettext("There is no such proposal."))
    return found


def _board(proposal, status=303):
    week = week_key(this_monday(proposal.first_day))
    return redirect(url_for("planning.board", week=week, proposal=proposal.id), status)


@bp.post("/")
@planners_only
def ask():
    asked, errors = parse_proposal_request(request.form, local_today())
    if errors:
        # The board again, the form showing what it refused.
        monday = week_asked(request.form.get("week"), local_today())[0]
        page = render_template(
            "planning/board.html",
            board=week_board(monday),
            today=local_today(),
            proposal=None,
            proposal_days=proposal_days(monday, local_today()),
            proposal_errors=errors,
            proposal_form=request.form,
        )
        return page, 422
    proposal = request_proposal(asked.first, asked.last, asked.free_planned, current_user)
    commit()
    return _board(proposal)


@bp.get("/<proposal_id>/progress")
@planners_only
def progress(proposal_id):
    proposal = _proposal(proposal_id)
    view = proposal_view(proposal)
    if not view.working:
        # Made (or failed): the board again, with the ghost cards or the error.
        week = week_key(this_monday(proposal.first_day))
        target = url_for("planning.board", week=week, proposal=proposal.id)
        return "", 204, {"HX-Redirect": target}
    return render_template("planning/_proposal_progress.html", proposal=view)


@bp.post("/<proposal_id>/again")
@planners_only
def again(proposal_id):
    proposal = _proposal(proposal_id)
    if proposal_view(proposal).stuck:
        ask_again(proposal)
        commit()
    return _board(proposal)


@bp.post("/<proposal_id>/accept")
@planners_only
def accept(proposal_id):
    proposal = _proposal(proposal_id)
    asked, errors = parse_accept(request.form)
    if errors:
        field, message = next(iter(errors.items()))
        abort(400, f"{field}: {message}")
    if proposal.status != "ready":
        flash(gettext("This proposal is not ready yet."), "error")
        return _board(proposal)
    chosen = open_visits(proposal, asked.day, asked.visit_id)
    outcome = accept_visits(chosen, current_user, local_today())
    if outcome.saved:
        flash(
            ngettext(
                "%(num)d visit planned from the proposal.",
                "%(num)d visits planned from the proposal.",
                len(outcome.saved),
            ),
            "info",
        )
    for number, reason in outcome.refused:
        flash(gettext("%(order)s not planned: %(reason)s", order=number, reason=reason), "error")
    if not chosen:
        flash(gettext("Nothing left to accept here: it was decided already."), "info")
    return _board(proposal)
