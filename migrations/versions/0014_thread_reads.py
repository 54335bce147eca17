"""unread conversations: thread_reads and the thread's last customer message

``thread_reads`` holds, per agent and conversation, up to when the agent has
seen it; ``communication_thread.last_customer_message_at`` the newest customer
message, kept by ``record_inbound``. A conversation is unread for an agent when
the second is newer than the first (or the agent has no row). A partial index
on unassigned threads keeps the Unassigned tab's count an index-only count.

The backfill takes only customer messages nobody has marked read
(``read_at IS NULL``), so an upgrade does not turn every answered conversation of
the past into an unread one.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22 12:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('thread_reads',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('thread_id', sa.Uuid(), nullable=False),
    sa.Column('last_read_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['thread_id'], ['communication_thread.id'], name=op.f('fk_thread_reads_thread_id_communication_thread'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_thread_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_thread_reads')),
    sa.UniqueConstraint('user_id', 'thread_id', name=op.f('uq_thread_reads_user_id_thread_id'))
    )
    with op.batch_alter_table('thread_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_thread_reads_thread_id'), ['thread_id'], unique=False)

    with op.batch_alter_table('communication_thread', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_customer_message_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_communication_thread_unassigned', ['assigned_team_id', 'urgency_bucket'], unique=False, postgresql_where=sa.text('assigned_to_user_id IS NULL'), sqlite_where=sa.text('assigned_to_user_id IS NULL'))

    op.execute(sa.text(
        "UPDATE communication_thread SET last_customer_message_at = ("
        " SELECT max(m.created_at) FROM communication_message m"
        " WHERE m.thread_id = communication_thread.id"
        " AND m.message_type = 'incoming' AND m.read_at IS NULL)"
    ))


def downgrade():
    with op.batch_alter_table('communication_thread', schema=None) as batch_op:
        batch_op.drop_index('ix_communication_thread_unassigned', postgresql_where=sa.text('assigned_to_user_id IS NULL'), sqlite_where=sa.text('assigned_to_user_id IS NULL'))
        batch_op.drop_column('last_customer_message_at')

    with op.batch_alter_table('thread_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_thread_reads_thread_id'))

    op.drop_table('thread_reads')
