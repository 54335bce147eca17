"""A technician's held tap names the visit it is about, and a return visit's reason

An order with more than one visit stays in progress between them: a held
"Completed" must still complete the visit it was tapped on when it goes through,
not the next one, and a "Completed, return visit needed" carries why.

Revision ID: 0079_held_taps_per_visit
Revises: 0078_visits_per_order
Create Date: 2026-11-29 06:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0079_held_taps_per_visit"
down_revision = "0078_visits_per_order"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("pending_visit_moves", schema=None) as batch_op:
        batch_op.add_column(sa.Column("visit_number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("return_purpose", sa.String(length=24), nullable=True))


def downgrade():
    with op.batch_alter_table("pending_visit_moves", schema=None) as batch_op:
        batch_op.drop_column("return_purpose")
        batch_op.drop_column("visit_number")
