"""A ChargeCars desk with a history of closed conversations, for the team-suggestion tests.

The desk: the demo's four teams with one agent each, the demo's routing rules on
an e-mail, a WhatsApp and an SMS channel (every new conversation is customer
support, so the rules send it to Klantenservice). The history comes from
:mod:`tests.support.routing_history` and is written in a few bulk statements.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from app.conversations.assignment.suggestions.samples import HOLDOUT_DAYS
from app.conversations.assignment.suggestions.training import train_routing_model
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import (
    CommunicationChannel,
    CommunicationMessage,
    CommunicationThread,
    Contact,
    Order,
    RoutingModel,
    Team,
    User,
)
from app.platform.models.enums import ChannelType, MessageType, ThreadStatus
from app.platform.models.urgency import urgency_key
from tests.support import factories
from tests.support.routing_history import HistoricConversation, generate_history

INSTALLATION_COMPLAINT = (
    "De laadpaal doet het niet meer sinds de installatie, monteur heeft iets verkeerd aangesloten"
)
TEAMS = (
    ("customer-service", "Klantenservice"),
    ("tech", "Techniek"),
    ("sales", "Sales"),
    ("management", "Management"),
)
# The demo's rules (app/seed/demo_catalogue.py), less the escalations.
RULES = {
    "customer_support": {"default_assignee": "customer-service"},
    "technical_issue": {"default_assignee": "tech", "skill_matching": True},
    "sales_inquiry": {"default_assignee": "sales"},
    "default": {"default_assignee": "customer-service"},
}


@dataclass
class Desk:
    teams: dict[str, Team]
    agents: dict[str, User]
    channels: dict[str, CommunicationChannel]
    customers: list[Contact] = field(default_factory=list)

    @property
    def whatsapp(self) -> CommunicationChannel:
        return self.channels[ChannelType.WHATSAPP_BUSINESS.value]

    @property
    def mail(self) -> CommunicationChannel:
        return self.channels[ChannelType.EMAIL_OUTLOOK.value]


def team_id(slug: str) -> uuid.UUID:
    """The same id for a team in every test, so one trained model serves them all."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"switchboard-test-team:{slug}")


def desk(make_user) -> Desk:
    """Teams, an agent in each (skills: the brands for Techniek), channels with the rules."""
    teams = {}
    for slug, name in TEAMS:
        team = Team(id=team_id(slug), name=name, slug=slug)
        db.session.add(team)
        teams[slug] = team
    db.session.flush()
    agents = {
        slug: make_user(
            "agent",
            email=f"{slug}@switchboard.test",
            team_id=team.id,
            skills=["alfen", "zaptec", "easee", "wallbox"] if slug == "tech" else [],
        )
        for slug, team in teams.items()
    }
    channels = {
        channel_type.value: factories.channel(channel_type, auto_assignment_rules=RULES)
        for channel_type in (
            ChannelType.EMAIL_OUTLOOK,
            ChannelType.WHATSAPP_BUSINESS,
            ChannelType.SMS,
        )
    }
    db.session.commit()
    return Desk(teams, agents, channels)


def store_history(desk: Desk, conversations: list[HistoricConversation]) -> None:
    """Write ``conversations`` as resolved threads, each with its customer's first message."""
    with_order = factories.contact(display_name="Jan Jansen")
    without_order = factories.contact(display_name="Eva de Boer")
    first = min(c.started_at for c in conversations) if conversations else utcnow()
    db.session.add(
        Order(
            order_number=f"CC-HIST-{uuid.uuid4().hex[:6]}",
            account_contact_id=with_order.id,
            created_at=first - timedelta(days=30),
        )
    )
    threads, messages = [], []
    for conversation in conversations:
        thread_id = uuid.uuid4()
        # Written in bulk, past the model's own upkeep: sorted as closed, as it would be.
        bucket, score = urgency_key(
            closed=True, internal=False, response_due_at=None, last_activity=conversation.closed_at
        )
        threads.append(
            {
                "id": thread_id,
                "thread_subject": conversation.text[:60],
                "channel_id": desk.channels[conversation.channel].id,
                "contact_id": (with_order if conversation.has_order else without_order).id,
                "status": ThreadStatus.RESOLVED,
                "assigned_team_id": desk.teams[conversation.team].id,
                "tags": list(conversation.skills),
                "created_at": conversation.started_at,
                "updated_at": conversation.closed_at,
                "last_message_at": conversation.started_at,
                "resolved_at": conversation.closed_at,
                "urgency_bucket": bucket,
                "urgency_score": score,
            }
        )
        messages.append(
            {
                "thread_id": thread_id,
                "channel_id": desk.channels[conversation.channel].id,
                "message_type": MessageType.INCOMING,
                "message_content": conversation.text,
                "created_at": conversation.started_at,
                "updated_at": conversation.started_at,
            }
        )
    if threads:
        db.session.execute(sa.insert(CommunicationThread), threads)
        db.session.execute(sa.insert(CommunicationMessage), messages)
    db.session.commit()


def store_generated_history(desk: Desk, *, weeks: int = 12, per_week: int = 60) -> None:
    store_history(desk, generate_history(weeks=weeks, per_week=per_week, end=utcnow()))


# The first test to train keeps its run here; later tests store a copy instead of
# training again (a second of CPU each). Training itself is tested on its own.
_trained: dict[str, dict] = {}
RUN_FIELDS = (
    "model",
    "feature_version",
    "library_version",
    "training_samples",
    "holdout_samples",
    "holdout_correct",
    "holdout_scores",
    "per_team",
    "skills",
    "seconds",
)


def remember(run: RoutingModel) -> RoutingModel:
    """Keep ``run`` (trained on :func:`store_generated_history`'s default history) for
    :func:`trained_model` to copy."""
    _trained["run"] = {name: getattr(run, name) for name in RUN_FIELDS}
    return run


def trained_model(desk: Desk) -> RoutingModel:
    """A model trained on the generated history of ``desk``'s teams, committed.

    The history is written (and trained on) by the first test only; the teams
    keep their ids from test to test (:func:`team_id`), so its model fits all.
    """
    now = utcnow()
    if "run" not in _trained:
        store_generated_history(desk)
        run = remember(train_routing_model(now))
    else:
        run = RoutingModel(
            trained_at=now, holdout_from=now - timedelta(days=HOLDOUT_DAYS), **_trained["run"]
        )
        db.session.add(run)
    db.session.commit()
    return run
