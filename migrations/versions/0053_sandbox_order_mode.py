"""sandbox: a partner's test order may share its partner_order_id with a live one

The partner API's order key becomes (partner, partner_order_id, is_test): a
test key and a live key each have their own orders (issue 29.1).

Revision ID: 0053_sandbox
Revises: 0052
Create Date: 2026-11-23 22:30:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0053_sandbox"
down_revision = "0052"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint("uq_orders_partner_organization_id_partner_order_id", type_="unique")
        batch.create_unique_constraint(
            "uq_orders_partner_order_id_mode",
            ["partner_organization_id", "partner_order_id", "is_test"],
        )


def downgrade():
    with op.batch_alter_table("orders") as batch:
        batch.drop_constraint("uq_orders_partner_order_id_mode", type_="unique")
        batch.create_unique_constraint(
            "uq_orders_partner_organization_id_partner_order_id",
            ["partner_organization_id", "partner_order_id"],
        )
