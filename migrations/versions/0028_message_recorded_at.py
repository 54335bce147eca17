"""when each message was recorded, for the reply box's collision check

``communication_message.recorded_at``: when we wrote the message down, apart
from ``created_at`` (when it happened: a customer's message carries the
provider's time). Existing messages take their ``created_at``.

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-22 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('communication_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=True))
    op.execute("UPDATE communication_message SET recorded_at = created_at")
    with op.batch_alter_table('communication_message', schema=None) as batch_op:
        batch_op.alter_column('recorded_at', existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade():
    with op.batch_alter_table('communication_message', schema=None) as batch_op:
        batch_op.drop_column('recorded_at')
