"""outlook mailboxes: several mailboxes, each with its own subscriptions and delta state

``outlook_mailbox``: one row per mailbox Switchboard reads (its own e-mail
channel, team, Graph subscriptions and delta links). The Graph state kept so far
on the Outlook channel's settings moves to a default mailbox row for that
channel, named by the state itself or by ``GRAPH_MAILBOX``.

Revision ID: 0033
Revises: 0032
Create Date: 2026-11-22 22:00:00

"""
import os
import uuid
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('outlook_mailbox',
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=True),
    sa.Column('channel_id', sa.Uuid(), nullable=False),
    sa.Column('team_id', sa.Uuid(), nullable=True),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('subscriptions', JSON, nullable=False),
    sa.Column('delta_state', JSON, nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['communication_channel.id'], name=op.f('fk_outlook_mailbox_channel_id_communication_channel'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_outlook_mailbox_team_id_teams'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outlook_mailbox')),
    sa.UniqueConstraint('address', name=op.f('uq_outlook_mailbox_address')),
    sa.UniqueConstraint('channel_id', name=op.f('uq_outlook_mailbox_channel_id'))
    )
    with op.batch_alter_table('outlook_mailbox', schema=None) as batch_op:
        batch_op.create_index('uq_outlook_mailbox_default', ['is_default'], unique=True, postgresql_where=sa.text('is_default'), sqlite_where=sa.text('is_default'))
    _move_channel_state()


def downgrade():
    with op.batch_alter_table('outlook_mailbox', schema=None) as batch_op:
        batch_op.drop_index('uq_outlook_mailbox_default', postgresql_where=sa.text('is_default'), sqlite_where=sa.text('is_default'))
    op.drop_table('outlook_mailbox')


channel = sa.table(
    'communication_channel',
    sa.column('id', sa.Uuid()),
    sa.column('channel_type', sa.String()),
    sa.column('is_active', sa.Boolean()),
    sa.column('created_at', sa.DateTime(timezone=True)),
    sa.column('configuration', JSON),
)
mailbox = sa.table(
    'outlook_mailbox',
    sa.column('id', sa.Uuid()),
    sa.column('address', sa.String()),
    sa.column('channel_id', sa.Uuid()),
    sa.column('is_default', sa.Boolean()),
    sa.column('is_active', sa.Boolean()),
    sa.column('subscriptions', JSON),
    sa.column('delta_state', JSON),
    sa.column('created_at', sa.DateTime(timezone=True)),
    sa.column('updated_at', sa.DateTime(timezone=True)),
)


def _move_channel_state():
    bind = op.get_bind()
    row = bind.execute(
        sa.select(channel.c.id, channel.c.configuration)
        .where(channel.c.channel_type == 'email_outlook')
        .order_by(channel.c.is_active.desc(), channel.c.created_at)
        .limit(1)
    ).first()
    if row is None:
        return
    settings = dict(row.configuration or {})
    subscription = settings.pop('graph_subscription', None)
    delta = settings.pop('graph_delta', None)
    address = (delta or {}).get('mailbox') or _resource_mailbox(subscription) or os.environ.get('GRAPH_MAILBOX')
    if not address:
        return  # never connected: the app makes the default mailbox on first use
    now = datetime.now(timezone.utc)
    bind.execute(mailbox.insert().values(
        id=uuid.uuid4(),
        address=address.strip().lower(),
        channel_id=row.id,
        is_default=True,
        is_active=True,
        subscriptions={'inbox': subscription} if subscription else {},
        delta_state={'inbox': delta} if delta else {},
        created_at=now,
        updated_at=now,
    ))
    bind.execute(channel.update().where(channel.c.id == row.id).values(configuration=settings))


def _resource_mailbox(subscription):
    # "users/{mailbox}/mailFolders('Inbox')/messages"
    parts = ((subscription or {}).get('resource') or '').split('/')
    return parts[1] if len(parts) > 2 and parts[0] == 'users' else None
