"""Suggesting a team for a new conversation, routing by it, and following it by hand.

Every new customer conversation gets a suggestion once a model exists (one row
per conversation, the thread's unique key: a repeated event never makes two).
With auto-routing on and the suggestion at least as sure as the threshold, the
conversation goes to the suggested team, to the least-loaded available person
with the suggested skills (:func:`app.conversations.assignment.services.pick_agent`); in
every other case the channel's rules decide exactly as they always did.
"""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa

from app.conversations.assignment.rules import InvalidRules, rules_for
from app.conversations.assignment.services import apply_assignment, describe_pick, pick_agent
from app.conversations.assignment.suggestions.classifier import current_classifier
from app.conversations.assignment.suggestions.outcomes import OPEN_OUTCOMES, decide
from app.conversations.assignment.suggestions.samples import question_for
from app.conversations.assignment.suggestions.settings import routing_settings
from app.conversations.core import assign, record_status_line
from app.platform.database import upsert_insert, utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationChannel,
    CommunicationThread,
    RoutingOutcome,
    RoutingSuggestion,
    Team,
    User,
)
from app.platform.system_texts import text

log = logging.getLogger(__name__)


class NothingToFollow(LookupError):
    """The conversation has no open suggestion (none made, or already settled)."""


def confidence_text(confidence: float) -> str:
    return f"{confidence * 100:.0f} %"


def suggest_team(thread: CommunicationThread) -> RoutingSuggestion | None:
    """Suggest a team for the new ``thread`` and store it; None without a model, a
    customer message to read, or when it was suggested already. The caller commits."""
    loaded = current_classifier()
    if loaded is None:
        return None
    model_id, classifier = loaded
    question = question_for(thread.id)
    if question is None:
        return None
    [prediction] = classifier.predict([question])
    team = db.session.get(Team, uuid.UUID(prediction.team_id))
    if team is None:
        return None  # a team deleted since the model was trained
    now = utcnow()
    insert = upsert_insert(RoutingSuggestion, db.session.get_bind().dialect.name).values(
        id=uuid.uuid4(),
        created_at=now,
        updated_at=now,
        thread_id=thread.id,
        model_id=model_id,
        team_id=team.id,
        confidence=prediction.confidence,
        skills=list(prediction.skills),
        auto_routed=False,
        outcome=RoutingOutcome.PENDING,
    )
    suggestion_id = db.session.execute(
        insert.on_conflict_do_nothing(index_elements=["thread_id"]).returning(RoutingSuggestion.id)
    ).scalar()
    return db.session.get(RoutingSuggestion, suggestion_id) if suggestion_id else None


def route_by_suggestion(thread: CommunicationThread, suggestion: RoutingSuggestion) -> bool:
    """Send ``thread`` to the suggested team when auto-routing is on and the suggestion is
    sure enough, and the channel auto-assigns at all; True if it did. The caller commits.

    Where the rules would choose the same team, they route it (their skills and
    all), and the suggestion counts as agreeing with them.
    """
    if not routing_settings().routes_by_itself(suggestion.confidence):
        return False
    channel = thread.channel or (
        db.session.get(CommunicationChannel, thread.channel_id) if thread.channel_id else None
    )
    try:
        rules = rules_for(channel)
    except InvalidRules:
        return False  # the rules path says what needs fixing
    rule = rules.rule_for(thread.thread_type) if rules else None
    team = suggestion.team
    if rule is None or team is None or rule.team.id == team.id:
        return False
    pick = pick_agent(team, tags=suggestion.skills, fallback_to_busy=rules.fallback_to_busy)
    reason = [
        text(
            "routing.suggested", team=team.name, confidence=confidence_text(suggestion.confidence)
        ),
        *describe_pick(pick, team),
    ]
    apply_assignment(thread, team, pick.user, reason)
    suggestion.auto_routed = True
    suggestion.rules_team_id = rule.team.id
    decide(suggestion, RoutingOutcome.ACCEPTED)
    return True


def note_rules_choice(suggestion: RoutingSuggestion, thread: CommunicationThread) -> None:
    """After the rules routed ``thread`` (or left it): remember where it is, and whether
    that is the suggested team."""
    suggestion.rules_team_id = thread.assigned_team_id
    if thread.assigned_team_id is not None and thread.assigned_team_id == suggestion.team_id:
        decide(suggestion, RoutingOutcome.AGREED_WITH_RULES)


def open_suggestion(thread: CommunicationThread) -> RoutingSuggestion | None:
    """The suggestion an agent can still follow: open, for another team than the
    conversation is in, on a conversation that is not closed."""
    suggestion = db.session.scalar(
        sa.select(RoutingSuggestion).where(
            RoutingSuggestion.thread_id == thread.id,
            RoutingSuggestion.outcome == RoutingOutcome.PENDING,
        )
    )
    if suggestion is None or suggestion.team is None:
        return None
    if suggestion.team_id == thread.assigned_team_id:
        return None
    return suggestion


def send_to_suggested_team(thread: CommunicationThread, actor: User) -> Team:
    """The agent's one click: ``thread`` to the suggested team (its least-loaded
    available person with the skills, else its queue). The caller commits.

    Raises :class:`NothingToFollow` when there is no open suggestion any more (a
    colleague clicked first, or moved the conversation).
    """
    db.session.execute(
        sa.select(CommunicationThread.id)
        .where(CommunicationThread.id == thread.id)
        .with_for_update()
    )
    suggestion = db.session.scalar(
        sa.select(RoutingSuggestion)
        .where(
            RoutingSuggestion.thread_id == thread.id,
            RoutingSuggestion.outcome.in_(OPEN_OUTCOMES),
        )
        .with_for_update()
    )
    db.session.refresh(thread)
    if (
        suggestion is None
        or suggestion.outcome != RoutingOutcome.PENDING
        or suggestion.team is None
        or suggestion.team_id == thread.assigned_team_id
    ):
        raise NothingToFollow(thread.id)
    team = suggestion.team
    pick = pick_agent(team, tags=suggestion.skills)
    reason = [
        text("routing.suggestion_followed", actor=actor.name, team=team.name),
        *describe_pick(pick, team),
    ]
    assign(thread, team=team, user=pick.user, reason=reason, by_user_id=actor.id)
    record_status_line(
        thread, text("edit.team", actor=actor.name, team=team.name), author_id=actor.id
    )
    decide(suggestion, RoutingOutcome.ACCEPTED, actor.id)
    return team
