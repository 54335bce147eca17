"""invoices: our own invoice state per order, refunds once per refund id, notes on events

Issue 18 point 5 (money): a QuickBooks payment marks the order's invoice paid,
a Stripe refund updates it. ``order_invoices`` holds one row per order with the
sums paid and refunded and its state; ``payment_refunds`` one row per provider
refund id (unique, so a redelivered refund counts once); ``payments`` gets the
total its provider last reported refunded; ``inbound_webhook_events.note`` says
why an event changed nothing (a payment for an invoice we do not know).

Revision ID: 0043
Revises: 0040
Create Date: 2026-11-23 08:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0043'
down_revision = '0040'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table('order_invoices',
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_due', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('amount_paid', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('amount_refunded', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_payment_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_refund_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'],
                            name=op.f('fk_order_invoices_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_invoices')),
    sa.UniqueConstraint('order_id', name=op.f('uq_order_invoices_order_id')),
    )
    op.create_table('payment_refunds',
    sa.Column('payment_id', sa.Uuid(), nullable=False),
    sa.Column('external_reference', sa.String(length=120), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('raw', JSON, nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'],
                            name=op.f('fk_payment_refunds_payment_id_payments'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_refunds')),
    sa.UniqueConstraint('external_reference',
                        name=op.f('uq_payment_refunds_external_reference')),
    )
    op.create_index(op.f('ix_payment_refunds_payment_id'), 'payment_refunds', ['payment_id'])
    with op.batch_alter_table('payments') as batch_op:
        batch_op.add_column(sa.Column('refunded_reported', sa.Numeric(precision=12, scale=2),
                                      server_default='0', nullable=False))
    with op.batch_alter_table('inbound_webhook_events') as batch_op:
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('inbound_webhook_events') as batch_op:
        batch_op.drop_column('note')
    with op.batch_alter_table('payments') as batch_op:
        batch_op.drop_column('refunded_reported')
    op.drop_index(op.f('ix_payment_refunds_payment_id'), table_name='payment_refunds')
    op.drop_table('payment_refunds')
    op.drop_table('order_invoices')
