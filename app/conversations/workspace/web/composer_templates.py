"""The composer's template helpers: the live preview while variables are typed, and
the "/" list of canned responses (``static/js/canned.js``).

Both read only; sending goes through ``threads.reply`` like every reply.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from app.conversations.languages import customer_language
from app.conversations.message_templates.services import get_template, templates_for_channel
from app.conversations.workspace.refusal import thread_or_refuse
from app.conversations.workspace.services import reachable_channels
from app.conversations.workspace.template_choice import (
    canned_items,
    composer_state,
    usable_templates,
)
from app.platform.auth.decorators import login_required

bp = Blueprint("composer_templates", __name__)


def _channel(thread, channel_id: str | None):
    channels = reachable_channels(thread)
    chosen = next((c for c in channels if str(c.id) == str(channel_id or "")), None)
    return chosen or (channels[0] if channels else None)


@bp.get("/threads/<thread_id>/template-preview")
@login_required
def preview(thread_id):
    """The chosen template filled in with the typed values; errors beside each input."""
    thread = thread_or_refuse(thread_id)
    template = get_template(request.args.get("template_id") or "")
    if template is None or not template.is_active:
        abort(404, _("There is no such template."))
    state = composer_state(template, thread, current_user, request.args)
    return render_template("threads/_template_preview.html", state=state, oob=True)


@bp.get("/threads/<thread_id>/canned")
@login_required
def canned(thread_id):
    """Templates usable on the selected channel, for the "/" list: those in the
    customer's language first, then most used first."""
    thread = thread_or_refuse(thread_id)
    channel = _channel(thread, request.args.get("channel_id"))
    if channel is None:
        return jsonify(data=[])
    templates = templates_for_channel(
        channel.channel_type.value, language=customer_language(thread.contact)
    )
    usable = usable_templates(thread, channel, templates)
    return jsonify(data=canned_items(thread, channel, usable.templates, current_user))
