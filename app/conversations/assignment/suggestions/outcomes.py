"""What became of each suggestion, decided by what people did with the conversation.

- **agreed with the rules**: the rules had put it in the suggested team already;
- **accepted**: it went to the suggested team: auto-routing, the agent's one
  click "Send to <team>", or someone of that team being given it;
- **changed**: a person moved it to another team than suggested (after it was
  accepted, or to a team that is neither the suggested one nor the rules');
- **ignored**: it was resolved or closed while the suggestion was still open.

A person's edits are settled as they happen (:mod:`.listeners`); a
conversation closed any other way is found by the periodic sweep
(:func:`settle_closed_conversations`).
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationThread, RoutingOutcome, RoutingSuggestion
from app.platform.models.enums import ThreadStatus
from app.platform.transactions import commit

CLOSED = (ThreadStatus.RESOLVED, ThreadStatus.CLOSED)
# A person's edit can still change these; the others are final.
OPEN_OUTCOMES = (RoutingOutcome.PENDING, RoutingOutcome.ACCEPTED)


def decide(
    suggestion: RoutingSuggestion, outcome: RoutingOutcome, by_user_id: uuid.UUID | None = None
) -> None:
    suggestion.outcome = outcome
    suggestion.decided_at = utcnow()
    suggestion.decided_by_user_id = by_user_id


def settle_after_edit(thread_id: uuid.UUID, by_user_id: uuid.UUID | None) -> RoutingOutcome | None:
    """Compare the conversation's team and status with its open suggestion, after a
    person changed it; returns the new outcome, or None when nothing changed. The
    caller commits."""
    suggestion = db.session.scalar(
        sa.select(RoutingSuggestion)
        .where(
            RoutingSuggestion.thread_id == thread_id,
            RoutingSuggestion.outcome.in_(OPEN_OUTCOMES),
        )
        .with_for_update()
    )
    if suggestion is None:
        return None
    team_id, status = db.session.execute(
        sa.select(CommunicationThread.assigned_team_id, CommunicationThread.status).where(
            CommunicationThread.id == thread_id
        )
    ).one()
    outcome = None
    if team_id is not None and team_id == suggestion.team_id:
        if suggestion.outcome == RoutingOutcome.PENDING:
            outcome = RoutingOutcome.ACCEPTED
    elif suggestion.outcome == RoutingOutcome.ACCEPTED or team_id != suggestion.rules_team_id:
        outcome = RoutingOutcome.CHANGED
    elif status in CLOSED:
        outcome = RoutingOutcome.IGNORED
    if outcome is not None:
        decide(suggestion, outcome, by_user_id)
    return outcome


def settle_closed_conversations() -> int:
    """The periodic sweep: open suggestions of conversations closed since are ignored."""
    closed = sa.select(CommunicationThread.id).where(CommunicationThread.status.in_(CLOSED))
    result = db.session.execute(
        sa.update(RoutingSuggestion)
        .where(
            RoutingSuggestion.outcome == RoutingOutcome.PENDING,
            RoutingSuggestion.thread_id.in_(closed),
        )
        .values(outcome=RoutingOutcome.IGNORED, decided_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    commit()
    return result.rowcount
