"""Team suggestions for new conversations: models, settings, suggestions (issue 33.3)

Revision ID: 0058_routing
Revises: 0057_dutch_names
Create Date: 2026-11-25 13:16:05

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0058_routing"
down_revision = "0057_dutch_names"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
OUTCOMES = ("pending", "accepted", "changed", "ignored", "agreed_with_rules")


def _entity_columns(table):
    return (
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )


def upgrade():
    op.create_table(
        "routing_models",
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model", sa.LargeBinary(), nullable=True),
        sa.Column("feature_version", sa.Integer(), nullable=False),
        sa.Column("library_version", sa.String(length=32), nullable=False),
        sa.Column("holdout_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("training_samples", sa.Integer(), nullable=False),
        sa.Column("holdout_samples", sa.Integer(), nullable=False),
        sa.Column("holdout_correct", sa.Integer(), nullable=False),
        sa.Column("holdout_scores", JSON, nullable=False),
        sa.Column("per_team", JSON, nullable=False),
        sa.Column("skills", JSON, nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        *_entity_columns("routing_models"),
    )
    op.create_index("ix_routing_models_trained_at", "routing_models", ["trained_at"])
    op.create_table(
        "routing_settings",
        sa.Column("singleton", sa.Boolean(), nullable=False),
        sa.Column("auto_routing", sa.Boolean(), nullable=False),
        sa.Column("confidence_threshold", sa.Float(), nullable=False),
        sa.Column("updated_by_user_id", sa.Uuid(), nullable=True),
        *_entity_columns("routing_settings"),
        sa.CheckConstraint("singleton", name=op.f("ck_routing_settings_one_row")),
        sa.ForeignKeyConstraint(
            ["updated_by_user_id"],
            ["users.id"],
            name=op.f("fk_routing_settings_updated_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("singleton", name=op.f("uq_routing_settings_singleton")),
    )
    op.create_table(
        "routing_suggestions",
        sa.Column("thread_id", sa.Uuid(), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=True),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("skills", JSON, nullable=False),
        sa.Column("rules_team_id", sa.Uuid(), nullable=True),
        sa.Column("auto_routed", sa.Boolean(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(*OUTCOMES, name="routingoutcome", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_user_id", sa.Uuid(), nullable=True),
        *_entity_columns("routing_suggestions"),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"],
            ["users.id"],
            name=op.f("fk_routing_suggestions_decided_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["routing_models.id"],
            name=op.f("fk_routing_suggestions_model_id_routing_models"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["rules_team_id"],
            ["teams.id"],
            name=op.f("fk_routing_suggestions_rules_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_routing_suggestions_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["communication_thread.id"],
            name=op.f("fk_routing_suggestions_thread_id_communication_thread"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("thread_id", name=op.f("uq_routing_suggestions_thread_id")),
    )
    op.create_index("ix_routing_suggestions_created", "routing_suggestions", ["created_at"])


def downgrade():
    op.drop_index("ix_routing_suggestions_created", table_name="routing_suggestions")
    op.drop_table("routing_suggestions")
    op.drop_table("routing_settings")
    op.drop_index("ix_routing_models_trained_at", table_name="routing_models")
    op.drop_table("routing_models")
