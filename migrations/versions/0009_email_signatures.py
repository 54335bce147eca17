"""agents' e-mail signatures

Each agent's signature, added under their e-mail replies (above the
mailbox's, which lives in the Outlook channel's ``configuration``).
Plain text: it is escaped into the HTML body when a reply is written.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 12:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_signature', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_signature')
