"""Held visit taps: the language of the page the tap was made on

A held tap's outcome ("CC-2026-00042: visit completed.") is written when its undo
window closes, outside the technician's request. It was written in the
technician's chosen language, else the app's default; a technician who left the
choice to the browser read it in the wrong language.

Revision ID: 0063_move_language
Revises: 0062_thread_lookup
Create Date: 2026-11-28 06:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0063_move_language"
down_revision = "0062_thread_lookup"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("pending_visit_moves", sa.Column("language", sa.String(8), nullable=True))


def downgrade():
    op.drop_column("pending_visit_moves", "language")
