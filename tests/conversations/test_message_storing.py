"""A new message and its thread's changes written as two statements of their own
(app/conversations/core/storing.py), leaving the rows as a flush would."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.conversations.core import InboundMessage
from app.conversations.inbox.search import search_clause
from app.platform.database import utcnow
from app.platform.extensions import db
from app.platform.models import CommunicationMessage, CommunicationThread, Contact
from app.platform.models.enums import ChannelType, ThreadStatus
from tests.support import factories
from tests.support.helpers import receive


def _conversation():
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    contact = factories.contact(display_name="Anouk de Wit", phone="+31655501234")
    thread = factories.thread(
        channel,
        contact,
        minutes_ago=5,
        thread_subject="Laadpaal",
        status=ThreadStatus.WAITING_CUSTOMER,
    )
    db.session.commit()
    # Loaded, as the inbound look-up leaves them.
    db.session.refresh(thread)
    db.session.refresh(contact)
    return channel, contact, thread


def _inbound(wamid: str, text: str) -> InboundMessage:
    return InboundMessage(
        external_message_id=wamid, content=text, received_at=utcnow() - timedelta(seconds=1)
    )


def _found(word: str) -> list:
    """The threads whose search document has ``word`` (PostgreSQL)."""
    return db.session.scalars(
        sa.select(CommunicationThread.id).where(search_clause(word))
    ).all()


class _Flushes:
    """Counts the session's flushes that had something to write."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self):
        sa.event.listen(db.session(), "before_flush", self._noted)
        return self

    def __exit__(self, *exc) -> None:
        sa.event.remove(db.session(), "before_flush", self._noted)

    def _noted(self, *args) -> None:
        self.count += 1


def test_a_customers_message_is_written_without_the_unit_of_work_and_reads_back_whole(app):
    channel, contact, thread = _conversation()
    updated_before = thread.updated_at
    with _Flushes() as flushes:
        message = receive(channel, contact, _inbound("wamid.s1", "De laadpaal knippert oranje"))
    assert flushes.count == 0
    assert sa.inspect(message).persistent and not db.session.new and not db.session.dirty
    # What the rest of the transaction sees is what was written.
    assert thread.status == ThreadStatus.OPEN
    assert thread.last_message_preview == "De laadpaal knippert oranje"
    db.session.commit()

    db.session.expire_all()
    stored = db.session.get(CommunicationThread, thread.id)
    assert stored.status == ThreadStatus.OPEN
    assert stored.last_message_preview == "De laadpaal knippert oranje"
    assert stored.last_customer_message_at is not None and stored.updated_at > updated_before
    # The urgency the model's before_update hook would have given it.
    bucket, score = stored.urgency_bucket, stored.urgency_score
    stored.refresh_urgency()
    assert (stored.urgency_bucket, stored.urgency_score) == (bucket, score)
    row = db.session.get(CommunicationMessage, message.id)
    assert row.thread_id == thread.id and row.channel_id == channel.id
    assert row.sender_contact_id == contact.id and row.recorded_at is not None
    assert row.attachments == [] and row.extra == {}
    if db.engine.dialect.name == "postgresql":
        assert _found("knippert") == [thread.id]


def test_with_another_row_changed_the_flush_writes_everything(app):
    channel, contact, thread = _conversation()
    contact.display_name = "Anouk de Wit-Jansen"  # waiting in the session, not yet written
    with _Flushes() as flushes:
        message = receive(channel, contact, _inbound("wamid.s2", "Wanneer komt de monteur?"))
    assert flushes.count >= 1
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Contact, contact.id).display_name == "Anouk de Wit-Jansen"
    assert db.session.get(CommunicationMessage, message.id).thread_id == thread.id
    stored = db.session.get(CommunicationThread, thread.id)
    assert stored.last_message_preview == "Wanneer komt de monteur?"
    if db.engine.dialect.name == "postgresql":
        assert _found("monteur") == [thread.id]


def test_a_new_customers_contact_conversation_and_message_are_written_without_a_flush(app):
    from app.conversations.contacts.identities import PHONE, contact_with
    from app.conversations.core import Sender, record_inbound

    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    db.session.commit()
    with _Flushes() as flushes:
        message = record_inbound(
            channel,
            Sender(PHONE, "31655507777", whatsapp_profile_name="Sem Bakker"),
            _inbound("wamid.s3", "Mijn laadpaal is vandaag geplaatst, bedankt!"),
        )
    assert flushes.count == 0
    assert not db.session.new and not db.session.dirty
    db.session.commit()

    db.session.expire_all()
    contact = contact_with(PHONE, "+31655507777")
    assert contact is not None and contact.display_name == "Sem Bakker"
    thread = db.session.get(CommunicationThread, message.thread_id)
    assert thread.contact_id == contact.id and thread.channel_id == channel.id
    assert thread.status == ThreadStatus.OPEN and thread.last_message_preview.startswith("Mijn")
    assert db.session.get(CommunicationMessage, message.id).sender_contact_id == contact.id
    if db.engine.dialect.name == "postgresql":
        for word in ("geplaatst", "Bakker"):
            assert _found(word) == [thread.id], word


def test_a_rolled_back_savepoint_forgets_the_stored_rows_as_after_a_flush(app):
    channel, contact, thread = _conversation()
    savepoint = db.session.begin_nested()
    message = receive(channel, contact, _inbound("wamid.s4", "Dit bericht wordt teruggedraaid"))
    assert sa.inspect(message).persistent
    savepoint.rollback()
    assert not sa.inspect(message).persistent
    assert thread.last_message_preview != "Dit bericht wordt teruggedraaid"
    assert thread.status == ThreadStatus.WAITING_CUSTOMER
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(CommunicationMessage.id))) == 0


def test_a_new_conversations_unset_json_columns_are_sql_null_as_after_a_flush(app):
    from app.conversations.contacts.identities import PHONE
    from app.conversations.core import Sender, record_inbound

    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    db.session.commit()
    message = record_inbound(
        channel, Sender(PHONE, "31655508888"), _inbound("wamid.s5", "Hallo, ik heb een vraag")
    )
    db.session.commit()
    reason = db.session.execute(
        sa.select(CommunicationThread.__table__.c.assignment_reason_text.is_(None)).where(
            CommunicationThread.id == message.thread_id
        )
    ).scalar()
    assert reason is True


def test_each_messages_text_joins_the_document_once(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the search document is PostgreSQL's")
    channel, contact, thread = _conversation()
    receive(channel, contact, _inbound("wamid.s6", "De wallbox knippert"))
    db.session.commit()
    receive(channel, contact, _inbound("wamid.s7", "Nu brandt het lampje rood"))
    db.session.commit()
    document = db.session.execute(
        sa.text("SELECT search_vector::text FROM communication_thread WHERE id = :id"),
        {"id": thread.id},
    ).scalar()
    # One position per word written once: a text appended twice would give two.
    for lexeme in ("'wallbox'", "'knippert'", "'lampj'", "'rod'"):
        entry = next(part for part in document.split(" ") if part.startswith(lexeme))
        assert "," not in entry, document
