"""Suggested replies react to the conversation's events, after the commit.

* A customer's message: its suggestions are computed by a job (ids only), so
  they are ready before anyone opens the thread. Inside a batch job the jobs
  are handed to Redis together (:mod:`app.coalescing`).
* An agent's reply: what it did with the suggestions is decided (used, edited,
  ignored) and the ranking's prior learns from it.
* A conversation resolved or closed, or rated: its replies are harvested (or,
  rated 1–2, removed again) by a job.
"""

from __future__ import annotations

from app.coalescing import hold
from app.conversations.events import MessageCreated, ThreadChanged
from app.events import listens_to
from app.extensions import db
from app.jobs.queues import enqueue_many
from app.models import CommunicationMessage, CommunicationThread
from app.models.enums import MessageType
from app.suggestions.compute import COMPUTE_JOB, enqueue_compute
from app.suggestions.harvest import ENDED, enqueue_harvest
from app.suggestions.outcomes import record_outcome
from app.transactions import commit

# What may end a conversation, or change how it ended.
HARVEST_REASONS = frozenset({"edit", "csat", "merged"})


def _enqueue_computes(message_ids: list[str]) -> None:
    enqueue_many(COMPUTE_JOB, [(message_id,) for message_id in message_ids])


@listens_to(MessageCreated)
def suggest_for_customer_message(event: MessageCreated) -> None:
    if event.direction != "inbound" or event.message_type != MessageType.INCOMING.value:
        return
    if not hold("suggestions", _enqueue_computes, str(event.message_id)):
        enqueue_compute(event.message_id)


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
