"""Inbox: the assignee index carries the thread's team, for the Overdue tab's count.

Revision ID: 0038
Revises: 0037
Create Date: 2026-11-23

The Overdue count of an agent includes threads assigned to them in another team's
queue (app/conversations/inbox/counts.py). With the team outside the (assignee, urgency) index,
PostgreSQL read every one of the agent's overdue threads from the table to check it:
71 ms at 10 M messages for an agent with 4,500 overdue threads. With the team as an
INCLUDE column the count is an index-only scan.
"""

from alembic import op

revision = '0038'
down_revision = '0037'
branch_labels = None
depends_on = None

COLUMNS = ['assigned_to_user_id', 'urgency_bucket', 'urgency_score', 'id']


def upgrade():
    op.drop_index('ix_communication_thread_assignee_urgency', table_name='communication_thread')
    op.create_index(
        'ix_communication_thread_assignee_urgency', 'communication_thread', COLUMNS,
        postgresql_include=['assigned_team_id'],
    )


def downgrade():
    op.drop_index('ix_communication_thread_assignee_urgency', table_name='communication_thread')
    op.create_index('ix_communication_thread_assignee_urgency', 'communication_thread', COLUMNS)
