"""Portal invitations: a new link ends the ones handed out before

An invitation link set a portal user's password once, within seven days; a
second link (the admin's "new link") left the first one working too, so a link
sent to a wrong or old address stayed a way in. Each link now carries the
user's invitation version, and a new link raises it.

Revision ID: 0066_invitation_version
Revises: 0065_sandbox_callbacks
Create Date: 2026-11-28 16:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0066_invitation_version"
down_revision = "0065_sandbox_callbacks"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "users",
        sa.Column("invitation_version", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade():
    op.drop_column("users", "invitation_version")
