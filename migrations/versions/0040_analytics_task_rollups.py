"""analytics: tasks completed per day rolled up, and an index on their completion time

The tasks figure of ``/analytics`` counted every completed task of the range
directly: 200,000 tasks at 10 M messages, read in full for a year (no index on
``completed_at``). ``analytics_task_daily`` holds them per day, assigned team and
assignee, kept by the dirty-day mechanism of 0037 and filled by
``flask analytics rebuild``; until then the tasks are read directly, as before.

Revision ID: 0040
Revises: 0038
Create Date: 2026-11-23 05:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0040'
down_revision = '0038'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('analytics_task_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    *(sa.Column(name, sa.Integer(), nullable=False)
      for name in ('completed', 'with_due', 'on_time')),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_task_daily')),
    sa.UniqueConstraint('day', 'team_id', 'user_id',
                        name=op.f('uq_analytics_task_daily_day_team_id_user_id'),
                        postgresql_nulls_not_distinct=True),
    )
    op.create_index('ix_internal_task_completed', 'internal_task', ['completed_at'])
    # Days already rolled up would read 0 tasks from the empty table: fill it for
    # them, with the figure's own conditions (app/analytics/definitions.py).
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(BACKFILL)
    else:
        op.execute('DELETE FROM analytics_days')  # read directly until the next rebuild


BACKFILL = """
INSERT INTO analytics_task_daily (id, day, team_id, user_id, completed, with_due, on_time,
                                  created_at, updated_at)
SELECT gen_random_uuid(), d, assigned_team_id, assigned_to_user_id, count(*), count(due_date),
       count(*) FILTER (WHERE due_date IS NOT NULL AND (d < due_date OR (d = due_date AND (
           due_time IS NULL
           OR to_char(timezone('Europe/Amsterdam', completed_at), 'HH24:MI') <= due_time)))),
       now(), now()
FROM (SELECT *, CAST(timezone('Europe/Amsterdam', completed_at) AS DATE) AS d
      FROM internal_task WHERE status = 'completed' AND completed_at IS NOT NULL) t
WHERE d IN (SELECT day FROM analytics_days)
GROUP BY d, assigned_team_id, assigned_to_user_id
"""


def downgrade():
    op.drop_index('ix_internal_task_completed', table_name='internal_task')
    op.drop_table('analytics_task_daily')
