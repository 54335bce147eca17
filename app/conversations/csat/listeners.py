"""Queue the rating question once a resolved conversation is committed."""

from __future__ import annotations

from app.conversations.core import ThreadChanged
from app.conversations.csat.asking import already_decided, enqueue_ask, survey_due
from app.platform.events import listens_to
from app.platform.extensions import db
from app.platform.models import CommunicationThread


@listens_to(ThreadChanged)
def ask_when_resolved(event: ThreadChanged) -> None:
    """Any change that leaves a thread resolved (an edit, a bulk action) may be the
    resolution; the job's unique key makes the many events of one resolution ask once."""
    thread = db.session.get(CommunicationThread, event.thread_id)
    if thread is not None and survey_due(thread) and not already_decided(thread):
        enqueue_ask(thread.id)
