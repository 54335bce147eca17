"""snoozed conversations

``communication_thread.snoozed_at`` marks a snoozed thread, ``snoozed_until``
its wake time (empty: until the customer replies), ``snoozed_by_user_id`` who
snoozed it. A partial index on ``snoozed_until`` is what the wake-up job reads.
No thread is snoozed before this revision, so nothing needs filling in.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-22 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('communication_thread', schema=None) as batch_op:
        batch_op.add_column(sa.Column('snoozed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('snoozed_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('snoozed_by_user_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_communication_thread_snoozed_by_user_id_users'),
            'users', ['snoozed_by_user_id'], ['id'], ondelete='SET NULL',
        )
        batch_op.create_index(
            'ix_communication_thread_snoozed_until', ['snoozed_until'], unique=False,
            postgresql_where=sa.text('snoozed_until IS NOT NULL'),
            sqlite_where=sa.text('snoozed_until IS NOT NULL'),
        )


def downgrade():
    with op.batch_alter_table('communication_thread', schema=None) as batch_op:
        batch_op.drop_index('ix_communication_thread_snoozed_until')
        batch_op.drop_constraint(
            batch_op.f('fk_communication_thread_snoozed_by_user_id_users'), type_='foreignkey'
        )
        batch_op.drop_column('snoozed_by_user_id')
        batch_op.drop_column('snoozed_until')
        batch_op.drop_column('snoozed_at')
