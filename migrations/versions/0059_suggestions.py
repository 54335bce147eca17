"""Suggested replies: harvested replies, suggestion sets, outcomes and feedback (issue 33)

Revision ID: 0059_suggestions
Revises: 0058_routing
Create Date: 2026-11-25 16:00:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0059_suggestions"
down_revision = "0058_routing"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def _entity() -> list:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
    ]


def upgrade():
    op.create_table(
        "harvested_replies",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("thread_id", sa.Uuid(), nullable=False),
        sa.Column("template_id", sa.Uuid(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("candidate_key", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("channel_type", sa.String(length=32), nullable=True),
        sa.Column("order_status", sa.String(length=32), nullable=True),
        sa.Column("replied_at", TIMESTAMP, nullable=False),
        sa.Column(
            "document", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"), nullable=True
        ),
        *_entity(),
        sa.ForeignKeyConstraint(
            ["message_id"], ["communication_message.id"],
            name=op.f("fk_harvested_replies_message_id_communication_message"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["communication_thread.id"],
            name=op.f("fk_harvested_replies_thread_id_communication_thread"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"], ["communication_template.id"],
            name=op.f("fk_harvested_replies_template_id_communication_template"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvested_replies")),
        sa.UniqueConstraint("message_id", name=op.f("uq_harvested_replies_message_id")),
    )
    op.create_index(
        "ix_harvested_replies_document", "harvested_replies", ["document"],
        postgresql_using="gin",
    )
    op.create_index("ix_harvested_replies_replied_at", "harvested_replies", ["replied_at"])
    op.create_index(
        op.f("ix_harvested_replies_thread_id"), "harvested_replies", ["thread_id"]
    )
    op.create_index(
        op.f("ix_harvested_replies_template_id"), "harvested_replies", ["template_id"]
    )

    op.create_table(
        "suggestion_sets",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("thread_id", sa.Uuid(), nullable=False),
        sa.Column("set_name", sa.String(length=16), nullable=False),
        sa.Column("message_at", TIMESTAMP, nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("channel_type", sa.String(length=32), nullable=True),
        sa.Column("order_status", sa.String(length=32), nullable=True),
        sa.Column("compute_ms", sa.Float(), nullable=True),
        *_entity(),
        sa.ForeignKeyConstraint(
            ["message_id"], ["communication_message.id"],
            name=op.f("fk_suggestion_sets_message_id_communication_message"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["communication_thread.id"],
            name=op.f("fk_suggestion_sets_thread_id_communication_thread"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_sets")),
        sa.UniqueConstraint("message_id", "set_name", name=op.f("uq_suggestion_sets_message_id_set_name")),
    )
    op.create_index(
        "ix_suggestion_sets_thread_message_at", "suggestion_sets", ["thread_id", "message_at"]
    )

    op.create_table(
        "reply_suggestions",
        sa.Column("set_id", sa.Uuid(), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("template_id", sa.Uuid(), nullable=True),
        sa.Column("candidate_key", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("picked_at", TIMESTAMP, nullable=True),
        sa.Column("picked_by_user_id", sa.Uuid(), nullable=True),
        *_entity(),
        sa.ForeignKeyConstraint(
            ["set_id"], ["suggestion_sets.id"],
            name=op.f("fk_reply_suggestions_set_id_suggestion_sets"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"], ["communication_template.id"],
            name=op.f("fk_reply_suggestions_template_id_communication_template"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["picked_by_user_id"], ["users.id"],
            name=op.f("fk_reply_suggestions_picked_by_user_id_users"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_suggestions")),
        sa.UniqueConstraint("set_id", "rank", name=op.f("uq_reply_suggestions_set_id_rank")),
    )
    op.create_index(
        op.f("ix_reply_suggestions_template_id"), "reply_suggestions", ["template_id"]
    )

    op.create_table(
        "suggestion_outcomes",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("thread_id", sa.Uuid(), nullable=False),
        sa.Column("reply_message_id", sa.Uuid(), nullable=False),
        sa.Column("suggestion_id", sa.Uuid(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("channel_id", sa.Uuid(), nullable=True),
        sa.Column("decided_at", TIMESTAMP, nullable=False),
        *_entity(),
        sa.ForeignKeyConstraint(
            ["message_id"], ["communication_message.id"],
            name=op.f("fk_suggestion_outcomes_message_id_communication_message"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["communication_thread.id"],
            name=op.f("fk_suggestion_outcomes_thread_id_communication_thread"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reply_message_id"], ["communication_message.id"],
            name=op.f("fk_suggestion_outcomes_reply_message_id_communication_message"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["suggestion_id"], ["reply_suggestions.id"],
            name=op.f("fk_suggestion_outcomes_suggestion_id_reply_suggestions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"],
            name=op.f("fk_suggestion_outcomes_user_id_users"), ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["communication_channel.id"],
            name=op.f("fk_suggestion_outcomes_channel_id_communication_channel"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_outcomes")),
        sa.UniqueConstraint("message_id", name=op.f("uq_suggestion_outcomes_message_id")),
    )
    op.create_index("ix_suggestion_outcomes_decided_at", "suggestion_outcomes", ["decided_at"])
    op.create_index(
        op.f("ix_suggestion_outcomes_thread_id"), "suggestion_outcomes", ["thread_id"]
    )
    op.create_index(
        op.f("ix_suggestion_outcomes_reply_message_id"), "suggestion_outcomes",
        ["reply_message_id"],
    )
    op.create_index(op.f("ix_suggestion_outcomes_user_id"), "suggestion_outcomes", ["user_id"])

    op.create_table(
        "suggestion_feedback",
        sa.Column("candidate_key", sa.String(length=40), nullable=False),
        sa.Column("offered", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("edited", sa.Integer(), nullable=False),
        *_entity(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_feedback")),
        sa.UniqueConstraint("candidate_key", name=op.f("uq_suggestion_feedback_candidate_key")),
    )


def downgrade():
    op.drop_table("suggestion_feedback")
    op.drop_table("suggestion_outcomes")
    op.drop_table("reply_suggestions")
    op.drop_table("suggestion_sets")
    op.drop_table("harvested_replies")
