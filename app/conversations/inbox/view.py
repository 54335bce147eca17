"""What the conversation list shows: one page of rows, unread marks and tab counts.

Built here once for the two pages that show the list: ``/inbox`` and, in the
desktop workspace, ``/threads/<id>`` with the conversation open beside it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

from app.conversations.inbox.counts import cached_tab_counts, count_label, recount_tabs
from app.conversations.inbox.saved_views import can_edit, visibility_choices, visible_views
from app.conversations.inbox.services import (
    FILTERS,
    INBOX_ROWS,
    InboxQuery,
    filter_choices,
    list_threads,
    sla_label,
)
from app.conversations.inbox.view_counts import cached_view_counts, view_counts
from app.conversations.order_hooks import orders_matching
from app.platform.database import utcnow
from app.platform.models import SavedView, User

_ANY_ID = "00000000-0000-0000-0000-000000000000"
FILTER_LABELS = {
    "all": _l("All"),
    "email": _l("E-mail"),
    "whatsapp": "WhatsApp",
    "sms": "SMS",
    "tasks": _l("Tasks"),
    "overdue": _l("Overdue"),
    "mine": _l("Mine"),
    "unassigned": _l("Unassigned"),
    "snoozed": _l("Snoozed"),
}


@dataclass(frozen=True)
class SidebarView:
    """A saved view as the sidebar shows it: with its count, and whether it is on screen."""

    view: SavedView
    count: str | None  # as shown: "12", "999+"
    active: bool
    editable: bool


def inbox_view(
    viewer: User, args: Mapping[str, str], *, open_thread_id: uuid.UUID | None = None
) -> dict:
    """The list's template context for ``viewer`` (raises ``InvalidQuery`` on bad args)."""
    query = InboxQuery.from_args(args)
    cursor = args.get("cursor") or None
    page = list_threads(
        viewer, query, cursor=cursor, limit=current_app.config["INBOX_PAGE_SIZE"], load=INBOX_ROWS
    )
    now = utcnow()
    return dict(
        saved_views=[] if cursor else sidebar_views(viewer, query.as_args()),
        view_choices=[] if cursor else visibility_choices(viewer),
        rows=[(thread, sla_label(thread, now)) for thread in page.threads],
        unread_ids=page.unread_ids,
        next_cursor=page.next_cursor,
        query=query,
        filters=[(name, FILTER_LABELS[name]) for name in FILTERS],
        # Appending rows ("load more") leaves the tabs as they were: no counts.
        counts={} if cursor else {
            name: count_label(count) for name, count in cached_tab_counts(viewer).items()
        },
        choices=filter_choices(viewer),
        appending=bool(cursor),
        open_thread_id=open_thread_id,
        # The desk's search for the same words: "2 orders match", linked to /orders?q=….
        orders_matching=orders_matching(query.q) if query.q and not cursor else 0,
        thread_url_of=thread_links(),
        # Live updates refresh the list from here, whichever page it sits on.
        inbox_url=url_for("inbox.index", **query.as_args()),
    )


def thread_links() -> Callable[[uuid.UUID], str]:
    """Each row's link to its thread: ``url_for`` once, the id put in per row.

    ``url_for`` costs ~20 µs (the URL map is searched and the rule built each time),
    and a page has 50 rows; a thread id needs no quoting in a path.
    """
    head, tail = url_for("threads.show", thread_id=_ANY_ID).split(_ANY_ID)
    return lambda thread_id: f"{head}{thread_id}{tail}"


def sidebar_views(viewer: User, current_args: Mapping[str, str]) -> list[SidebarView]:
    """The views ``viewer`` sees, counted; the one matching the list on screen is active."""
    views = visible_views(viewer)
    counts = {key: count_label(count) for key, count in cached_view_counts(viewer, views).items()}
    return [
        SidebarView(
            view,
            counts.get(str(view.id)),
            active=view.query == dict(current_args),
            editable=can_edit(viewer, view),
        )
        for view in views
    ]


def counts_after_change(viewer: User) -> dict[str, dict[str, str]]:
    """The tab counts (counted afresh) and saved-view counts as the list shows them.

    Sent with the answer to the viewer's own change (the bulk bar), so the
    counts move with the action instead of on a later refresh.
    """
    views = visible_views(viewer)
    return {
        "tabs": {name: count_label(count) for name, count in recount_tabs(viewer).items()},
        "views": {
            # Counted afresh, like the tabs: the cache moves only once the change's
            # after-commit listener has run, which may be after this answer.
            key: count_label(count) for key, count in view_counts(viewer, views).items()
        },
    }
