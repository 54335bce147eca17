"""Live updates: browsers showing a conversation hear of its changes after the commit."""

from __future__ import annotations

import uuid

from app.conversations.core.events import MessageCreated, ThreadChanged
from app.conversations.inbox.view_counts import inbox_changed
from app.conversations.workspace.presenters import announce_message, announce_thread
from app.platform.events import listens_to
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread


# Plain gets: the committing transaction's rows are still loaded (app.platform.transactions),
# so these read the identity map instead of the database.
def _thread(thread_id: uuid.UUID) -> CommunicationThread | None:
    return db.session.get(CommunicationThread, thread_id)


# Registered before the announcements below, so the saved-view counts are
# stale before any browser hears of the change and asks for its list again.
@listens_to(MessageCreated, ThreadChanged)
def recount_saved_views(event: MessageCreated | ThreadChanged) -> None:
    # A tick changes no count; a thread changed by a new message was counted
    # stale already by that message's MessageCreated, published (and so
    # dispatched) before it in the same commit: one Redis round trip saved.
    if getattr(event, "reason", None) not in ("delivery", "message"):
        inbox_changed()


@listens_to(MessageCreated)
def announce_new_message(event: MessageCreated) -> None:
    message = db.session.get(CommunicationMessage, event.message_id)
    if message is not None:
        announce_message(message)


@listens_to(ThreadChanged)
def announce_changed_thread(event: ThreadChanged) -> None:
    thread = _thread(event.thread_id)
    if thread is not None:
        announce_thread(thread, event.reason, **event.details)
