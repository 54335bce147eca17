"""audit log page: an index to list entries newest first

The admin audit page pages through audit_logs by (created_at, id), newest
first, with or without filters; the table also holds every order's status
history, so it grows with the business.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-24 10:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_logs') as batch_op:
        batch_op.create_index('ix_audit_logs_created_at', ['created_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_logs') as batch_op:
        batch_op.drop_index('ix_audit_logs_created_at')
