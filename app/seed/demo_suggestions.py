"""The demo's suggested replies, made as the running app makes them.

In production a conversation's replies are harvested when it ends and the three
likely answers are ranked when a customer's message arrives, both by jobs. The
demo's rows are written directly, so no job ran: here the ended conversations are
harvested and every open conversation waiting on our answer gets its suggestions,
through the same two functions the jobs call.

It runs from ``flask seed demo`` (what ``make run`` does), not inside
``load_demo_data``: the suite loads the demo many times for pages that do not show
suggestions, and each set here is ranked in turn.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.conversations.reply_suggestions.compute import compute_suggestions
from app.conversations.reply_suggestions.harvest import ENDED, harvest_conversation
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread
from app.platform.models.enums import MessageType

# The demo's customers write Dutch, but for the one English household, whose
# messages say "en" already. Stated rather than detected: the detector's models
# take seconds to load and the demo's texts are ours.
DEMO_LANGUAGE = "nl"


def build_suggestions() -> dict:
    """Harvest the ended demo conversations, then rank the suggestions of the open ones."""
    harvested = 0
    ended = db.session.scalars(
        sa.select(CommunicationThread.id)
        .where(CommunicationThread.status.in_(ENDED))
        .order_by(CommunicationThread.created_at)
    ).all()
    for thread_id in ended:
        harvested += harvest_conversation(str(thread_id))

    sets = 0
    for message in _questions_waiting():
        if message.language is None:
            message.language = DEMO_LANGUAGE
        sets += compute_suggestions(str(message.id))
    return {"harvested_replies": harvested, "suggestion_sets": sets}


def _questions_waiting() -> list[CommunicationMessage]:
    """Each open conversation's latest message, where it is the customer's."""
    latest = (
        sa.select(
            CommunicationMessage.id,
            sa.func.row_number()
            .over(
                partition_by=CommunicationMessage.thread_id,
                order_by=(CommunicationMessage.created_at.desc(), CommunicationMessage.id.desc()),
            )
            .label("place"),
        )
        .join(CommunicationThread, CommunicationThread.id == CommunicationMessage.thread_id)
        .where(CommunicationThread.status.not_in(ENDED))
        .where(CommunicationMessage.message_type.in_((MessageType.INCOMING, MessageType.OUTGOING)))
        .subquery()
    )
    return db.session.scalars(
        sa.select(CommunicationMessage)
        .join(latest, latest.c.id == CommunicationMessage.id)
        .where(latest.c.place == 1, CommunicationMessage.message_type == MessageType.INCOMING)
    ).all()
