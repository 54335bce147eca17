"""integrations: sync settings (deleted records, date range, provider filters); sync jobs resume

Seed 004's sync settings live on the integration: whether deleted/archived remote
records are listed, the modified-since/until range and the provider's own
filters (``sync_filters``, keys declared per provider in the registry). A sync
job keeps the provider's paging cursor with each committed batch, and the
claim (token and heartbeat) of the worker running it, so a rerun or another
worker continues from the last committed batch instead of the first page.

Revision ID: 0046
Revises: 0044
Create Date: 2026-11-23 07:40:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0046'
down_revision = '0044'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    with op.batch_alter_table('integrations') as batch:
        batch.add_column(sa.Column('include_deleted', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('modified_since', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('modified_until', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('sync_filters', JSON, nullable=False,
                                   server_default=sa.text("'{}'")))
    with op.batch_alter_table('sync_jobs') as batch:
        batch.add_column(sa.Column('cursor', sa.String(length=1000), nullable=True))
        batch.add_column(sa.Column('archived', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('runs', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('resumed_at_record', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('claim_token', sa.Uuid(), nullable=True))
        batch.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
    # The stalled-sync sweep reads running jobs by heartbeat.
    op.create_index('ix_sync_jobs_status_heartbeat', 'sync_jobs', ['status', 'heartbeat_at'])


def downgrade():
    op.drop_index('ix_sync_jobs_status_heartbeat', table_name='sync_jobs')
    with op.batch_alter_table('sync_jobs') as batch:
        for name in ('heartbeat_at', 'claim_token', 'resumed_at_record', 'runs', 'archived',
                     'cursor'):
            batch.drop_column(name)
    with op.batch_alter_table('integrations') as batch:
        for name in ('sync_filters', 'modified_until', 'modified_since', 'include_deleted'):
            batch.drop_column(name)
