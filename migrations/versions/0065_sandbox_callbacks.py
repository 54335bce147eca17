"""Partners: the sandbox's own callback settings (URL, events, secret, live fallback)

Issue 57 point 2. A test key changed the one webhook URL that live orders'
callbacks go to. Test orders' callbacks now go to ``sandbox_webhook_url`` with
``sandbox_webhook_events``, signed with ``sandbox_webhook_secret`` (rotated with
an overlap, as the live one); to the live URL only when the partner left the
sandbox URL empty and set ``test_callbacks_to_live_url``. Existing partners keep
their events for the sandbox too; their sandbox URL and secret start empty, so
their test callbacks are recorded as not sent until they set one.

Revision ID: 0065_sandbox_callbacks
Revises: 0064_test_orders_apart
Create Date: 2026-11-28 12:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0065_sandbox_callbacks"
down_revision = "0064_test_orders_apart"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade():
    with op.batch_alter_table("partner_integrations") as batch:
        batch.add_column(sa.Column("sandbox_webhook_url", sa.String(2000), nullable=True))
        batch.add_column(
            sa.Column(
                "sandbox_webhook_events", JSON, nullable=False, server_default=sa.text("'[]'")
            )
        )
        batch.add_column(sa.Column("sandbox_webhook_secret", sa.Text(), nullable=True))
        batch.add_column(sa.Column("previous_sandbox_webhook_secret", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column(
                "previous_sandbox_secret_expires_at", sa.DateTime(timezone=True), nullable=True
            )
        )
        batch.add_column(
            sa.Column(
                "test_callbacks_to_live_url",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
    # The events a partner chose so far were for test and live orders alike.
    op.execute("UPDATE partner_integrations SET sandbox_webhook_events = webhook_events")


def downgrade():
    with op.batch_alter_table("partner_integrations") as batch:
        batch.drop_column("test_callbacks_to_live_url")
        batch.drop_column("previous_sandbox_secret_expires_at")
        batch.drop_column("previous_sandbox_webhook_secret")
        batch.drop_column("sandbox_webhook_secret")
        batch.drop_column("sandbox_webhook_events")
        batch.drop_column("sandbox_webhook_url")
