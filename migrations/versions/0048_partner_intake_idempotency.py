"""partner intake: Idempotency-Key answers and a digest of each order's body

``partner_idempotency_keys`` holds a partner's ``Idempotency-Key`` and the
first answer to it, unique per (partner, key), deleted after 24 hours.
``orders.partner_payload_digest`` holds a salted digest per field of the body
an order was made from, so the same ``partner_order_id`` with another body is
refused naming the fields that differ. Orders made before have none (NULL) and
keep the old answer: the same order, 200.

Revision ID: 0048
Revises: 0046
Create Date: 2026-11-23 19:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0048'
down_revision = '0047'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('partner_idempotency_keys',
    sa.Column('partner_organization_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partner_organization_id'], ['organizations.id'],
                            name=op.f('fk_partner_idempotency_keys_partner_organization_id_organizations'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_idempotency_keys')),
    sa.UniqueConstraint('partner_organization_id', 'key',
                        name='uq_partner_idempotency_keys_partner_key'),
    )
    with op.batch_alter_table('orders') as batch_op:
        batch_op.add_column(sa.Column('partner_payload_digest', JSON, nullable=True))


def downgrade():
    with op.batch_alter_table('orders') as batch_op:
        batch_op.drop_column('partner_payload_digest')
    op.drop_table('partner_idempotency_keys')
