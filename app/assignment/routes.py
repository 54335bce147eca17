"""Admin page of auto-assignment rules: one form per channel, a row per thread type."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.assignment.admin import ChannelNotFound, choices, rule_cards, save_rules, team_rows
from app.assignment.rules import InvalidRules, parse_rules_text
from app.assignment.rules_form import document_from_form, form_from_document, form_from_submission
from app.auth.decorators import role_required
from app.models.enums import Role
from app.transactions import commit

bp = Blueprint("assignment_admin", __name__, url_prefix="/admin/assignment")


def _page(status: int = 200, **submitted):
    return (
        render_template(
            "assignment/index.html",
            cards=rule_cards(**submitted),
            teams=team_rows(),
            choices=choices(),
        ),
        status,
    )


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    return _page()


@bp.post("/<channel_id>")
@role_required(Role.ADMIN)
def save(channel_id: str):
    if "rules" in request.form:
        # The whole document as JSON, as scripts and older clients post it.
        form = None
        try:
            document = parse_rules_text(request.form["rules"])
            form = form_from_document(document if isinstance(document, dict) else {})
        except InvalidRules as exc:
            return _page(422, submitted_channel_id=channel_id, errors=exc.fields)
    else:
        form = form_from_submission(request.form)
        document = document_from_form(form)
    try:
        channel = save_rules(channel_id, document)
    except ChannelNotFound:
        abort(404)
    except InvalidRules as exc:
        return _page(422, submitted_channel_id=channel_id, submitted_form=form, errors=exc.fields)
    commit()
    flash(_("Assignment rules of %(channel)s saved.", channel=channel.channel_name), "info")
    return redirect(url_for("assignment_admin.index") + f"#channel-{channel.id}", 303)
