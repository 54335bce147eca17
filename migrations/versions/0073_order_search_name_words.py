"""Order search by the start of any word of the customer's name, at a million orders

``contact_name_words`` holds each word of each contact's name (kept by the
listeners in ``app.platform.models.crm``; an erased contact has none): "bos" is a range
of its key, read from the index alone, where the trigram index on the name
returned 19,600 rows for "bos", each read from the table.

A name found for many customers is then not gathered into orders: the desk
walks the tab's own index, in the tab's order, testing each order's customer,
so each tab's index now carries ``end_customer_contact_id``, and what a search
shows unless a tab is asked for (every live order, newest first) gets an index
of its own. The completed and planned tabs' indexes also hold the columns their
sort expressions read: without them PostgreSQL looks each entry up in the table
(48,000 for "Bos" in the completed tab: 27 ms instead of 7).
``benchmarks/order_desk.py`` measures it.

Revision ID: 0073_order_search_name_words
Revises: 0072_order_desk_filters
Create Date: 2026-11-29 19:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0073_order_search_name_words"
down_revision = "0072_order_desk_filters"
branch_labels = None
depends_on = None

# As app.platform.models.orders.DESK_INDEXES and DESK_FILTERED.
DESK_INDEXES = (
    ("review", ("created_at", "id"), "status IN ('new', 'quote_sent') AND needs_review IS true"),
    ("new", ("created_at", "id"), "status IN ('new', 'quote_sent') AND needs_review IS false"),
    ("to_plan", ("created_at", "id"), "status = 'approved'"),
    ("planned", ("coalesce(scheduled_date, '2000-01-01')", "id"), "status = 'scheduled'"),
    ("in_progress", ("created_at", "id"), "status = 'in_progress'"),
    ("completed", ("coalesce(completed_at, updated_at)", "id"), "status = 'completed'"),
    ("closed", ("updated_at", "id"), "status IN ('on_hold', 'cancelled')"),
)
FILTERED = ("partner_organization_id", "source", "installation_postcode", "assigned_technician_id")
# As app.platform.models.orders.DESK_KEY_COLUMNS: what the sort expressions read, so the
# completed and planned tabs are walked in the index alone too.
KEY_COLUMNS = {"planned": ("scheduled_date",), "completed": ("completed_at", "updated_at")}


def _desk_indexes(filtered: tuple[str, ...], key_columns: dict) -> None:
    for tab, key, where in DESK_INDEXES:
        op.create_index(
            f"ix_orders_desk_{tab}",
            "orders",
            [sa.text(column) if "(" in column else column for column in key],
            postgresql_where=sa.text(f"is_test IS false AND {where}"),
            sqlite_where=sa.text(f"is_test = 0 AND {where}"),
            postgresql_include=[*filtered, *key_columns.get(tab, ())],
        )


def _drop_desk_indexes() -> None:
    for tab, _key, _where in reversed(DESK_INDEXES):
        op.drop_index(f"ix_orders_desk_{tab}", table_name="orders")


def upgrade():
    op.create_table(
        "contact_name_words",
        sa.Column("word", sa.String(100), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_contact_name_words_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("word", "contact_id", name=op.f("pk_contact_name_words")),
    )
    op.create_index(
        "ix_contact_name_words_contact_word", "contact_name_words", ["contact_id", "word"]
    )
    if op.get_bind().dialect.name == "postgresql":
        # As app.platform.models.crm.name_words: lower case, split at whatever is no letter or digit.
        op.execute(
            "INSERT INTO contact_name_words (word, contact_id) "
            "SELECT DISTINCT left(word, 100), id FROM contacts, "
            "regexp_split_to_table(lower(display_name), '[^[:alnum:]]+') AS word "
            "WHERE erased_at IS NULL AND word <> ''"
        )
    else:
        from app.platform.models.crm import name_words

        bind = op.get_bind()
        rows = bind.execute(
            sa.text("SELECT id, display_name FROM contacts WHERE erased_at IS NULL")
        ).all()
        words = sa.table("contact_name_words", sa.column("word"), sa.column("contact_id"))
        found = [{"word": w, "contact_id": i} for i, name in rows for w in name_words(name)]
        if found:
            op.bulk_insert(words, found)
    _drop_desk_indexes()
    _desk_indexes((*FILTERED, "end_customer_contact_id"), KEY_COLUMNS)
    op.create_index(
        "ix_orders_desk_all",
        "orders",
        ["created_at", "id"],
        postgresql_where=sa.text("is_test IS false"),
        sqlite_where=sa.text("is_test = 0"),
        postgresql_include=[*FILTERED, "end_customer_contact_id"],
    )


def downgrade():
    op.drop_index("ix_orders_desk_all", table_name="orders")
    _drop_desk_indexes()
    _desk_indexes(FILTERED, {})
    op.drop_index("ix_contact_name_words_contact_word", table_name="contact_name_words")
    op.drop_table("contact_name_words")
