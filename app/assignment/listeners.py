"""Routing new conversations: a customer's first message gets an assignee once stored."""

from __future__ import annotations

from app.assignment.services import assign_thread
from app.conversations.events import ThreadOpened
from app.events import listens_to
from app.extensions import db
from app.models import CommunicationThread
from app.transactions import commit


@listens_to(ThreadOpened)
def route_new_conversation(event: ThreadOpened) -> None:
    """Seed 003's message flow: the channel's rules pick a team and an agent."""
    if not event.needs_routing:
        return
    thread = db.session.get(CommunicationThread, event.thread_id, with_for_update=True)
    # Someone may have taken it between the commit and now.
    if thread is None or thread.assigned_to_user_id is not None:
        db.session.rollback()
        return
    assign_thread(thread)
    commit()
