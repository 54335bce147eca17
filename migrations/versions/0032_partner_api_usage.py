"""partner API usage per day and response-time bucket

``partner_api_usage``: a partner's calls to the API summed per Dutch calendar
day and response-time bucket (a small histogram), so the partner performance
page can show error rates and p50/p95 response times per partner.

Revision ID: 0032
Revises: 0030
Create Date: 2026-11-22 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0032'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('partner_api_usage',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('partner_organization_id', sa.Uuid(), nullable=False),
    sa.Column('bucket_ms', sa.Integer(), nullable=False),
    sa.Column('request_count', sa.Integer(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('total_duration_ms', sa.Float(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partner_organization_id'], ['organizations.id'], name=op.f('fk_partner_api_usage_partner_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_api_usage')),
    sa.UniqueConstraint('day', 'partner_organization_id', 'bucket_ms', name='uq_partner_api_usage_day_bucket')
    )
    with op.batch_alter_table('partner_api_usage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_api_usage_partner_organization_id'), ['partner_organization_id'], unique=False)


def downgrade():
    with op.batch_alter_table('partner_api_usage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_api_usage_partner_organization_id'))
    op.drop_table('partner_api_usage')
