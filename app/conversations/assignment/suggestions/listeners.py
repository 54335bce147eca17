"""Settling a suggestion when a person moves or closes its conversation."""

from __future__ import annotations

from app.conversations.assignment.suggestions.outcomes import settle_after_edit
from app.conversations.core.events import ThreadAssigned, ThreadChanged
from app.platform.events import listens_to
from app.platform.extensions import db
from app.platform.transactions import commit


@listens_to(ThreadAssigned, ThreadChanged)
def settle_suggestion(event: ThreadAssigned | ThreadChanged) -> None:
    """A person's assignment, team move or status change may accept, change or ignore
    the conversation's suggestion. Rules and escalations moving it do not count."""
    if isinstance(event, ThreadChanged):
        if event.reason != "edit":
            return
        by_user_id = None
    elif event.by_user_id is None:
        return
    else:
        by_user_id = event.by_user_id
    if settle_after_edit(event.thread_id, by_user_id) is None:
        db.session.rollback()
        return
    commit()
