"""calendar: visits in technicians' calendars, agents' calendar subscriptions, follow-ups

``calendar_event`` is one planned visit in one technician's calendar, unique on
(order, technician) so a visit with several technicians has one row each and a
retried job finds the row (and Graph event) it made before. Users get the
Outlook mailbox of their calendar (unset: their e-mail), whether visits go to
Outlook at all, and the hash of their private iCalendar feed's token.
``calendar_subscription`` holds the Graph subscription on an agent's calendar,
``calendar_follow_up`` the task an Outlook meeting with a customer became,
unique on the meeting's iCalendar UID.

Revision ID: 0050
Revises: 0049
Create Date: 2026-11-23 19:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0050'
down_revision = '0049'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def _entity_columns(table):
    return (
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{table}')),
    )


def upgrade():
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('calendar_mailbox', sa.String(length=254), nullable=True))
        batch.add_column(sa.Column('outlook_calendar', sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
        batch.add_column(sa.Column('calendar_feed_hash', sa.String(length=64), nullable=True))
        batch.create_unique_constraint(batch.f('uq_users_calendar_feed_hash'),
                                       ['calendar_feed_hash'])
    op.create_table('calendar_event',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('technician_id', sa.Uuid(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('all_day', sa.Boolean(), nullable=False),
    sa.Column('details', JSON, nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mailbox', sa.String(length=254), nullable=True),
    sa.Column('graph_event_id', sa.String(length=512), nullable=True),
    sa.Column('transaction_id', sa.String(length=64), nullable=False),
    sa.Column('synced_sequence', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    *_entity_columns('calendar_event'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'],
                            name=op.f('fk_calendar_event_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['technician_id'], ['users.id'],
                            name=op.f('fk_calendar_event_technician_id_users'),
                            ondelete='CASCADE'),
    sa.UniqueConstraint('order_id', 'technician_id',
                        name=op.f('uq_calendar_event_order_id_technician_id')),
    )
    op.create_index(op.f('ix_calendar_event_order_id'), 'calendar_event', ['order_id'])
    op.create_index('ix_calendar_event_technician_start', 'calendar_event',
                    ['technician_id', 'starts_at'])
    op.create_table('calendar_subscription',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('mailbox', sa.String(length=254), nullable=False),
    sa.Column('subscription_id', sa.String(length=64), nullable=True),
    sa.Column('notification_url', sa.String(length=500), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('client_state', sa.Text(), nullable=False),
    *_entity_columns('calendar_subscription'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_calendar_subscription_user_id_users'),
                            ondelete='CASCADE'),
    sa.UniqueConstraint('user_id', name=op.f('uq_calendar_subscription_user_id')),
    )
    op.create_index(op.f('ix_calendar_subscription_subscription_id'), 'calendar_subscription',
                    ['subscription_id'])
    op.create_table('calendar_follow_up',
    sa.Column('ical_uid', sa.String(length=512), nullable=False),
    sa.Column('graph_event_id', sa.String(length=512), nullable=False),
    sa.Column('mailbox', sa.String(length=254), nullable=False),
    sa.Column('task_id', sa.Uuid(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    *_entity_columns('calendar_follow_up'),
    sa.ForeignKeyConstraint(['task_id'], ['internal_task.id'],
                            name=op.f('fk_calendar_follow_up_task_id_internal_task'),
                            ondelete='SET NULL'),
    sa.UniqueConstraint('ical_uid', name=op.f('uq_calendar_follow_up_ical_uid')),
    )


def downgrade():
    op.drop_table('calendar_follow_up')
    op.drop_index(op.f('ix_calendar_subscription_subscription_id'), 'calendar_subscription')
    op.drop_table('calendar_subscription')
    op.drop_index('ix_calendar_event_technician_start', 'calendar_event')
    op.drop_index(op.f('ix_calendar_event_order_id'), 'calendar_event')
    op.drop_table('calendar_event')
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint(batch.f('uq_users_calendar_feed_hash'), type_='unique')
        batch.drop_column('calendar_feed_hash')
        batch.drop_column('outlook_calendar')
        batch.drop_column('calendar_mailbox')
