"""composer drafts and undo send

``message_drafts``: what an agent typed in a conversation's reply or note box,
one row per (user, thread, kind), saved with an upsert on that unique key.

``communication_message.send_held_until``: an agent's reply waits until then
before it is sent, while Undo can still withdraw it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 12:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('message_drafts',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('thread_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['thread_id'], ['communication_thread.id'], name=op.f('fk_message_drafts_thread_id_communication_thread'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_message_drafts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_drafts')),
    sa.UniqueConstraint('user_id', 'thread_id', 'kind', name=op.f('uq_message_drafts_user_id_thread_id_kind'))
    )
    with op.batch_alter_table('message_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_drafts_thread_id'), ['thread_id'], unique=False)

    with op.batch_alter_table('communication_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_held_until', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('communication_message', schema=None) as batch_op:
        batch_op.drop_column('send_held_until')

    with op.batch_alter_table('message_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_drafts_thread_id'))

    op.drop_table('message_drafts')
