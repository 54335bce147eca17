"""The customer's personal link to their order's page, and the link in the visit texts

A row per link (``/t/<token>``): the token's SHA-256 to find it by, the token
encrypted to send it again, and when and by whom it was revoked; at most one
live link per order. The planned, moved and cancelled templates gain the link
at their end, unless they carry it already or stand for an approved WhatsApp
template (Meta's approved text has no such parameter: a send would be refused).

Revision ID: 0081_customer_links
Revises: 0080_signatures_per_visit
Create Date: 2026-11-29 08:40:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0081_customer_links"
down_revision = "0080_signatures_per_visit"
branch_labels = None
depends_on = None

LINK_LINE = "\n\nUw afspraak bekijken: {{customer_link}}"

templates = sa.table(
    "communication_template",
    sa.column("template_name", sa.String()),
    sa.column("message_template", sa.Text()),
    sa.column("variables", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
    sa.column("whatsapp_template_name", sa.String()),
)
LINKED = ("visit_planned", "visit_moved", "visit_cancelled")


def upgrade():
    op.create_table(
        "customer_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_customer_links_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_user_id"],
            ["users.id"],
            name=op.f("fk_customer_links_revoked_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_customer_links_token_hash")),
    )
    op.create_index(op.f("ix_customer_links_order_id"), "customer_links", ["order_id"])
    op.create_index(
        "uq_customer_links_order_live",
        "customer_links",
        ["order_id"],
        unique=True,
        postgresql_where=sa.text("revoked_at IS NULL"),
        sqlite_where=sa.text("revoked_at IS NULL"),
    )
    _link_templates(adding=True)


def downgrade():
    _link_templates(adding=False)
    op.drop_index("uq_customer_links_order_live", table_name="customer_links")
    op.drop_index(op.f("ix_customer_links_order_id"), table_name="customer_links")
    op.drop_table("customer_links")


def _link_templates(*, adding: bool) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            templates.c.template_name, templates.c.message_template, templates.c.variables
        ).where(
            templates.c.template_name.in_(LINKED),
            templates.c.whatsapp_template_name.is_(None),
        )
    ).all()
    for name, text, variables in rows:
        variables = list(variables or [])
        if adding and "{{customer_link}}" not in text:
            text, variables = text + LINK_LINE, [*variables, "customer_link"]
        elif not adding and text.endswith(LINK_LINE):
            text = text[: -len(LINK_LINE)]
            variables = [name for name in variables if name != "customer_link"]
        else:
            continue
        connection.execute(
            sa.update(templates)
            .where(templates.c.template_name == name)
            .values(message_template=text, variables=variables)
        )
