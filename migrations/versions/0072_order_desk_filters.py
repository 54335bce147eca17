"""The order desk's technician and postcode area filters at a million orders

A technician: the lead of a visit is the order's ``assigned_technician_id``,
which every tab's index carries; the rest of a crew (the helpers) is found
through a partial index of the non-lead crew members, a few rows per
technician, instead of every visit a technician ever led (46,000 at a million
orders, 400 ms and more).

A postcode area: each order keeps a copy of its installation address's
postcode (``orders.installation_postcode``, kept by the listeners in
``app.platform.models.orders``), which the tabs' indexes carry instead of the address id
and an index of its own counts by stage: an area of two digits was 11,000
addresses, each looked up for its order. ``benchmarks/order_desk.py`` measures it.

Revision ID: 0072_order_desk_filters
Revises: 0071_order_left_waiting_index
Create Date: 2026-11-28 19:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0072_order_desk_filters"
down_revision = "0071_order_left_waiting_index"
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
STAGE_COLUMNS = ["status", "needs_review", "scheduled_date", "is_test"]


def _desk_indexes(filtered: tuple[str, ...]) -> None:
    for tab, key, where in DESK_INDEXES:
        op.create_index(
            f"ix_orders_desk_{tab}",
            "orders",
            [sa.text(column) if "(" in column else column for column in key],
            postgresql_where=sa.text(f"is_test IS false AND {where}"),
            sqlite_where=sa.text(f"is_test = 0 AND {where}"),
            postgresql_include=[c for c in filtered if c not in key],
        )


def _drop_desk_indexes() -> None:
    for tab, _key, _where in reversed(DESK_INDEXES):
        op.drop_index(f"ix_orders_desk_{tab}", table_name="orders")


def upgrade():
    op.create_index(
        "ix_visit_technicians_helping",
        "visit_technicians",
        ["technician_id", "visit_id"],
        postgresql_where=sa.text("is_lead IS false"),
        sqlite_where=sa.text("is_lead = 0"),
    )
    op.add_column("orders", sa.Column("installation_postcode", sa.String(16), nullable=True))
    op.execute(
        "UPDATE orders SET installation_postcode = ("
        "SELECT addresses.postal_code FROM addresses "
        "WHERE addresses.id = orders.installation_address_id) "
        "WHERE installation_address_id IS NOT NULL"
    )
    op.drop_index("ix_orders_address_stage", table_name="orders")
    op.create_index(
        "ix_orders_postcode_stage",
        "orders",
        ["installation_postcode"],
        postgresql_include=STAGE_COLUMNS,
    )
    _drop_desk_indexes()
    _desk_indexes(
        ("partner_organization_id", "source", "installation_postcode", "assigned_technician_id")
    )


def downgrade():
    _drop_desk_indexes()
    _desk_indexes(
        ("partner_organization_id", "source", "installation_address_id", "assigned_technician_id")
    )
    op.drop_index("ix_orders_postcode_stage", table_name="orders")
    op.create_index(
        "ix_orders_address_stage",
        "orders",
        ["installation_address_id"],
        postgresql_include=STAGE_COLUMNS,
    )
    op.drop_column("orders", "installation_postcode")
    op.drop_index("ix_visit_technicians_helping", table_name="visit_technicians")
