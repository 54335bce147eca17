"""technician's phone: status taps held for Undo, and quick replies that fit the day

``pending_visit_moves`` holds a tap ("Completed") until its undo window closes;
one waiting tap per order (partial unique index). The visit reminders now say
"vandaag tussen 12:00 en 17:00" through ``{{visit_moment}}`` (only where the
seeded text was never edited), and an existing install gets the technician's
quick replies "Ik ben onderweg", "Ik ben 15 minuten later", "Ik sta voor de deur".

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-22 22:00:00

"""
import uuid
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB


# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

OLD_REMINDERS = {
    "visit_reminder": (
        "Beste {{customer_name}},\n\nMorgen, {{visit_date}} om {{visit_time}}, komt "
        "{{technician_name}} uw laadpaal installeren. Bereikbaar op {{technician_phone}}.\n\n"
        "Ter voorbereiding: {{preparation_notes}}"
    ),
    "visit_reminder_whatsapp": (
        "Hoi {{customer_name}}, een herinnering: op {{visit_date}} om {{visit_time}} komt "
        "{{technician_name}} de laadpaal installeren. Zorgt u dat de meterkast vrij "
        "toegankelijk is? Groet, ChargeCars"
    ),
    "visit_reminder_sms": (
        "ChargeCars: op {{visit_date}} om {{visit_time}} installeert {{technician_name}} uw "
        "laadpaal. Past dit niet? Bel 030-2001234."
    ),
}
NEW_REMINDERS = {
    "visit_reminder": (
        "Beste {{customer_name}},\n\nEen herinnering aan de installatie van uw laadpaal.\n"
        "Wanneer: {{visit_moment}}\nMonteur: {{technician_name}}, bereikbaar op "
        "{{technician_phone}}.\n\nTer voorbereiding: {{preparation_notes}}"
    ),
    "visit_reminder_whatsapp": (
        "Hoi {{customer_name}}, een herinnering aan de installatie van uw laadpaal. "
        "Wanneer: {{visit_moment}}. Monteur: {{technician_name}}. Zorgt u dat de meterkast "
        "vrij toegankelijk is? Groet, ChargeCars"
    ),
    "visit_reminder_sms": (
        "ChargeCars installeert uw laadpaal {{visit_moment}} (monteur {{technician_name}}). "
        "Past dit niet? Bel 030-2001234."
    ),
}
# name, display name, description, body (as app/seed/demo_catalogue.py seeds them).
QUICK_REPLIES = (
    (
        "technician_eta",
        "Ik ben onderweg",
        "From the technician's phone: on the way, with the expected arrival picked there.",
        "Hoi {{customer_name}}, ik ben onderweg naar u voor de installatie van uw laadpaal. "
        "Verwachte aankomst: {{eta}}. Groet, {{technician_name}} van ChargeCars",
    ),
    (
        "technician_running_late",
        "Ik ben 15 minuten later",
        "From the technician's phone: running about 15 minutes late.",
        "Hoi {{customer_name}}, ik ben ongeveer 15 minuten later dan gepland. Excuses voor "
        "het wachten! Groet, {{technician_name}} van ChargeCars",
    ),
    (
        "technician_at_the_door",
        "Ik sta voor de deur",
        "From the technician's phone: at the customer's door.",
        "Hoi {{customer_name}}, ik sta voor de deur voor de installatie van uw laadpaal. "
        "Groet, {{technician_name}} van ChargeCars",
    ),
)


def _variables(body):
    names = []
    for part in body.split("{{")[1:]:
        name = part.split("}}")[0].strip()
        if name not in names:
            names.append(name)
    return names


def upgrade():
    op.create_table('pending_visit_moves',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('technician_id', sa.Uuid(), nullable=False),
    sa.Column('tap', sa.String(length=32), nullable=False),
    sa.Column('expected_status', sa.String(length=32), nullable=False),
    sa.Column('apply_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_pending_visit_moves_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['technician_id'], ['users.id'], name=op.f('fk_pending_visit_moves_technician_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_visit_moves'))
    )
    with op.batch_alter_table('pending_visit_moves', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_visit_moves_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_pending_visit_moves_state_apply_at', ['state', 'apply_at'], unique=False)
        batch_op.create_index('uq_pending_visit_moves_order_waiting', ['order_id'], unique=True, postgresql_where=sa.text("state = 'pending'"), sqlite_where=sa.text("state = 'pending'"))

    connection = op.get_bind()
    for name, old in OLD_REMINDERS.items():
        new = NEW_REMINDERS[name]
        connection.execute(
            sa.text(
                "UPDATE communication_template SET message_template = :new "
                "WHERE template_name = :name AND message_template = :old"
            ),
            {"name": name, "old": old, "new": new},
        )
    _add_quick_replies(connection)


def _add_quick_replies(connection):
    templates = sa.table(
        'communication_template',
        sa.column('id', sa.Uuid()),
        sa.column('created_at', sa.DateTime(timezone=True)),
        sa.column('updated_at', sa.DateTime(timezone=True)),
        sa.column('template_name', sa.String()),
        sa.column('display_name', sa.String()),
        sa.column('description', sa.Text()),
        sa.column('template_category', sa.String()),
        sa.column('channel_type', sa.String()),
        sa.column('message_template', sa.Text()),
        sa.column('variables', sa.JSON().with_variant(JSONB(), 'postgresql')),
        sa.column('business_entity', sa.String()),
        sa.column('language', sa.String()),
        sa.column('is_active', sa.Boolean()),
        sa.column('usage_count', sa.Integer()),
    )
    existing = set(connection.scalars(sa.select(templates.c.template_name)))
    now = datetime.now(timezone.utc)
    rows = [
        {
            "id": uuid.uuid4(),
            "created_at": now,
            "updated_at": now,
            "template_name": name,
            "display_name": display,
            "description": description,
            "template_category": "installation_scheduling",
            "channel_type": "any",
            "message_template": body,
            "variables": _variables(body),
            "business_entity": "chargecars",
            "language": "nl",
            "is_active": True,
            "usage_count": 0,
        }
        for name, display, description, body in QUICK_REPLIES
        if name not in existing
    ]
    if rows:
        connection.execute(sa.insert(templates), rows)


def downgrade():
    connection = op.get_bind()
    connection.execute(
        sa.text("DELETE FROM communication_template WHERE template_name IN (:a, :b, :c) AND usage_count = 0"),
        dict(zip("abc", [name for name, *_rest in QUICK_REPLIES])),
    )
    for name, old in OLD_REMINDERS.items():
        connection.execute(
            sa.text(
                "UPDATE communication_template SET message_template = :old "
                "WHERE template_name = :name AND message_template = :new"
            ),
            {"name": name, "old": old, "new": NEW_REMINDERS[name]},
        )
    op.drop_table('pending_visit_moves')
