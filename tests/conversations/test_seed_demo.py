"""``flask seed demo``: the demo database is complete, consistent and loaded once."""

from __future__ import annotations

import json
import re

import sqlalchemy as sa

from app.conversations.message_templates.services import templates_for_channel
from app.conversations.reply_suggestions.compute import OPEN
from app.conversations.reply_suggestions.offer import latest_set, offered_suggestions
from app.orders.mobile.services import local_today
from app.platform.extensions import db
from app.platform.models import (
    CommunicationMessage,
    CommunicationThread,
    Contact,
    Order,
    OrderDraft,
    OrderNumberCounter,
    Organization,
    PartnerSkuMapping,
    SuggestionSet,
    User,
)
from app.platform.models.enums import DraftState, OrganizationType, ThreadStatus
from app.seed.demo import load_demo_data

DEMO_EMAILS = {
    "admin@switchboard.test",
    "manager@switchboard.test",
    "agent@switchboard.test",
    "tech@switchboard.test",
}
PARTNER_SKU_MAPPINGS = {
    ("GRO-ALFEN-11", "ALF-EVE-S-11KW"),
    ("GRO-INSTALL-1", "INST-BASIC-1P"),
    ("ESS-WALLBOX-22", "ALF-EVE-D-22KW"),
    ("50F-ZAPPI-7", "MYE-ZAPPI-7KW"),
}


def test_demo_seed_populates_and_is_idempotent(app):
    summary = load_demo_data()
    db.session.commit()

    emails = set(db.session.scalars(sa.select(User.email)))
    assert len(emails) >= 4
    assert DEMO_EMAILS <= emails

    top_level_partners = set(
        db.session.scalars(
            sa.select(Organization.name).where(
                Organization.organization_type == OrganizationType.PARTNER,
                Organization.parent_organization_id.is_(None),
            )
        )
    )
    assert top_level_partners == {"Groendus", "Essent", "Eneco", "50five", "Alva"}
    mappings = {
        (mapping.partner_sku, mapping.article.sku)
        for mapping in db.session.scalars(sa.select(PartnerSkuMapping))
    }
    assert PARTNER_SKU_MAPPINGS <= mappings

    thread_count = db.session.scalar(sa.select(sa.func.count(CommunicationThread.id)))
    message_count = db.session.scalar(sa.select(sa.func.count(CommunicationMessage.id)))
    assert thread_count >= 250
    assert message_count > thread_count
    silent_threads = db.session.scalar(
        sa.select(sa.func.count(CommunicationThread.id)).where(
            ~sa.exists().where(CommunicationMessage.thread_id == CommunicationThread.id)
        )
    )
    assert silent_threads == 0
    assert summary["threads"] == thread_count
    assert summary["messages"] == message_count
    # Alva's forwarded order mail waits for a person in the review queue.
    [draft] = db.session.scalars(sa.select(OrderDraft)).all()
    assert draft.state == DraftState.PENDING_REVIEW and draft.confidence < 90

    numbers = list(db.session.scalars(sa.select(Order.order_number)))
    assert numbers and len(numbers) == len(set(numbers))
    assert all(re.fullmatch(r"CC-\d{4}-\d{5}", number) for number in numbers)
    highest: dict[int, int] = {}
    for number in numbers:
        _, year, value = number.split("-")
        highest[int(year)] = max(highest.get(int(year), 0), int(value))
    counters = {
        counter.year: counter.last_value
        for counter in db.session.scalars(sa.select(OrderNumberCounter))
    }
    assert counters == highest

    # The technician's phone page has visits for today.
    tech_id = db.session.scalar(sa.select(User.id).where(User.email == "tech@switchboard.test"))
    todays_visits = db.session.scalar(
        sa.select(sa.func.count(Order.id)).where(
            Order.assigned_technician_id == tech_id, Order.scheduled_date == local_today()
        )
    )
    assert todays_visits >= 1

    # One customer writes English, and the composer offers them English first.
    [english] = db.session.scalars(sa.select(Contact).where(Contact.detected_language == "en"))
    [thread] = db.session.scalars(
        sa.select(CommunicationThread).where(CommunicationThread.contact_id == english.id)
    )
    assert thread.status == ThreadStatus.OPEN and thread.order_id is not None
    offered = templates_for_channel(thread.channel.channel_type.value, language="en")
    assert offered[0].language == "en" and offered[-1].language == "nl"

    assert load_demo_data() == {"skipped": True, "reason": "database already has users"}
    assert db.session.scalar(sa.select(sa.func.count(Order.id))) == len(numbers)


def test_the_seeded_demo_offers_suggested_replies_where_a_customer_waits(runner):
    """``flask seed demo`` harvests the ended conversations and ranks the open ones'
    suggestions, as the jobs would have had the demo's messages arrived for real."""
    result = runner.invoke(args=["seed", "demo"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["harvested_replies"] > 0 and summary["suggestion_sets"] > 0

    agent = db.session.scalar(sa.select(User).where(User.email == "agent@switchboard.test"))
    # An open conversation whose customer asks last where the meter cupboard may be.
    question = db.session.scalar(
        sa.select(CommunicationMessage)
        .join(SuggestionSet, SuggestionSet.message_id == CommunicationMessage.id)
        .where(CommunicationMessage.message_content.like("Moet ik nog iets%meterkast%"))
        .limit(1)
    )
    thread = db.session.get(CommunicationThread, question.thread_id)
    offered = offered_suggestions(thread, thread.channel, agent)
    # The team's own answer to the same question, learned from an ended conversation.
    # Nothing from another case fills the row (an extra metre of cable's price, photos
    # of damage): the order is not planned yet, so no planning template fits either.
    assert offered and "meterkast" in offered[0].text.lower(), [chip.text for chip in offered]
    assert not any("kabel kost" in c.text or "schade" in c.text for c in offered), [
        chip.text for chip in offered
    ]

    # The English household is answered in English first.
    english = db.session.scalar(sa.select(Contact).where(Contact.detected_language == "en"))
    [waiting] = db.session.scalars(
        sa.select(CommunicationThread).where(CommunicationThread.contact_id == english.id)
    )
    ranked = latest_set(waiting, OPEN)
    assert ranked.language == "en"
    assert ranked.suggestions[0].language == "en", [s.title for s in ranked.suggestions]
    assert offered_suggestions(waiting, waiting.channel, agent)
