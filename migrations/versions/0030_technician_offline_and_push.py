"""the technician's phone offline and with Web Push

``mobile_actions``: form posts from the phone done once per ``client_action_id``
(a replay after a lost signal answers as before). ``push_subscriptions``: where
each technician's browser receives Web Push messages; ``push_deliveries``:
each push claimed once per subscription and event.

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-22 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def _entity_columns():
    return [
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade():
    op.create_table('mobile_actions',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('client_action_id', sa.Uuid(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('location', sa.String(length=500), nullable=True),
    *_entity_columns(),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mobile_actions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mobile_actions')),
    sa.UniqueConstraint('user_id', 'client_action_id', name=op.f('uq_mobile_actions_user_id_client_action_id'))
    )
    op.create_table('push_subscriptions',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('endpoint', sa.Text(), nullable=False),
    sa.Column('p256dh', sa.String(length=200), nullable=False),
    sa.Column('auth', sa.String(length=100), nullable=False),
    *_entity_columns(),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_push_subscriptions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscriptions')),
    sa.UniqueConstraint('endpoint', name=op.f('uq_push_subscriptions_endpoint'))
    )
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_subscriptions_user_id'), ['user_id'], unique=False)
    op.create_table('push_deliveries',
    sa.Column('subscription_id', sa.Uuid(), nullable=False),
    sa.Column('event_key', sa.String(length=120), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    *_entity_columns(),
    sa.ForeignKeyConstraint(['subscription_id'], ['push_subscriptions.id'], name=op.f('fk_push_deliveries_subscription_id_push_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_deliveries')),
    sa.UniqueConstraint('subscription_id', 'event_key', name=op.f('uq_push_deliveries_subscription_id_event_key'))
    )


def downgrade():
    op.drop_table('push_deliveries')
    with op.batch_alter_table('push_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_subscriptions_user_id'))
    op.drop_table('push_subscriptions')
    op.drop_table('mobile_actions')
