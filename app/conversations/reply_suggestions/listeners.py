"""Suggested replies react to the conversation's events, after the commit.

* A customer's message is not ranked here: its suggestions are ranked when a
  composer first shows it (:func:`app.conversations.reply_suggestions.compute.rank_latest`).
* An agent's reply: what it did with the suggestions is decided (used, edited,
  ignored) and the ranking's prior learns from it.
* A conversation resolved or closed, or rated: its replies are harvested (or,
  rated 1–2, removed again) by a job.
"""

from __future__ import annotations

from app.conversations.core.events import MessageCreated, ThreadChanged
from app.conversations.reply_suggestions.harvest import ENDED, enqueue_harvest
from app.conversations.reply_suggestions.outcomes import record_outcome
from app.platform.events import listens_to
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread
from app.platform.models.enums import MessageType
from app.platform.transactions import commit

# What may end a conversation, or change how it ended.
HARVEST_REASONS = frozenset({"edit", "csat", "merged"})


@listens_to(MessageCreated)
def decide_outcome(event: MessageCreated) -> None:
    if event.direction != "outbound" or event.message_type != MessageType.OUTGOING.value:
        return
    reply = db.session.get(CommunicationMessage, event.message_id)
    if reply is not None and record_outcome(reply) is not None:
        commit()


@listens_to(ThreadChanged)
def harvest_when_ended(event: ThreadChanged) -> None:
    if event.reason not in HARVEST_REASONS:
        return
    thread = db.session.get(CommunicationThread, event.thread_id)
    if thread is not None and (thread.status in ENDED or event.reason == "csat"):
        enqueue_harvest(thread.id)
