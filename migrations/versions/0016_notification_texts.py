"""notifications in the reader's language: title_text and message_text

A notification's title and message are catalogue sentences (app/platform/system_texts.py)
stored as key and parameters, rendered in the reader's language in the bell and
the live push. ``title``/``message`` keep the English for the API and search.
Rows written before have no sentence and are shown as they were stored.

Revision ID: 0016
Revises: 0015 (the coordinator re-chains it after 0015)
Create Date: 2026-11-22 13:40:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    with op.batch_alter_table('notifications') as batch_op:
        batch_op.add_column(sa.Column('title_text', JSON, nullable=True))
        batch_op.add_column(sa.Column('message_text', JSON, nullable=True))


def downgrade():
    with op.batch_alter_table('notifications') as batch_op:
        batch_op.drop_column('message_text')
        batch_op.drop_column('title_text')
