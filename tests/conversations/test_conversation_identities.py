"""One contact per address and one conversation per customer, however many workers.

The races run as real concurrent transactions (threads, each with its own
session), which only PostgreSQL can take side by side; the production topology
version, with ``worker.py`` processes, is in ``test_scale_out.py``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.conversations.contacts.identities import PHONE, claim_addresses_of, contact_with
from app.conversations.contacts.services import contact_for_email, contact_for_phone
from app.conversations.core import InboundMessage, Sender, channel_of_type, record_inbound
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread, Contact, ContactIdentity
from app.platform.models.enums import ChannelType
from app.platform.transactions import commit
from tests.conftest import TEST_DATABASE_URL
from tests.support import factories
from tests.support.helpers import race, raised

needs_postgresql = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="concurrent writers need PostgreSQL (CI runs it)"
)


def test_an_address_is_found_in_any_way_it_is_written(app):
    first = contact_for_phone("06-12345678")
    assert contact_for_phone("+31 6 1234 5678").id == first.id
    assert contact_for_phone("31612345678").id == first.id
    mail = contact_for_email("Jan@Voorbeeld.NL", "Jan")
    assert contact_for_email("jan@voorbeeld.nl").id == mail.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 2


def test_a_contact_made_elsewhere_is_given_its_address_on_first_contact(app):
    # A partner's order or a form made this contact; it has no identity yet.
    known = factories.contact(phone="+31687654321", email=None)
    assert contact_with(PHONE, "+31687654321") is None
    assert contact_for_phone("0687654321").id == known.id
    assert contact_with(PHONE, "+31687654321").id == known.id


def test_an_address_keeps_its_first_owner(app):
    owner = factories.contact(phone="+31611112222", email=None)
    claim_addresses_of(owner)
    other = factories.contact(phone="+31611112222", email="ander@example.nl")
    claim_addresses_of(other)  # the phone is taken; the e-mail is free
    identities = db.session.scalars(sa.select(ContactIdentity))
    owners = {(i.kind, i.address): i.contact_id for i in identities}
    assert owners[("phone", "+31611112222")] == owner.id
    assert owners[("email", "ander@example.nl")] == other.id


def test_a_held_address_that_is_taken_after_all_leaves_no_second_contact(app, monkeypatch):
    """A sender's address is held while their first message is stored, so its claim
    wins without a savepoint; should it lose anyway (a writer that does not hold
    addresses), the contact it made is taken back and the owner returned."""
    from app.conversations.contacts import identities

    owner = factories.contact(phone=None, email="eigenaar@example.nl")
    db.session.flush()
    claim = identities.claim

    def taken_meanwhile(kind, address, contact_id):
        claim(kind, address, owner.id)  # the other writer, just before this claim
        return claim(kind, address, contact_id)

    monkeypatch.setattr(identities, "claim", taken_meanwhile)
    found = contact_for_phone("+31677778888", "Nieuw", unclaimed=True)
    assert found.id == owner.id
    commit()
    assert db.session.scalars(sa.select(Contact.id)).all() == [owner.id]
    assert contact_with(PHONE, "+31677778888").id == owner.id


@needs_postgresql
def test_eight_workers_meeting_a_new_number_at_once_make_one_contact(app):
    results = race(app, lambda i: contact_for_phone("+31699990000").id, 8)
    assert not raised(results), results
    assert len(set(results)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 1


@needs_postgresql
def test_a_burst_from_a_new_sender_is_one_contact_one_thread_in_order(app):
    channel = channel_of_type(ChannelType.WHATSAPP_BUSINESS)
    commit()
    channel_id = channel.id
    start = utcnow() - timedelta(minutes=5)

    def receive(index: int):
        stored = record_inbound(
            db.session.get(type(channel), channel_id),
            Sender(PHONE, "31688887777", whatsapp_profile_name="Jan"),
            InboundMessage(
                external_message_id=f"wamid.burst{index}",
                content=f"bericht {index}",
                received_at=start + timedelta(seconds=index),
            ),
        )
        return stored.id

    results = race(app, receive, 12)
    assert not raised(results), results
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 1
    [thread] = db.session.scalars(sa.select(CommunicationThread)).all()
    texts = db.session.scalars(
        sa.select(CommunicationMessage.message_content)
        .where(CommunicationMessage.thread_id == thread.id)
        .order_by(CommunicationMessage.created_at)
    ).all()
    assert texts == [f"bericht {i}" for i in range(12)]
    assert thread.last_message_preview == "bericht 11"


@needs_postgresql
def test_the_same_message_delivered_to_two_workers_is_stored_once(app):
    channel = channel_of_type(ChannelType.SMS)
    commit()
    channel_id = channel.id

    def receive(index: int):
        stored = record_inbound(
            db.session.get(type(channel), channel_id),
            Sender(PHONE, "+31655554444"),
            InboundMessage("SM-same", "Hallo", utcnow()),
        )
        return stored.id if stored else None

    results = race(app, receive, 4)
    assert not raised(results), results
    assert len([r for r in results if r is not None]) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommunicationMessage)) == 1


def test_a_customer_made_by_an_order_owns_their_addresses_at_once(app):
    from app.orders.core.creation import find_or_create_customer

    customer = find_or_create_customer("Jan de Vries", "Jan@Voorbeeld.nl", "06-11122233")
    commit()
    assert contact_with(PHONE, "+31611122233").id == customer.id
    assert contact_with("email", "jan@voorbeeld.nl").id == customer.id
    assert contact_for_phone("0611122233").id == customer.id
