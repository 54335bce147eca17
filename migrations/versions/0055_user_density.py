"""users: a layout density per user, compact unless they choose comfortable (issue 32)

Revision ID: 0055_density
Revises: 0054
Create Date: 2026-11-25 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0055_density"
down_revision = "0054"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "users",
        sa.Column("density", sa.String(length=12), server_default="compact", nullable=False),
    )


def downgrade():
    # Batch mode: SQLite (make run) cannot drop a column in place.
    with op.batch_alter_table("users") as batch:
        batch.drop_column("density")
