"""A customer's message, once committed, is read for its language in the background."""

from __future__ import annotations

from app.conversations.events import MessageCreated
from app.events import listens_to
from app.jobs.queues import enqueue

DETECT_JOB = "app.languages.jobs.detect_message_language"


@listens_to(MessageCreated)
def read_customer_language(event: MessageCreated) -> None:
    """Queue :func:`app.languages.jobs.detect_message_language` for an inbound message.

    Every channel's customer message (WhatsApp, e-mail, SMS) is recorded by
    ``record_inbound``, which publishes this event with ``direction="inbound"``.
    """
    if event.direction == "inbound":
        enqueue(DETECT_JOB, str(event.message_id))
