"""The order desk's tabs: one partial index each, on the tab's sort key and the id

At a million orders a tab's first page and its count read every live order (a
count per stage in one pass, 300 ms and more); with these, a page is a range of
its tab's index and a count stops after 1,000 entries (``app.orders.core.stages``).
The conditions are written as the desk's queries write them (``IS true``,
``IN (…)``), so PostgreSQL can prove a query's tab implies the index's.
``benchmarks/order_desk.py`` measures it.

Revision ID: 0069_order_desk_tab_indexes
Revises: 0068_order_waiting_notice
Create Date: 2026-11-28 18:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0069_order_desk_tab_indexes"
down_revision = "0068_order_waiting_notice"
branch_labels = None
depends_on = None

# As app.platform.models.orders.DESK_INDEXES.
DESK_INDEXES = (
    ("review", ("created_at", "id"), "status IN ('new', 'quote_sent') AND needs_review IS true"),
    ("new", ("created_at", "id"), "status IN ('new', 'quote_sent') AND needs_review IS false"),
    ("to_plan", ("created_at", "id"), "status = 'approved'"),
    ("planned", ("coalesce(scheduled_date, '2000-01-01')", "id"), "status = 'scheduled'"),
    ("in_progress", ("created_at", "id"), "status = 'in_progress'"),
    ("completed", ("coalesce(completed_at, updated_at)", "id"), "status = 'completed'"),
    ("closed", ("updated_at", "id"), "status IN ('on_hold', 'cancelled')"),
)

# What the desk's filters read, carried in each tab's index: a filtered page and
# count are read from the index alone, not from a row per order passed over.
DESK_FILTERED = (
    "partner_organization_id",
    "source",
    "installation_address_id",
    "assigned_technician_id",
)


def upgrade():
    # A postcode area's addresses and their orders' stages, each read from an
    # index alone: the area's tabs are counted without visiting 11,000 rows twice.
    op.create_index("ix_addresses_postcode_id", "addresses", ["postal_code", "id"])
    op.create_index(
        "ix_orders_address_stage",
        "orders",
        ["installation_address_id"],
        postgresql_include=["status", "needs_review", "scheduled_date", "is_test"],
    )
    for tab, key, where in DESK_INDEXES:
        op.create_index(
            f"ix_orders_desk_{tab}",
            "orders",
            [sa.text(column) if "(" in column else column for column in key],
            postgresql_where=sa.text(f"is_test IS false AND {where}"),
            sqlite_where=sa.text(f"is_test = 0 AND {where}"),
            postgresql_include=[c for c in DESK_FILTERED if c not in key],
        )


def downgrade():
    for tab, _key, _where in reversed(DESK_INDEXES):
        op.drop_index(f"ix_orders_desk_{tab}", table_name="orders")
    op.drop_index("ix_orders_address_stage", table_name="orders")
    op.drop_index("ix_addresses_postcode_id", table_name="addresses")
