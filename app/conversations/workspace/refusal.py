"""The page for a thread the viewer may not open: whose it is, and the way back.

A bare "403 Forbidden" leaves an agent who followed a colleague's link stuck;
this says which team and person have the conversation and links to the inbox.
API clients and JSON requests get the usual JSON error.
"""

from __future__ import annotations

from flask import Response, abort, make_response, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.conversations.workspace.services import AccessDenied, ThreadNotFound, load_thread
from app.platform.auth.decorators import STAFF_DESK_ROLES
from app.platform.json_api.errors import json_error, wants_json
from app.platform.models import CommunicationThread


def thread_or_refuse(thread_id: str | None) -> CommunicationThread:
    """The thread for the signed-in user, for every thread route: 404 when there is
    no such thread, and the refusal (page or JSON 403) when it is not theirs."""
    try:
        return load_thread(thread_id or "", current_user)
    except ThreadNotFound:
        abort(404, _("There is no such conversation."))
    except AccessDenied as denied:
        abort(refusal_response(denied))


def refusal_response(denied: AccessDenied) -> Response:
    if wants_json():
        return json_error(403, "forbidden", denied.owner or _("You may not open this thread."))
    page = render_template(
        "errors/error.html",
        code=403,
        title=_("This conversation is not yours to open"),
        message=_(
            "%(owner)s Ask them, your team lead or a manager if you need it.", owner=denied.owner
        ),
        **_way_back(),
    )
    return make_response(page, 403)


def _way_back() -> dict[str, str]:
    # Technicians work from their visits page, not the inbox.
    if current_user.role in STAFF_DESK_ROLES:
        return {"back_url": url_for("inbox.index"), "back_label": _("Back to the inbox")}
    return {"back_url": url_for("auth.root"), "back_label": _("Back to your start page")}
