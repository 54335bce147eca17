"""a user's interface language

``users.language`` is "nl" or "en", or NULL: the browser's language decides,
and Dutch when the browser says nothing we speak (``DEFAULT_LANGUAGE``).

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-22 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=5), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('language')
