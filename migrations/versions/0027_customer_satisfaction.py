"""customer satisfaction: the rating question of each resolution, and the answer

``csat_responses`` holds one row per resolution of a conversation (unique on
the thread and the moment it was resolved), written before the question goes
out, so duplicate events and two workers never ask twice.

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-22 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('csat_responses',
    sa.Column('thread_id', sa.Uuid(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('agent_id', sa.Uuid(), nullable=True),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('channel_id', sa.Uuid(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('skip_reason', sa.String(length=32), nullable=True),
    sa.Column('ask_channel', sa.String(length=16), nullable=True),
    sa.Column('message_id', sa.Uuid(), nullable=True),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rating', sa.SmallInteger(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answer_channel', sa.String(length=16), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('rating IS NULL OR rating BETWEEN 1 AND 5', name=op.f('ck_csat_responses_rating_range')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_csat_responses_agent_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['channel_id'], ['communication_channel.id'], name=op.f('fk_csat_responses_channel_id_communication_channel'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_csat_responses_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['communication_message.id'], name=op.f('fk_csat_responses_message_id_communication_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_csat_responses_team_id_teams'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['thread_id'], ['communication_thread.id'], name=op.f('fk_csat_responses_thread_id_communication_thread'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_csat_responses')),
    sa.UniqueConstraint('thread_id', 'resolved_at', name=op.f('uq_csat_responses_thread_id_resolved_at'))
    )
    with op.batch_alter_table('csat_responses', schema=None) as batch_op:
        batch_op.create_index('ix_csat_responses_contact_asked', ['contact_id', 'asked_at'], unique=False)
        batch_op.create_index('ix_csat_responses_answered', ['answered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_csat_responses_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_csat_responses_team_id'), ['team_id'], unique=False)


def downgrade():
    op.drop_table('csat_responses')
