"""More than one visit per order: a second day, a return visit

An order's visits are numbered from 1 (the first plan keeps number 1). A later
visit says why it is needed (its purpose) and each visit is completed on its
own; the order completes with its last. A technician's calendar row and a
proposal's visit name the visit they are about.

Revision ID: 0078_visits_per_order
Revises: 0077_plan_proposals
Create Date: 2026-11-29 05:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0078_visits_per_order"
down_revision = "0077_plan_proposals"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("purpose", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f("uq_visits_order_id"), type_="unique")
        batch_op.create_unique_constraint(op.f("uq_visits_order_id_number"), ["order_id", "number"])
    # Visits made before: an order under way has its (only) visit started, a
    # completed one has it started and completed.
    op.execute(
        "UPDATE visits SET started_at = coalesce(o.updated_at, o.created_at) "
        "FROM orders o WHERE o.id = visits.order_id AND o.status = 'in_progress'"
    )
    op.execute(
        "UPDATE visits SET started_at = coalesce(o.completed_at, o.updated_at, o.created_at), "
        "completed_at = coalesce(o.completed_at, o.updated_at, o.created_at) "
        "FROM orders o WHERE o.id = visits.order_id AND o.status = 'completed'"
    )
    with op.batch_alter_table("calendar_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("visit_number", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.drop_constraint(op.f("uq_calendar_event_order_id_technician_id"), type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_calendar_event_order_id_visit_number_technician_id"),
            ["order_id", "visit_number", "technician_id"],
        )
    with op.batch_alter_table("proposal_visits", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("visit_number", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.drop_constraint(op.f("uq_proposal_visits_proposal_id_order_id"), type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_proposal_visits_proposal_id_order_id_visit_number"),
            ["proposal_id", "order_id", "visit_number"],
        )


def downgrade():
    op.execute("DELETE FROM visits WHERE number > 1")
    op.execute("DELETE FROM calendar_event WHERE visit_number > 1")
    op.execute("DELETE FROM proposal_visits WHERE visit_number > 1")
    with op.batch_alter_table("proposal_visits", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("uq_proposal_visits_proposal_id_order_id_visit_number"), type_="unique"
        )
        batch_op.create_unique_constraint(
            op.f("uq_proposal_visits_proposal_id_order_id"), ["proposal_id", "order_id"]
        )
        batch_op.drop_column("visit_number")
    with op.batch_alter_table("calendar_event", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("uq_calendar_event_order_id_visit_number_technician_id"), type_="unique"
        )
        batch_op.create_unique_constraint(
            op.f("uq_calendar_event_order_id_technician_id"), ["order_id", "technician_id"]
        )
        batch_op.drop_column("visit_number")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_visits_order_id_number"), type_="unique")
        batch_op.create_unique_constraint(op.f("uq_visits_order_id"), ["order_id"])
        batch_op.drop_column("completed_at")
        batch_op.drop_column("started_at")
        batch_op.drop_column("purpose")
        batch_op.drop_column("number")
