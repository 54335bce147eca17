"""What the conversation list shows: one page of rows, unread marks and tab counts.

Built here once for the two pages that show the list: ``/inbox`` and, in the
desktop workspace, ``/threads/<id>`` with the conversation open beside it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

from app.database import utcnow
from app.inbox.counts import cached_tab_counts
from app.inbox.services import FILTERS, InboxQuery, filter_choices, list_threads, sla_label
from app.models import User

FILTER_LABELS = {
    "all": _l("All"),
    "email": _l("E-mail"),
    "whatsapp": "WhatsApp",
    "sms": "SMS",
    "tasks": _l("Tasks"),
    "overdue": _l("Overdue"),
    "mine": _l("Mine"),
    "unassigned": _l("Unassigned"),
}


def inbox_view(
    viewer: User, args: Mapping[str, str], *, open_thread_id: uuid.UUID | None = None
) -> dict:
    """The list's template context for ``viewer`` (raises ``InvalidQuery`` on bad args)."""
    query = InboxQuery.from_args(args)
    cursor = args.get("cursor") or None
    page = list_threads(
        viewer, query, cursor=cursor, limit=current_app.config["INBOX_PAGE_SIZE"]
    )
    now = utcnow()
    return dict(
        rows=[(thread, sla_label(thread, now)) for thread in page.threads],
        unread_ids=page.unread_ids,
        next_cursor=page.next_cursor,
        query=query,
        filters=[(name, FILTER_LABELS[name]) for name in FILTERS],
        # Appending rows ("load more") leaves the tabs as they were: no counts.
        counts={} if cursor else cached_tab_counts(viewer),
        choices=filter_choices(viewer),
        appending=bool(cursor),
        open_thread_id=open_thread_id,
        # Live updates refresh the list from here, whichever page it sits on.
        inbox_url=url_for("inbox.index", **query.as_args()),
    )
