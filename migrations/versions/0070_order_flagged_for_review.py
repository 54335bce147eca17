"""Orders: whether an intake flagged the order, apart from whether it still waits

``needs_review`` now says the order still has a reason for a person to check:
fixing the last one in the review queue clears it, which moves the order from
"to review" to "to approve". The partner's performance figures count the orders
an intake flagged, fixed or not, so that fact gets a column of its own, filled
from ``needs_review`` for the orders made before.

Revision ID: 0070_order_flagged_for_review
Revises: 0069_order_desk_tab_indexes
Create Date: 2026-11-28 19:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0070_order_flagged_for_review"
down_revision = "0069_order_desk_tab_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "orders",
        sa.Column("flagged_for_review", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute("UPDATE orders SET flagged_for_review = true WHERE needs_review")


def downgrade():
    op.drop_column("orders", "flagged_for_review")
