"""The customer's language: per message, and the latest on the contact (issue 33)

Revision ID: 0056_language
Revises: 0055_density
Create Date: 2026-11-25 13:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0056_language"
down_revision = "0055_density"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("communication_message", sa.Column("language", sa.String(length=8)))
    op.add_column("contacts", sa.Column("detected_language", sa.String(length=8)))


def downgrade():
    # Batch mode: SQLite (make run) cannot drop a column in place.
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("detected_language")
    with op.batch_alter_table("communication_message") as batch:
        batch.drop_column("language")
