"""logged phone calls: direction, duration and outcome of each call an agent logs

``phone_calls`` holds one row per logged call, beside its message in the
thread (unique on the message); analytics counts calls and talk time from it.

Revision ID: 0034
Revises: 0033
Create Date: 2026-11-22 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('phone_calls',
    sa.Column('message_id', sa.Uuid(), nullable=False),
    sa.Column('agent_id', sa.Uuid(), nullable=True),
    sa.Column('direction', sa.Enum('inbound', 'outbound', name='calldirection', native_enum=False, length=32), nullable=False),
    sa.Column('outcome', sa.Enum('reached', 'no_answer', 'voicemail', 'wrong_number', 'callback_requested', name='calloutcome', native_enum=False, length=32), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), nullable=False),
    sa.Column('called_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('duration_seconds BETWEEN 0 AND 10800', name=op.f('ck_phone_calls_duration_range')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_phone_calls_agent_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['communication_message.id'], name=op.f('fk_phone_calls_message_id_communication_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_calls')),
    sa.UniqueConstraint('message_id', name=op.f('uq_phone_calls_message_id'))
    )
    with op.batch_alter_table('phone_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_phone_calls_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index('ix_phone_calls_called_at', ['called_at'], unique=False)


def downgrade():
    with op.batch_alter_table('phone_calls', schema=None) as batch_op:
        batch_op.drop_index('ix_phone_calls_called_at')
        batch_op.drop_index(batch_op.f('ix_phone_calls_agent_id'))

    op.drop_table('phone_calls')
