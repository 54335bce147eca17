"""mobile: the customer's signature for a visit, one per order

The technician's phone sends the signature drawn at completion; it is kept as
an internal note with the PNG on the order's thread, and ``visit_signatures``
says who signed and which note holds it. Unique on ``order_id``: a retried or
replayed upload finds the first signature instead of adding a second.

Revision ID: 0051
Revises: 0050
Create Date: 2026-11-23 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0051'
down_revision = '0050'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('visit_signatures',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('message_id', sa.Uuid(), nullable=False),
    sa.Column('technician_id', sa.Uuid(), nullable=True),
    sa.Column('signer_name', sa.String(length=120), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_signatures')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'],
                            name=op.f('fk_visit_signatures_order_id_orders'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['communication_message.id'],
                            name=op.f('fk_visit_signatures_message_id_communication_message'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['technician_id'], ['users.id'],
                            name=op.f('fk_visit_signatures_technician_id_users'),
                            ondelete='SET NULL'),
    sa.UniqueConstraint('order_id', name=op.f('uq_visit_signatures_order_id')),
    )
    op.create_index(op.f('ix_visit_signatures_message_id'), 'visit_signatures',
                    ['message_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_visit_signatures_message_id'), table_name='visit_signatures')
    op.drop_table('visit_signatures')
