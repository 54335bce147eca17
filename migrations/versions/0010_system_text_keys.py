"""system text keys of routing reasons

Routing reasons ("Why here") are kept as catalogue keys and parameters beside
the English sentence, so the thread page shows them in the reader's language
(see app/platform/system_texts.py). Status lines keep theirs in the message's ``extra``
and need no column. Existing threads keep their stored sentence.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 12:40:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('communication_thread', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'assignment_reason_text',
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
            nullable=True,
        ))


def downgrade():
    with op.batch_alter_table('communication_thread', schema=None) as batch_op:
        batch_op.drop_column('assignment_reason_text')
