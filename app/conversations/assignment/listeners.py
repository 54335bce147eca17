"""Routing new conversations: a customer's first message gets an assignee once stored."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from app.conversations.assignment.services import assign_thread
from app.conversations.assignment.suggestions import (
    RoutingSuggestion,
    note_rules_choice,
    route_by_suggestion,
    suggest_team,
)
from app.conversations.assignment.suggestions.classifier import trained
from app.conversations.core.events import ThreadOpened
from app.platform.events import listens_to
from app.platform.extensions import db
from app.platform.models import CommunicationChannel, CommunicationThread
from app.platform.transactions import commit

log = logging.getLogger(__name__)


@listens_to(ThreadOpened)
def route_new_conversation(event: ThreadOpened) -> None:
    """The message flow: the channel's rules pick a team and an agent, unless
    auto-routing is on and the team suggestion is sure enough."""
    if not event.needs_routing or not _anything_routes(event):
        return
    # Someone may have taken it between the commit and now: asked of the locked row.
    # The thread itself is still loaded from the transaction that opened it
    # (app.platform.transactions), so only the lock and this one column are read.
    taken = db.session.execute(_LOCK_THREAD, {"thread_id": event.thread_id}).one_or_none()
    if taken is None or taken.assigned_to_user_id is not None:
        db.session.rollback()
        return
    thread = db.session.get(CommunicationThread, event.thread_id)
    suggestion = _suggestion(thread)
    if suggestion is None or not route_by_suggestion(thread, suggestion):
        assign_thread(thread)
        if suggestion is not None:
            note_rules_choice(suggestion, thread)
    commit()


def _anything_routes(event: ThreadOpened) -> bool:
    """Whether a rule of the channel or a trained team suggestion may place the
    conversation. With neither, routing would change nothing, and its lock and
    commit were a transaction of their own for every first message."""
    if trained():
        return True
    # Both still loaded from the transaction that opened the thread: no read.
    thread = db.session.get(CommunicationThread, event.thread_id)
    if thread is None or thread.channel_id is None:
        return False
    channel = db.session.get(CommunicationChannel, thread.channel_id)
    return channel is not None and bool(channel.auto_assignment_rules)


THREADS = CommunicationThread.__table__
_LOCK_THREAD = (
    sa.select(THREADS.c.assigned_to_user_id)
    .where(THREADS.c.id == sa.bindparam("thread_id"))
    .with_for_update()
)


def _suggestion(thread: CommunicationThread) -> RoutingSuggestion | None:
    """The team suggestion, made in a savepoint: a model that fails must not keep the
    rules from routing the conversation. None at once while no model was trained
    (the savepoint is two round trips for every new conversation)."""
    if not trained():
        return None
    try:
        with db.session.begin_nested():
            return suggest_team(thread)
    except Exception:  # a broken model or a bad row: logged, and the rules route it
        log.exception("no team suggestion for conversation %s", thread.id)
        return None
