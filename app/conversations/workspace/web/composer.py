"""The reply box's own requests: saving drafts as the agent types, and Undo send.

The composer and timeline they answer with are the thread page's
(:mod:`app.conversations.workspace.web.routes`); what Undo puts back is rebuilt in
:mod:`app.conversations.workspace.composer`.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.conversations.workspace.composer import undo_reply
from app.conversations.workspace.drafts import parse_draft, save_draft
from app.conversations.workspace.refusal import thread_or_refuse
from app.conversations.workspace.services import InvalidInput
from app.conversations.workspace.web.routes import (
    composer_context,
    composer_error,
    timeline_context,
    uuid_or_404,
)
from app.platform.auth.decorators import login_required
from app.platform.extensions import db
from app.platform.json_api.errors import json_error
from app.platform.transactions import commit

bp = Blueprint("composer", __name__)


@bp.post("/threads/<thread_id>/draft")
@login_required
def draft(thread_id):
    """Save what the user typed in the reply or note box (JSON or form: kind, content)."""
    thread = thread_or_refuse(thread_id)
    data = request.get_json(silent=True) if request.is_json else request.form.to_dict()
    try:
        kind, content = parse_draft(data if isinstance(data, dict) else {})
    except InvalidInput as exc:
        return json_error(422, "invalid_input", "The draft was not saved.", exc.fields)
    save_draft(current_user, thread, kind, content)
    commit()
    return {"saved": True, "kind": kind}


@bp.post("/threads/<thread_id>/messages/<message_id>/undo")
@login_required
def undo_send(thread_id, message_id):
    """Withdraw a held reply; the reply box gets back what the agent had typed."""
    thread = thread_or_refuse(thread_id)
    # The reply box's text as Undo was pressed (hx-include), kept with the reply.
    typed_since = request.form.get("content")
    undone = undo_reply(thread, current_user, uuid_or_404(message_id), typed_since)
    if undone is None:
        db.session.rollback()
        error = {"content": _("Too late to undo: the message is already being sent.")}
        response = composer_error(thread, {}, error, status=409)
        if request.htmx:  # and the timeline as it is now, without the Undo
            return response[0] + _timeline(thread), 409
        return response
    commit()
    if not request.htmx:
        return redirect(url_for("threads.show", thread_id=thread.id), 303)
    context = composer_context(thread, channel_id=undone.form["channel_id"], form=undone.form)
    composer_html = render_template(
        "threads/_composer.html",
        **context,
        undone_files=undone.files,
        kept_newer=undone.kept_newer,
    )
    return composer_html + _timeline(thread)


def _timeline(thread) -> str:
    return render_template("threads/_timeline.html", **timeline_context(thread), oob=True)
