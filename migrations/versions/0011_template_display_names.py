"""template display names

Message templates get a human name and a description. Existing rows get a name
made from their internal one (``quote_follow_up`` -> "Quote follow-up"), so the
composer and the admin list never show a bare internal name.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 12:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _humanize(name: str) -> str:
    # A copy of app.platform.models.communication.humanize_template_name as it was when this
    # migration was written: a migration must not change when the app code does.
    words = " ".join(name.replace("_", " ").split())
    words = words.replace("follow up", "follow-up").replace("Follow up", "Follow-up")
    return words[:1].upper() + words[1:]


def upgrade():
    with op.batch_alter_table('communication_template', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, template_name FROM communication_template")).all()
    update = sa.text(
        "UPDATE communication_template SET display_name = :display_name WHERE id = :id"
    )
    for template_id, name in rows:
        bind.execute(update, {"id": template_id, "display_name": _humanize(name)})
    with op.batch_alter_table('communication_template', schema=None) as batch_op:
        batch_op.alter_column('display_name', existing_type=sa.String(length=120), nullable=False)


def downgrade():
    with op.batch_alter_table('communication_template', schema=None) as batch_op:
        batch_op.drop_column('description')
        batch_op.drop_column('display_name')
