"""GDPR erasure: contacts.erased_at

An admin can erase a contact's personal data (app/conversations/gdpr). The contact row stays,
because orders, commissions and conversations keep pointing at it, but its
details are removed; ``erased_at`` says when, so pages can say so and a second
erasure knows it has nothing left to do.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-23 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contacts') as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('contacts') as batch_op:
        batch_op.drop_column('erased_at')
