"""The statements every inbound message makes keep cheap plans as the tables grow.

psycopg prepares a statement a connection runs often, and PostgreSQL then settles
on a generic plan, made without the values. These tests ask for that plan
(``plan_cache_mode = force_generic_plan``) on a channel with many conversations,
and read what it does.
"""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from app.conversations.contacts.identities import PHONE, claim
from app.conversations.core.senders import _look_up_statement
from app.conversations.core.threads import CLOSED
from app.conversations.inbox.search import _rebuild_statement, rebuild_search_documents
from app.platform.extensions import db
from app.platform.models import CommunicationThread
from app.platform.models.enums import ChannelType
from tests.conftest import TEST_DATABASE_URL
from tests.support import factories

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL, reason="PostgreSQL's plans (CI runs it)")

THREADS_ON_THE_CHANNEL = 3000


def _busy_channel():
    """A WhatsApp channel with thousands of conversations, its statistics taken."""
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS)
    contact = factories.contact(phone="+31655501234")
    assert claim(PHONE, "+31655501234", contact.id)
    # Copies of another customer's conversation, all on this channel.
    other = factories.thread(channel, factories.contact())
    columns = [c.name for c in CommunicationThread.__table__.columns]
    copied = ", ".join("gen_random_uuid()" if c == "id" else c for c in columns)
    db.session.execute(
        sa.text(
            f"INSERT INTO communication_thread ({', '.join(columns)})"  # noqa: S608 (model's names)
            f" SELECT {copied} FROM communication_thread, generate_series(1, :n)"
            " WHERE communication_thread.id = :other"
        ),
        {"other": other.id, "n": THREADS_ON_THE_CHANNEL},
    )
    mine = factories.thread(channel, contact)
    db.session.commit()
    db.session.execute(sa.text("ANALYZE communication_thread"))
    db.session.execute(sa.text("ANALYZE contact_identities"))
    return channel, contact, mine


def _generic_plan(statement: sa.ClauseElement, values: dict) -> str:
    """EXPLAIN ANALYZE of ``statement``'s generic plan, run with ``values``."""
    compiled = statement.compile(dialect=db.engine.dialect)
    names: list[str] = []
    # A list of statuses (NOT IN) is written out, as SQLAlchemy does when it runs.
    sql = re.sub(
        r"__\[POSTCOMPILE_(\w+)\]",
        lambda match: ", ".join(f"'{status.value}'" for status in CLOSED),
        compiled.string,
    )

    def positional(match: re.Match) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    sql = re.sub(r"%\((\w+)\)s", positional, sql)
    params = compiled.construct_params(values)
    connection = db.session.connection()
    connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    connection.exec_driver_sql(f"PREPARE inbound_look_up AS {sql}")
    try:
        # Values written out: the plan is the generic one whatever EXECUTE is given.
        arguments = ", ".join(_literal(params[name]) for name in names)
        lines = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, COSTS OFF) EXECUTE inbound_look_up({arguments})"
        ).scalars()
        return "\n".join(lines)
    finally:
        connection.exec_driver_sql("DEALLOCATE inbound_look_up")


def _literal(value) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def test_the_senders_open_conversation_is_one_index_probe_however_busy_the_channel(app):
    channel, contact, mine = _busy_channel()
    statement = _look_up_statement(True, "phone")
    values = {
        "channel_id": channel.id,
        "external_message_id": "wamid.plan",
        "kind": "phone",
        "address": "+31655501234",
    }

    plan = _generic_plan(statement, values)

    assert "ix_communication_thread_contact_channel" in plan, plan
    # Before: the contact's index ANDed with a bitmap of every thread of the channel.
    assert "BitmapAnd" not in plan, plan
    assert "channel_urgency" not in plan, plan
    found = db.session.execute(statement, values).one()
    assert (found[0].id, found[1].id) == (contact.id, mine.id)


def test_a_new_conversations_search_document_is_rebuilt_by_its_key(app):
    channel, contact, mine = _busy_channel()
    plan = _generic_plan(
        _rebuild_statement("one"),
        {"config": "simple", "dash": "-", "id": mine.id},
    )

    assert re.search(r"Index Scan using pk_communication_thread on communication_thread t\b", plan)
    assert "Seq Scan on communication_thread" not in plan, plan
    assert rebuild_search_documents([mine.id]) == 1
    assert rebuild_search_documents([mine.id, uuid.uuid4()]) == 1
