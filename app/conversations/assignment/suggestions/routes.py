"""The team suggestion on a conversation's page, and the agent's one click to follow it.

The thread page loads the panel in its own request (htmx, once the header is on
screen), so the conversation page itself knows nothing of suggestions.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.conversations.assignment.suggestions.suggesting import (
    NothingToFollow,
    confidence_text,
    open_suggestion,
    send_to_suggested_team,
)
from app.conversations.inbox.access import can_access_thread
from app.conversations.workspace.refusal import thread_or_refuse
from app.platform.auth.decorators import STAFF_DESK_ROLES, role_required
from app.platform.transactions import commit

bp = Blueprint("team_suggestion", __name__)


# The desk routes conversations; technicians see only their own orders' (and never route).
@bp.get("/threads/<thread_id>/team-suggestion")
@role_required(*STAFF_DESK_ROLES)
def panel(thread_id):
    thread = thread_or_refuse(thread_id)
    suggestion = open_suggestion(thread)
    if suggestion is None:
        return ""  # htmx swaps the empty slot out
    return render_template(
        "assignment/_suggestion.html",
        thread=thread,
        suggestion=suggestion,
        confidence=confidence_text(suggestion.confidence),
    )


@bp.post("/threads/<thread_id>/team-suggestion")
@role_required(*STAFF_DESK_ROLES)
def follow(thread_id):
    thread = thread_or_refuse(thread_id)
    try:
        team = send_to_suggested_team(thread, current_user)
    except NothingToFollow:
        flash(_("This team suggestion no longer applies: the conversation was moved."), "info")
    else:
        commit()
        flash(_("Sent to %(team)s.", team=team.name), "info")
    if not can_access_thread(current_user, thread):
        # Now another team's conversation: back to the agent's own inbox.
        return redirect(url_for("inbox.index"), 303)
    return redirect(url_for("threads.show", thread_id=thread.id), 303)
