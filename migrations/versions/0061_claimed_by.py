"""Webhook events: which worker claimed each one last ("host:pid"), and an index of those waiting

Workers now take events straight from the table (``LISTEN/NOTIFY``, issue 34), not
through RQ, whose worker records used to tell which event a worker had in hand. They
claim the waiting ones oldest first from a partial index of only those.

Revision ID: 0061_claimed_by
Revises: 0060_visit_moment
Create Date: 2026-11-26 05:25:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0061_claimed_by"
down_revision = "0060_visit_moment"
branch_labels = None
depends_on = None


WAITING = "processing_state = 'received'"


def upgrade():
    op.add_column("inbound_webhook_events", sa.Column("claimed_by", sa.String(120), nullable=True))
    op.create_index(
        "ix_inbound_webhook_events_received",
        "inbound_webhook_events",
        ["created_at"],
        postgresql_where=sa.text(WAITING),
        sqlite_where=sa.text(WAITING),
    )


def downgrade():
    op.drop_index("ix_inbound_webhook_events_received", table_name="inbound_webhook_events")
    op.drop_column("inbound_webhook_events", "claimed_by")
