"""``/attachments/<message id>/<n>``: a message's stored file, for people who may see the thread."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, send_file
from flask_babel import gettext as _
from flask_login import current_user

from app.conversations.attachments.lookups import find_message
from app.conversations.attachments.storage import stored_file
from app.conversations.inbox.access import can_access_thread
from app.platform.auth.decorators import login_required

bp = Blueprint("attachments", __name__)

# Shown in the page; anything else (PDFs, HEIC that browsers cannot show,
# office files) is offered as a download. SVG is never kept, so never inline.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})


@bp.get("/attachments/<uuid:message_id>/<int:index>")
@login_required
def download(message_id: uuid.UUID, index: int):
    message = find_message(message_id)
    if message is None or not can_access_thread(current_user, message.thread):
        # The same answer for "no such message" and "not yours": ids are not probed.
        abort(404, _("There is no such attachment."))
    entries = message.attachments or []
    entry = entries[index] if index < len(entries) else None
    path = stored_file(entry) if isinstance(entry, dict) else None
    if path is None:
        abort(404, _("This attachment is not stored (yet)."))
    mime = entry.get("mime_type") or "application/octet-stream"
    response = send_file(
        path,
        mimetype=mime,
        as_attachment=mime not in INLINE_TYPES,
        download_name=entry.get("filename") or path.name,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Customers' files are untrusted: even opened directly, nothing in them runs.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=0"
    return response
