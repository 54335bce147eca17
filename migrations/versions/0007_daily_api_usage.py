"""daily api usage

API usage moves from a row per request to a row per day, method and endpoint.
The requests logged so far are summed into the new rows, so the /integrations
figures carry on. A downgrade brings the old table back empty: per-request
detail cannot be recovered from the sums.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 17:41:37.763133

"""
import uuid
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _logged_so_far(bind) -> list:
    if bind.dialect.name == "postgresql":
        day = "CAST(created_at AT TIME ZONE 'UTC' AS DATE)"
    else:
        day = "date(created_at)"
    return bind.execute(sa.text(
        f"SELECT {day} AS day, method, endpoint, count(*), "
        "sum(CASE WHEN status_code < 400 THEN 1 ELSE 0 END), sum(duration_ms) "
        f"FROM api_usage_logs GROUP BY {day}, method, endpoint"
    )).all()


def upgrade():
    bind = op.get_bind()
    totals = _logged_so_far(bind)
    op.drop_table('api_usage_logs')
    table = op.create_table('api_usage_logs',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('endpoint', sa.String(length=200), nullable=False),
    sa.Column('request_count', sa.Integer(), nullable=False),
    sa.Column('success_count', sa.Integer(), nullable=False),
    sa.Column('total_duration_ms', sa.Float(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_usage_logs')),
    sa.UniqueConstraint('day', 'method', 'endpoint', name='uq_api_usage_logs_day_endpoint')
    )
    if totals:
        now = datetime.now(timezone.utc)
        op.bulk_insert(table, [
            {
                "id": uuid.uuid4(), "created_at": now, "updated_at": now,
                "day": day if not isinstance(day, str) else datetime.fromisoformat(day).date(),
                "method": method, "endpoint": endpoint, "request_count": int(count),
                "success_count": int(ok or 0), "total_duration_ms": float(total or 0),
            }
            for day, method, endpoint, count, ok, total in totals
        ])


def downgrade():
    op.drop_table('api_usage_logs')
    op.create_table('api_usage_logs',
    sa.Column('api_token_id', sa.Uuid(), nullable=True),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('partner_organization_id', sa.Uuid(), nullable=True),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('endpoint', sa.String(length=200), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('duration_ms', sa.Float(), nullable=False),
    sa.Column('client_ip', sa.String(length=45), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['api_token_id'], ['api_tokens.id'], name=op.f('fk_api_usage_logs_api_token_id_api_tokens'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['partner_organization_id'], ['organizations.id'], name=op.f('fk_api_usage_logs_partner_organization_id_organizations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_usage_logs_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_usage_logs'))
    )
    with op.batch_alter_table('api_usage_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_usage_logs_api_token_id'), ['api_token_id'], unique=False)
        batch_op.create_index('ix_api_usage_logs_endpoint_created', ['endpoint', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_usage_logs_partner_organization_id'), ['partner_organization_id'], unique=False)
