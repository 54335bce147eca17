"""Inbox urgency order and full-text search.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

Adds the urgency sort key (bucket, score) with the indexes the inbox pages scan,
and on PostgreSQL a tsvector search document with a GIN index. Existing rows are
backfilled in SQL, so the upgrade works on a populated database.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

URGENCY_INDEXES = {
    "ix_communication_thread_urgency": ["urgency_bucket", "urgency_score", "id"],
    "ix_communication_thread_assignee_urgency": [
        "assigned_to_user_id", "urgency_bucket", "urgency_score", "id",
    ],
    "ix_communication_thread_team_urgency": [
        "assigned_team_id", "urgency_bucket", "urgency_score", "id",
    ],
    "ix_communication_thread_channel_urgency": [
        "channel_id", "urgency_bucket", "urgency_score", "id",
    ],
}


def _epoch(column: str, dialect: str) -> str:
    if dialect == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


def upgrade():
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("communication_thread") as batch_op:
        batch_op.add_column(
            sa.Column("urgency_bucket", sa.SmallInteger(), nullable=False, server_default="1")
        )
        batch_op.add_column(
            sa.Column("urgency_score", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column(
                "search_vector",
                sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"),
                nullable=True,
            )
        )
        batch_op.drop_index("ix_communication_thread_assignee_last")
        batch_op.drop_index("ix_communication_thread_status_last")

    # Same rule as CommunicationThread.refresh_urgency.
    op.execute(
        f"""
        UPDATE communication_thread SET
          urgency_bucket = CASE
            WHEN status IN ('resolved', 'closed') THEN 2
            WHEN response_due_at IS NOT NULL THEN 0
            ELSE 1 END,
          urgency_score = CASE
            WHEN status NOT IN ('resolved', 'closed') AND response_due_at IS NOT NULL
              THEN {_epoch("response_due_at", dialect)}
            ELSE -{_epoch("last_message_at", dialect)} END
        """
    )
    if dialect == "postgresql":
        # The same document as app.conversations.inbox.search.rebuild_search_documents builds,
        # copied here because a migration must not change when the app does.
        op.execute(
            """
            UPDATE communication_thread t SET search_vector =
              to_tsvector('dutch', coalesce(t.thread_subject, '') || ' ' ||
                coalesce(c.display_name, '') || ' ' || coalesce(c.email, '') || ' ' ||
                coalesce(translate(c.email, '@.', '  '), '') || ' ' || coalesce(c.phone, '') || ' ' ||
                coalesce(regexp_replace(c.phone, '\\D', '', 'g'), '') || ' ' ||
                coalesce('0' || substr(regexp_replace(c.phone, '\\D', '', 'g'), 3), '') || ' ' ||
                coalesce(m.body, ''))
            FROM communication_thread t2
            LEFT JOIN contacts c ON c.id = t2.contact_id
            LEFT JOIN (
              SELECT thread_id, string_agg(message_content, ' ') AS body
              FROM communication_message GROUP BY thread_id
            ) m ON m.thread_id = t2.id
            WHERE t.id = t2.id
            """
        )

    with op.batch_alter_table("communication_thread") as batch_op:
        batch_op.alter_column("urgency_bucket", server_default=None)
        batch_op.alter_column("urgency_score", server_default=None)
        for name, columns in URGENCY_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
        batch_op.create_index(
            "ix_communication_thread_search", ["search_vector"], unique=False,
            postgresql_using="gin",
        )


def downgrade():
    with op.batch_alter_table("communication_thread") as batch_op:
        batch_op.drop_index("ix_communication_thread_search", postgresql_using="gin")
        for name in URGENCY_INDEXES:
            batch_op.drop_index(name)
        batch_op.create_index(
            "ix_communication_thread_status_last", ["status", "last_message_at"], unique=False
        )
        batch_op.create_index(
            "ix_communication_thread_assignee_last",
            ["assigned_to_user_id", "last_message_at"],
            unique=False,
        )
        batch_op.drop_column("search_vector")
        batch_op.drop_column("urgency_score")
        batch_op.drop_column("urgency_bucket")
