"""Live updates: browsers showing a conversation hear of its changes after the commit."""

from __future__ import annotations

import uuid

import sqlalchemy.orm as so

from app.conversations.events import MessageCreated, ThreadChanged, ThreadOpened
from app.events import listens_to
from app.extensions import db
from app.models import CommunicationMessage, CommunicationThread
from app.threads.presenters import announce_message, announce_thread


def _thread(thread_id: uuid.UUID) -> CommunicationThread | None:
    return db.session.get(
        CommunicationThread, thread_id, options=[so.joinedload(CommunicationThread.assigned_to)]
    )


@listens_to(MessageCreated)
def announce_new_message(event: MessageCreated) -> None:
    message = db.session.get(
        CommunicationMessage,
        event.message_id,
        options=[
            so.joinedload(CommunicationMessage.thread),
            so.joinedload(CommunicationMessage.channel),
            so.joinedload(CommunicationMessage.sender_user),
            so.joinedload(CommunicationMessage.sender_contact),
        ],
    )
    if message is not None:
        announce_message(message)


@listens_to(ThreadChanged)
def announce_changed_thread(event: ThreadChanged) -> None:
    thread = _thread(event.thread_id)
    if thread is not None:
        announce_thread(thread, event.reason, **event.details)


@listens_to(ThreadOpened)
def announce_opened_thread(event: ThreadOpened) -> None:
    thread = _thread(event.thread_id)
    if thread is not None:
        announce_thread(thread, "created")
