"""A customer's signature per visit

An order with a second day or a return visit is signed for at the end of each
visit: the signature names its visit, and is unique per (order, visit number).

Revision ID: 0080_signatures_per_visit
Revises: 0079_held_taps_per_visit
Create Date: 2026-11-29 05:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0080_signatures_per_visit"
down_revision = "0079_held_taps_per_visit"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("visit_signatures", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("visit_number", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.drop_constraint(op.f("uq_visit_signatures_order_id"), type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_visit_signatures_order_id_visit_number"), ["order_id", "visit_number"]
        )


def downgrade():
    op.execute("DELETE FROM visit_signatures WHERE visit_number > 1")
    with op.batch_alter_table("visit_signatures", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("uq_visit_signatures_order_id_visit_number"), type_="unique"
        )
        batch_op.create_unique_constraint(op.f("uq_visit_signatures_order_id"), ["order_id"])
        batch_op.drop_column("visit_number")
