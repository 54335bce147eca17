"""The migration creates exactly the model, on whichever database the suite runs."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.platform.crypto import keyring
from app.platform.extensions import db
from app.platform.models import CommunicationChannel, PartnerIntegration
from app.platform.models.enums import ChannelType
from tests.support.factories import contact

COMMUNICATION_COLUMNS = {
    "communication_channel": {
        "id",
        "channel_type",
        "channel_name",
        "is_active",
        "configuration",
        "auto_assignment_rules",
        "response_sla_hours",
        "escalation_rules",
    },
    "communication_thread": {
        "id",
        "thread_subject",
        "thread_type",
        "priority",
        "status",
        "order_id",
        "customer_organization_id",
        "partner_organization_id",
        "assigned_to_user_id",
        "created_by_user_id",
        "last_message_at",
        "response_due_at",
        "tags",
        "external_references",
    },
    "communication_message": {
        "id",
        "thread_id",
        "channel_id",
        "message_type",
        "sender_user_id",
        "sender_external",
        "recipient_user_id",
        "recipient_external",
        "subject",
        "message_content",
        "message_html",
        "attachments",
        "external_message_id",
        "delivery_status",
        "read_at",
        "metadata",
    },
    "internal_task": {
        "id",
        "task_title",
        "task_description",
        "task_type",
        "priority",
        "status",
        "assigned_to_user_id",
        "created_by_user_id",
        "thread_id",
        "order_id",
        "due_date",
        "due_time",
        "completed_at",
        "completion_notes",
        "reminder_settings",
    },
    "communication_template": {
        "id",
        "template_name",
        "template_category",
        "channel_type",
        "subject_template",
        "message_template",
        "html_template",
        "variables",
        "business_entity",
        "is_active",
        "usage_count",
    },
}


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations drifted: {diff}"


def test_communication_tables_have_every_field(app):
    inspector = sa.inspect(db.engine)
    for table, expected in COMMUNICATION_COLUMNS.items():
        present = {column["name"] for column in inspector.get_columns(table)}
        assert expected <= present, f"{table} lacks {sorted(expected - present)}"


def test_every_table_has_uuid_key_and_timestamps(app):
    inspector = sa.inspect(db.engine)
    # Counters and the words of contacts' names are lookups kept beside the
    # records, not records: a key of its own would only make them larger.
    skip = {"alembic_version", "order_number_counters", "contact_name_words"}
    for table in inspector.get_table_names():
        if table in skip:
            continue
        columns = {c["name"] for c in inspector.get_columns(table)}
        assert {"id", "created_at", "updated_at"} <= columns, table
        assert inspector.get_pk_constraint(table)["constrained_columns"] == ["id"], table


def test_json_columns_are_jsonb_on_postgresql(app):
    if db.engine.dialect.name != "postgresql":
        return
    kinds = db.session.execute(
        sa.text(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'communication_thread' AND column_name = 'tags'"
        )
    ).scalar_one()
    assert kinds == "jsonb"


def test_secrets_are_encrypted_at_rest(app):
    channel = CommunicationChannel(
        channel_type=ChannelType.WHATSAPP_BUSINESS,
        channel_name="WhatsApp",
        configuration={"business_hours": "08:00-17:00"},
        credentials={"access_token": "EAAG-very-secret"},
    )
    db.session.add(channel)
    db.session.commit()
    raw = db.session.execute(
        sa.text("SELECT credentials FROM communication_channel WHERE id = :id"),
        {"id": channel.id.hex if db.engine.dialect.name == "sqlite" else channel.id},
    ).scalar_one()
    assert "EAAG-very-secret" not in raw
    assert keyring.decrypt(raw) == '{"access_token":"EAAG-very-secret"}'
    db.session.expire_all()
    assert db.session.get(CommunicationChannel, channel.id).credentials == {
        "access_token": "EAAG-very-secret"
    }
    assert PartnerIntegration.__table__.c.webhook_secret.type.__class__.__name__ == "EncryptedText"


def test_contact_defaults(app):
    record = contact(display_name="Jan Janssen")
    db.session.commit()
    assert record.locale == "nl"
    assert record.created_at.tzinfo is not None
