"""Admin page of auto-assignment rules: one form per channel, a row per thread type,
and the team suggestions' switch, threshold and "Train now"."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.conversations.assignment.rule_editing import (
    ChannelNotFound,
    choices,
    rule_cards,
    save_rules,
    team_rows,
)
from app.conversations.assignment.rules import InvalidRules, parse_rules_text
from app.conversations.assignment.rules_form import (
    document_from_form,
    form_from_document,
    form_from_submission,
)
from app.conversations.assignment.suggestions import (
    InvalidSettings,
    Settings,
    parse_threshold,
    routing_settings,
    save_settings,
)
from app.conversations.assignment.suggestions.oversight import suggestions_section
from app.platform.auth.decorators import role_required
from app.platform.jobs.queues import enqueue
from app.platform.models.enums import Role
from app.platform.transactions import commit

bp = Blueprint("assignment_admin", __name__, url_prefix="/admin/assignment")


def _page(status: int = 200, suggestions=None, **submitted):
    return (
        render_template(
            "assignment/index.html",
            cards=rule_cards(**submitted),
            teams=team_rows(),
            choices=choices(),
            suggestions=suggestions or suggestions_section(),
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


@bp.post("/suggestions")
@role_required(Role.ADMIN)
def save_suggestion_settings():
    auto_routing = request.form.get("auto_routing") in ("on", "1", "true")
    try:
        threshold = parse_threshold(request.form.get("threshold"))
    except InvalidSettings as exc:
        typed = Settings(auto_routing, routing_settings().threshold)
        section = suggestions_section(typed, exc.fields, request.form.get("threshold", ""))
        return _page(422, suggestions=section)
    save_settings(auto_routing, threshold, current_user.id)
    commit()
    flash(_("Team suggestion settings saved."), "info")
    return redirect(url_for("assignment_admin.index") + "#team-suggestions", 303)


@bp.post("/suggestions/train")
@role_required(Role.ADMIN)
def train_now():
    # On the bulk queue: a training run takes seconds to a minute, not a request's time.
    enqueue(
        "app.conversations.assignment.suggestions.training.retrain_routing_model",
        True,
        queue="bulk",
    )
    flash(_("Training started; the figures below are updated when it is done."), "info")
    return redirect(url_for("assignment_admin.index") + "#team-suggestions", 303)
