"""The order desk's indexes: planned work by day, an order found by what is typed

``/orders`` lists each stage of an order's life and finds an order by the
partner's id, its installation address or its customer's name. Planned orders
sort by visit day within their status; the partner's id and the address are
looked up directly; a part of a customer's name is found through a trigram
index (``pg_trgm``, a trusted extension since PostgreSQL 13: the database's
owner may create it). On SQLite (``make run``) the name's index is a plain one.

Revision ID: 0067_order_desk_indexes
Revises: 0066_invitation_version
Create Date: 2026-11-28 17:15:00

"""

from alembic import op

revision = "0067_order_desk_indexes"
down_revision = "0066_invitation_version"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_orders_status_scheduled", "orders", ["status", "scheduled_date"])
    op.create_index("ix_orders_partner_order_id", "orders", ["partner_order_id"])
    op.create_index("ix_orders_installation_address_id", "orders", ["installation_address_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # On SQLite a plain index of the name (the PostgreSQL options are ignored there).
    op.create_index(
        "ix_contacts_display_name_trgm",
        "contacts",
        ["display_name"],
        postgresql_using="gin",
        postgresql_ops={"display_name": "gin_trgm_ops"},
    )


def downgrade():
    op.drop_index("ix_contacts_display_name_trgm", table_name="contacts")
    op.drop_index("ix_orders_installation_address_id", table_name="orders")
    op.drop_index("ix_orders_partner_order_id", table_name="orders")
    op.drop_index("ix_orders_status_scheduled", table_name="orders")
