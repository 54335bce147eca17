"""The customer's reminder the day before a visit, with Bevestigen / Verzetten

One row per visit and visit date (unique): the claim that makes a reminder go
once however many workers run the job, and where the customer's answer lands
(confirmed, asked to move) or the desk's flag for an unanswered one. Adds the
WhatsApp template ``visit_reminder`` (approved at Meta with two quick-reply
buttons, "Bevestigen" and "Verzetten") where no template of that name exists.

Revision ID: 0082_visit_confirmations
Revises: 0081_customer_links
Create Date: 2026-11-29 09:00:00

"""

import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0082_visit_confirmations"
down_revision = "0081_customer_links"
branch_labels = None
depends_on = None

TEMPLATE_NAME = "visit_reminder_whatsapp"
WHATSAPP_NAME = "visit_reminder"
BODY = (
    "Hoi {{customer_name}}, een herinnering aan de installatie van uw laadpaal. "
    "Wanneer: {{visit_moment}}. Monteur: {{technician_name}}. Zorgt u dat de meterkast "
    "vrij toegankelijk is? Tik op Bevestigen als het past, of op Verzetten. Uw afspraak "
    "bekijken: {{customer_link}} Groet, ChargeCars"
)


def upgrade():
    op.create_table(
        "visit_reminders",
        sa.Column("visit_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("move_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["communication_message.id"],
            name=op.f("fk_visit_reminders_message_id_communication_message"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_visit_reminders_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visits.id"],
            name=op.f("fk_visit_reminders_visit_id_visits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_reminders")),
        sa.UniqueConstraint(
            "visit_id", "visit_date", name=op.f("uq_visit_reminders_visit_id_visit_date")
        ),
    )
    with op.batch_alter_table("visit_reminders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visit_reminders_order_id"), ["order_id"])
        batch_op.create_index(batch_op.f("ix_visit_reminders_visit_date"), ["visit_date"])
    _add_template(op.get_bind())


def downgrade():
    op.get_bind().execute(
        sa.text(
            "DELETE FROM communication_template WHERE template_name = :name AND usage_count = 0"
        ),
        {"name": TEMPLATE_NAME},
    )
    with op.batch_alter_table("visit_reminders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_reminders_visit_date"))
        batch_op.drop_index(batch_op.f("ix_visit_reminders_order_id"))
    op.drop_table("visit_reminders")


def _add_template(connection):
    templates = sa.table(
        "communication_template",
        sa.column("id", sa.Uuid()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("template_name", sa.String()),
        sa.column("display_name", sa.String()),
        sa.column("description", sa.Text()),
        sa.column("template_category", sa.String()),
        sa.column("channel_type", sa.String()),
        sa.column("message_template", sa.Text()),
        sa.column("variables", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
        sa.column("business_entity", sa.String()),
        sa.column("whatsapp_template_name", sa.String()),
        sa.column("language", sa.String()),
        sa.column("is_active", sa.Boolean()),
        sa.column("usage_count", sa.Integer()),
    )
    # A deployment that already mirrors Meta's visit_reminder keeps its own row.
    existing = connection.scalar(
        sa.select(sa.func.count()).where(
            sa.or_(
                templates.c.template_name == TEMPLATE_NAME,
                templates.c.whatsapp_template_name == WHATSAPP_NAME,
            )
        )
    )
    if existing:
        return
    now = datetime.now(timezone.utc)
    connection.execute(
        sa.insert(templates),
        [
            {
                "id": uuid.uuid4(),
                "created_at": now,
                "updated_at": now,
                "template_name": TEMPLATE_NAME,
                "display_name": "Herinnering bezoek (WhatsApp)",
                "description": (
                    "De dag voor het bezoek, via WhatsApp. Goedgekeurd sjabloon met de "
                    "knoppen Bevestigen en Verzetten."
                ),
                "template_category": "installation_scheduling",
                "channel_type": "whatsapp_business",
                "message_template": BODY,
                "variables": ["customer_name", "visit_moment", "technician_name", "customer_link"],
                "business_entity": "chargecars",
                "whatsapp_template_name": WHATSAPP_NAME,
                "language": "nl",
                "is_active": True,
                "usage_count": 0,
            }
        ],
    )
