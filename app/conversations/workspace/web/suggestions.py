"""The composer's suggested replies: the row of chips, and noting a pick.

The chips come with the composer once ranked; this partial is what the composer
fetches when they are not (a customer's message nobody has looked at yet), and
what an open thread fetches when the customer writes again, so only the row is
swapped and what the agent typed stays. Fetching it ranks the latest customer
message's suggestions if nobody has (``rank_latest``). A pick only puts the text
into the reply box (static/js/suggestions.js); nothing is ever sent from here.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from app.conversations.channels.whatsapp.window import service_window
from app.conversations.reply_suggestions.compute import rank_latest
from app.conversations.reply_suggestions.offer import offered_suggestions, shows_suggestions
from app.conversations.reply_suggestions.outcomes import record_pick
from app.conversations.workspace.refusal import thread_or_refuse
from app.conversations.workspace.services import reachable_channels
from app.platform.auth.decorators import login_required
from app.platform.models.enums import ChannelType
from app.platform.transactions import commit

bp = Blueprint("suggestions", __name__)


@bp.get("/threads/<thread_id>/suggestions")
@login_required
def row(thread_id):
    """The chips for the composer's selected channel (``channel_id``), as it would show them."""
    thread = thread_or_refuse(thread_id)
    channels = reachable_channels(thread)
    wanted = request.args.get("channel_id") or ""
    channel = next((c for c in channels if str(c.id) == wanted), None) or (
        channels[0] if channels else None
    )
    closed = (
        channel is not None
        and channel.channel_type == ChannelType.WHATSAPP_BUSINESS
        and not service_window(thread).is_open
    )
    if shows_suggestions(channel, current_user):
        rank_latest(thread)  # nothing to do once ranked (one indexed read)
    suggestions = offered_suggestions(thread, channel, current_user, window_closed=closed)
    return render_template("threads/_suggestions.html", thread=thread, suggestions=suggestions)


@bp.post("/threads/<thread_id>/suggestions/<suggestion_id>/pick")
@login_required
def pick(thread_id, suggestion_id):
    """The agent put a suggestion into the reply box: noted, for what the reply then does."""
    thread = thread_or_refuse(thread_id)
    try:
        ident = uuid.UUID(suggestion_id)
    except ValueError:
        abort(404)
    if not record_pick(thread, ident, current_user):
        abort(404)
    commit()
    return "", 204
