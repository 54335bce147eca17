"""Admin page of inbound webhook events: what arrived, what failed, re-run."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.platform.auth.decorators import role_required
from app.platform.extensions import db
from app.platform.models import InboundWebhookEvent
from app.platform.models.enums import ProcessingState, Role
from app.platform.transactions import commit
from app.platform.webhooks.event_log import list_events, pretty_body, rerun, sources, state_counts

bp = Blueprint("webhook_events", __name__, url_prefix="/admin/events")


def _event(event_id: uuid.UUID) -> InboundWebhookEvent:
    return db.get_or_404(InboundWebhookEvent, event_id, description=_("There is no such event."))


@bp.get("/")
@role_required(Role.ADMIN)
def index():
    source = request.args.get("source") or None
    state = request.args.get("state") or None
    if state and state not in ProcessingState.values():
        abort(400, _("Unknown state %(state)s.", state=repr(state)))
    events, next_before = list_events(source, state, request.args.get("before"))
    context = dict(
        events=events,
        next_before=next_before,
        source=source,
        state=state,
        sources=sources(),
        states=ProcessingState.values(),
        counts=state_counts(),
    )
    if request.htmx:
        return render_template("webhooks/_events.html", **context)
    return render_template("webhooks/index.html", **context)


@bp.get("/<uuid:event_id>")
@role_required(Role.ADMIN)
def show(event_id):
    event = _event(event_id)
    return render_template("webhooks/show.html", event=event, body=pretty_body(event))


@bp.post("/<uuid:event_id>/rerun")
@role_required(Role.ADMIN)
def rerun_event(event_id):
    event = _event(event_id)
    rerun(event)
    commit()
    flash(_("The event is queued to be processed again."), "info")
    return redirect(url_for("webhook_events.show", event_id=event.id), 303)
