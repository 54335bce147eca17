"""analytics roll-ups: daily aggregates per channel, team and sender, and the days they cover

``/analytics`` reads a year from these instead of the message table (issue
17.4). The tables start empty: until ``flask analytics rebuild`` has filled
them, every day is computed directly from the source rows, as before, so the
figures never depend on the roll-ups having been built. The new indexes on
created/resolved times let one day be recomputed without a table scan; the
partial one on open threads' assignees counts the workload figure's open
conversations without reading every closed thread.

Revision ID: 0037
Revises: 0034
Create Date: 2026-11-23 01:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0037'
down_revision = '0034'
branch_labels = None
depends_on = None


def _entity():
    return [
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade():
    op.create_table('analytics_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('as_of', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    *_entity(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_days')),
    sa.UniqueConstraint('day', name=op.f('uq_analytics_days_day')),
    )
    op.create_table('analytics_dirty_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('marked_at', sa.DateTime(timezone=True), nullable=False),
    *_entity(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_dirty_days')),
    sa.UniqueConstraint('day', name=op.f('uq_analytics_dirty_days_day')),
    )
    counts = ('threads', 'escalated', 'first_responses')
    op.create_table('analytics_thread_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel_id', sa.Uuid(), nullable=True),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    *(sa.Column(name, sa.Integer(), nullable=False) for name in counts),
    sa.Column('first_response_seconds', sa.BigInteger(), nullable=False),
    *(sa.Column(name, sa.Integer(), nullable=False)
      for name in ('sla_threads', 'sla_met', 'sla_missed', 'sla_running', 'resolved')),
    sa.Column('resolution_seconds', sa.BigInteger(), nullable=False),
    *_entity(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_thread_daily')),
    sa.UniqueConstraint('day', 'channel_id', 'team_id',
                        name=op.f('uq_analytics_thread_daily_day_channel_id_team_id'),
                        postgresql_nulls_not_distinct=True),
    )
    op.create_table('analytics_message_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel_id', sa.Uuid(), nullable=True),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    *(sa.Column(name, sa.Integer(), nullable=False)
      for name in ('messages', 'outbound', 'templated')),
    *_entity(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_message_daily')),
    sa.UniqueConstraint('day', 'channel_id', 'team_id',
                        name=op.f('uq_analytics_message_daily_day_channel_id_team_id'),
                        postgresql_nulls_not_distinct=True),
    )
    op.create_table('analytics_sender_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    *_entity(),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_sender_daily')),
    sa.UniqueConstraint('day', 'user_id', name=op.f('uq_analytics_sender_daily_day_user_id')),
    )
    op.create_index('ix_communication_thread_created', 'communication_thread', ['created_at'])
    op.create_index('ix_communication_thread_resolved', 'communication_thread', ['resolved_at'])
    op.create_index('ix_communication_message_created', 'communication_message', ['created_at'])
    op.create_index('ix_communication_thread_open_assignee', 'communication_thread',
                    ['assigned_to_user_id'],
                    postgresql_where=sa.text("status NOT IN ('resolved', 'closed')"),
                    sqlite_where=sa.text("status NOT IN ('resolved', 'closed')"))


def downgrade():
    op.drop_index('ix_communication_thread_open_assignee', table_name='communication_thread')
    op.drop_index('ix_communication_message_created', table_name='communication_message')
    op.drop_index('ix_communication_thread_resolved', table_name='communication_thread')
    op.drop_index('ix_communication_thread_created', table_name='communication_thread')
    for table in ('analytics_sender_daily', 'analytics_message_daily', 'analytics_thread_daily',
                  'analytics_dirty_days', 'analytics_days'):
        op.drop_table(table)
