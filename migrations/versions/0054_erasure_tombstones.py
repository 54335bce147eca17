"""erasure tombstones: an erased person's identifiers, as keyed hashes (issue 30.5)

Revision ID: 0054
Revises: 0053_sandbox
Create Date: 2026-11-24 02:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0054"
down_revision = "0053_sandbox"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "erasure_tombstones",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_tombstones")),
        sa.UniqueConstraint("kind", "digest", name="uq_erasure_tombstones_kind"),
    )


def downgrade():
    op.drop_table("erasure_tombstones")
