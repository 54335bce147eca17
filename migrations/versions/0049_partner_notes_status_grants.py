"""orders: a partner-visible note beside the internal reason; partners: status grants;
visits: customer notices claimed once per visit day

Issue 28 points 4-6. ``order_status_transitions.partner_note`` is what a
partner may read about a move (the internal ``transition_reason`` never leaves
us). ``partner_integrations.granted_statuses`` lists our statuses a partner's
own status may reach (default ``["on_hold"]``, as the rule was before).
``visit_customer_notices`` holds one row per (order, visit day, kind): the
"on my way" message is composed only by whoever inserts that row.

Revision ID: 0049
Revises: 0048
Create Date: 2026-11-23 19:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0049'
down_revision = '0048'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    with op.batch_alter_table('order_status_transitions') as batch:
        batch.add_column(sa.Column('partner_note', sa.Text(), nullable=True))
    with op.batch_alter_table('partner_integrations') as batch:
        batch.add_column(sa.Column('granted_statuses', JSON, nullable=False,
                                   server_default=sa.text('\'["on_hold"]\'')))
    op.create_table('visit_customer_notices',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('visit_day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('message_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_customer_notices')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'],
                            name=op.f('fk_visit_customer_notices_order_id_orders'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['communication_message.id'],
                            name=op.f('fk_visit_customer_notices_message_id_communication_message'),
                            ondelete='CASCADE'),
    sa.UniqueConstraint('order_id', 'visit_day', 'kind',
                        name=op.f('uq_visit_customer_notices_order_id_visit_day_kind')),
    )


def downgrade():
    op.drop_table('visit_customer_notices')
    with op.batch_alter_table('partner_integrations') as batch:
        batch.drop_column('granted_statuses')
    with op.batch_alter_table('order_status_transitions') as batch:
        batch.drop_column('partner_note')
