"""one unread reply/assignment notice per user and thread, as a unique key

Two workers handling one customer's burst each checked for an unread notice,
found none and both wrote one. A partial unique index makes the second insert
fail; the listener then leaves it at the first. Duplicates already written are
marked read first (the newest stays unread), so the index can be built.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-22 15:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

UNREAD_THREAD_NOTICE = (
    "read_at IS NULL AND source_table = 'communication_thread' "
    "AND notification_type IN ('customer_reply', 'thread_assigned')"
)


def upgrade():
    op.execute(
        f"""
        UPDATE notifications SET read_at = created_at
        WHERE {UNREAD_THREAD_NOTICE}
          AND EXISTS (
            SELECT 1 FROM notifications AS newer
            WHERE newer.user_id = notifications.user_id
              AND newer.source_record_id = notifications.source_record_id
              AND newer.read_at IS NULL
              AND newer.source_table = 'communication_thread'
              AND newer.notification_type IN ('customer_reply', 'thread_assigned')
              AND (newer.created_at, newer.id) > (notifications.created_at, notifications.id)
          )
        """
    )
    op.create_index(
        'uq_notifications_unread_thread_notice',
        'notifications',
        ['user_id', 'source_record_id'],
        unique=True,
        sqlite_where=sa.text(UNREAD_THREAD_NOTICE),
        postgresql_where=sa.text(UNREAD_THREAD_NOTICE),
    )


def downgrade():
    op.drop_index('uq_notifications_unread_thread_notice', table_name='notifications')
