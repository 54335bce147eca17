"""orders.customer_as_sent: the customer details an intake sent

An intake (partner API, partner e-mail, Make, Fillout) no longer changes a
known contact's e-mail or phone; the order keeps what was sent, and a
difference flags the order for review (issue 14). Orders made before have
nothing here (NULL).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    with op.batch_alter_table('orders') as batch_op:
        batch_op.add_column(sa.Column('customer_as_sent', JSON, nullable=True))


def downgrade():
    with op.batch_alter_table('orders') as batch_op:
        batch_op.drop_column('customer_as_sent')
