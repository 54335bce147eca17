"""Learning from use: which suggestion an agent picked, and what their reply did with it.

A pick (a click or Alt+1..3 putting a suggestion into the reply box) is noted
on the suggestion. When the agent's reply is stored, its outcome for the
customer message it answers is decided once (a unique key): ``used`` (sent
as suggested), ``edited`` (started from the suggestion, then changed) or
``ignored`` (written without one). The reply names its suggestion (the
composer sends the id along; ``extra["suggestion"]``), else the agent's
latest pick in that set counts. Each decision adds to the candidates'
:class:`~app.platform.models.SuggestionFeedback`, the ranking's learned prior, and is
what the analytics figure "Replies started from a suggestion" counts.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.conversations.reply_suggestions.compute import APPROVED, OPEN
from app.conversations.reply_suggestions.offer import DESK_ROLES, suggestion_text
from app.platform.database import upsert_insert, utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    CommunicationThread,
    ReplySuggestion,
    SuggestionFeedback,
    SuggestionOutcome,
    SuggestionSet,
    User,
)
from app.platform.models.enums import MessageType

USED, EDITED, IGNORED = "used", "edited", "ignored"
SUGGESTION_KEY = "suggestion"  # app.conversations.workspace.services keeps it on the reply


def record_pick(thread: CommunicationThread, suggestion_id: uuid.UUID, user: User) -> bool:
    """Note that ``user`` put suggestion ``suggestion_id`` of ``thread`` into the reply box.

    False when it is no suggestion of this thread. The caller commits.
    """
    in_thread = sa.select(SuggestionSet.id).where(SuggestionSet.thread_id == thread.id)
    picked = db.session.execute(
        sa.update(ReplySuggestion)
        .where(ReplySuggestion.id == suggestion_id, ReplySuggestion.set_id.in_(in_thread))
        .values(picked_at=utcnow(), picked_by_user_id=user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    return picked == 1


def record_outcome(reply: CommunicationMessage) -> str | None:
    """Decide the outcome for the customer message ``reply`` answers; None if none is due.

    Only a desk agent's reply decides (suggestions are shown at the desk), and only for
    the latest customer message before it, if suggestions were made for it. The caller
    commits.
    """
    if reply.message_type != MessageType.OUTGOING or reply.sender_user_id is None:
        return None
    author = db.session.get(User, reply.sender_user_id)
    if author is None or author.role not in DESK_ROLES:
        return None  # a technician's quick reply from the phone: no suggestions were shown
    answered = _answered_message_id(reply)
    if answered is None:
        return None
    sets = db.session.scalars(
        sa.select(SuggestionSet).where(SuggestionSet.message_id == answered)
    ).all()
    if not sets:
        return None
    suggestion = _chosen(reply, sets)
    outcome = IGNORED
    if suggestion is not None:
        outcome = USED if _sent_as_suggested(reply, suggestion) else EDITED
    dialect = db.session.get_bind().dialect.name
    insert = upsert_insert(SuggestionOutcome, dialect).values(
        id=uuid.uuid4(),
        message_id=answered,
        thread_id=reply.thread_id,
        reply_message_id=reply.id,
        suggestion_id=suggestion.id if suggestion else None,
        outcome=outcome,
        user_id=reply.sender_user_id,
        channel_id=reply.channel_id,
        decided_at=reply.created_at,
    )
    decided = db.session.scalar(
        insert.on_conflict_do_nothing(index_elements=["message_id"]).returning(SuggestionOutcome.id)
    )
    if decided is None:
        return None  # an earlier reply decided already
    shown = _shown_set(sets, suggestion, reply)
    _count(shown, suggestion, outcome)
    return outcome


def _answered_message_id(reply: CommunicationMessage) -> uuid.UUID | None:
    return db.session.scalar(
        sa.select(CommunicationMessage.id)
        .where(
            CommunicationMessage.thread_id == reply.thread_id,
            CommunicationMessage.message_type == MessageType.INCOMING,
            CommunicationMessage.created_at <= reply.created_at,
        )
        .order_by(CommunicationMessage.created_at.desc(), CommunicationMessage.id.desc())
        .limit(1)
    )


def _chosen(reply: CommunicationMessage, sets: list[SuggestionSet]) -> ReplySuggestion | None:
    suggestions = [s for found in sets for s in found.suggestions]
    named = _started_from(reply).get("id")
    for suggestion in suggestions:
        if named and str(suggestion.id) == str(named):
            return suggestion
    author = reply.sender_user_id
    picks = [s for s in suggestions if s.picked_at is not None and s.picked_by_user_id == author]
    return max(picks, key=lambda s: s.picked_at) if picks else None


def _started_from(reply: CommunicationMessage) -> dict:
    """What the composer sent along: the suggestion's id and the reply as typed."""
    found = (reply.extra or {}).get(SUGGESTION_KEY)
    return found if isinstance(found, dict) else {}


def _normal(text: str | None) -> str:
    return " ".join((text or "").split()).lower()


def _sent_as_suggested(reply: CommunicationMessage, suggestion: ReplySuggestion) -> bool:
    """The agent sent the suggestion's text as it was put in (an approved template as is)."""
    if suggestion.template_id is not None and reply.template_id == suggestion.template_id:
        return True
    thread = db.session.get(CommunicationThread, reply.thread_id)
    author = db.session.get(User, reply.sender_user_id)
    offered = suggestion_text(suggestion, thread, author)
    # As typed, before signatures and quote; a pick without the form's id: the message.
    typed = _started_from(reply).get("typed")
    sent = typed if typed is not None else reply.message_content
    return bool(offered) and _normal(offered) == _normal(sent)


def _shown_set(
    sets: list[SuggestionSet], suggestion: ReplySuggestion | None, reply: CommunicationMessage
) -> SuggestionSet:
    """The set the agent saw: the chosen suggestion's, else the open one."""
    if suggestion is not None:
        return next(s for s in sets if s.id == suggestion.set_id)
    by_name = {s.set_name: s for s in sets}
    approved_reply = reply.template_id is not None and APPROVED in by_name
    if approved_reply and (reply.extra or {}).get("template_parameters") is not None:
        return by_name[APPROVED]
    return by_name.get(OPEN) or sets[0]


def _count(shown: SuggestionSet, chosen: ReplySuggestion | None, outcome: str) -> None:
    """Every suggestion shown was offered once more; the chosen one was used or edited."""
    dialect = db.session.get_bind().dialect.name
    for suggestion in shown.suggestions:
        taken = chosen is not None and suggestion.id == chosen.id
        values = {
            "id": uuid.uuid4(),
            "candidate_key": suggestion.candidate_key,
            "offered": 1,
            "used": int(taken and outcome == USED),
            "edited": int(taken and outcome == EDITED),
            "updated_at": utcnow(),
        }
        insert = upsert_insert(SuggestionFeedback, dialect).values(**values)
        db.session.execute(
            insert.on_conflict_do_update(
                index_elements=["candidate_key"],
                set_={
                    "offered": SuggestionFeedback.offered + insert.excluded.offered,
                    "used": SuggestionFeedback.used + insert.excluded.used,
                    "edited": SuggestionFeedback.edited + insert.excluded.edited,
                    "updated_at": insert.excluded.updated_at,
                },
            )
        )
