"""orders.test_address: a partner's test order keeps its customer and address itself

A test order (made with a sbk_test_ key) found or made the end customer's
contact and an installation address row like a live one: a test order with a
known customer's e-mail showed on that contact and in their GDPR export, and one
with a new e-mail made a real contact (issue 57.3). Test orders now link no
contact and make no address; the address they were sent with is kept on the
order (the customer already is, in customer_as_sent).

Test orders made before are moved the same way: their address goes onto the
order, the address row (made for that order alone) is deleted, and their
contact links are cleared. Contacts a test order once made are left as they
are: they may have had real traffic since, which only a person can tell.
The downgrade drops the column; links cleared stay cleared.

Revision ID: 0064_test_orders_apart
Revises: 0063_move_language
Create Date: 2026-11-29 09:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0064_test_orders_apart"
down_revision = "0063_move_language"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
SHOWN = ("street", "house_number", "house_number_addition", "postal_code", "city")

orders = sa.table(
    "orders",
    sa.column("id", sa.Uuid()),
    sa.column("is_test", sa.Boolean()),
    sa.column("installation_address_id", sa.Uuid()),
    sa.column("end_customer_contact_id", sa.Uuid()),
    sa.column("account_contact_id", sa.Uuid()),
    sa.column("partner_contact_id", sa.Uuid()),
    sa.column("customer_organization_id", sa.Uuid()),
    sa.column("channel_contact_ids", JSON),
    sa.column("test_address", JSON),
)
addresses = sa.table("addresses", sa.column("id", sa.Uuid()), *(sa.column(k) for k in SHOWN))


def upgrade():
    with op.batch_alter_table("orders") as batch_op:
        batch_op.add_column(sa.Column("test_address", JSON, nullable=True))
    connection = op.get_bind()
    tests = connection.execute(
        sa.select(orders.c.id, orders.c.installation_address_id).where(orders.c.is_test.is_(True))
    ).all()
    for order_id, address_id in tests:
        kept = {}
        if address_id is not None:
            row = connection.execute(
                sa.select(*(addresses.c[k] for k in SHOWN)).where(addresses.c.id == address_id)
            ).first()
            kept = {k: v for k, v in zip(SHOWN, row or (), strict=False) if v}
        connection.execute(
            orders.update()
            .where(orders.c.id == order_id)
            .values(
                test_address=kept or sa.null(),
                installation_address_id=None,
                end_customer_contact_id=None,
                account_contact_id=None,
                partner_contact_id=None,
                customer_organization_id=None,
                channel_contact_ids=[],
            )
        )
        if address_id is None:
            continue
        # Each intake makes its own address row; delete it unless something else
        # came to point at it.
        still_used = connection.execute(
            sa.select(sa.func.count())
            .select_from(orders)
            .where(orders.c.installation_address_id == address_id)
        ).scalar_one()
        if not still_used:
            connection.execute(addresses.delete().where(addresses.c.id == address_id))


def downgrade():
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_column("test_address")
