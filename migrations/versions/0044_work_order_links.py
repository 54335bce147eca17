"""integrations: property work orders (ROVIDA, Yardi) linked to the orders they became

A work order synced in from a property-management system becomes one order,
once: ``work_order_links`` is unique on (integration, remote work order id), so
a second sync or a redelivered notice finds the order made before. When the
order is completed the work order is closed at the provider and the
technician's photos uploaded to it; ``closed_at`` and ``work_order_photos``
record what was done, so a retried job neither closes nor uploads twice.

Revision ID: 0044
Revises: 0043
Create Date: 2026-11-23 08:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0044'
down_revision = '0043'
branch_labels = None
depends_on = None


def _entity_columns(table):
    return (
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{table}')),
    )


def upgrade():
    op.create_table('work_order_links',
    sa.Column('integration_id', sa.Uuid(), nullable=False),
    sa.Column('remote_id', sa.String(length=255), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('remote_status', sa.String(length=40), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('close_attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    *_entity_columns('work_order_links'),
    sa.ForeignKeyConstraint(['integration_id'], ['integrations.id'],
                            name=op.f('fk_work_order_links_integration_id_integrations'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'],
                            name=op.f('fk_work_order_links_order_id_orders'),
                            ondelete='CASCADE'),
    sa.UniqueConstraint('integration_id', 'remote_id',
                        name=op.f('uq_work_order_links_integration_id_remote_id')),
    sa.UniqueConstraint('order_id', name=op.f('uq_work_order_links_order_id')),
    )
    op.create_table('work_order_photos',
    sa.Column('work_order_id', sa.Uuid(), nullable=False),
    sa.Column('photo_path', sa.String(length=400), nullable=False),
    sa.Column('remote_id', sa.String(length=255), nullable=True),
    *_entity_columns('work_order_photos'),
    sa.ForeignKeyConstraint(['work_order_id'], ['work_order_links.id'],
                            name=op.f('fk_work_order_photos_work_order_id_work_order_links'),
                            ondelete='CASCADE'),
    sa.UniqueConstraint('work_order_id', 'photo_path',
                        name=op.f('uq_work_order_photos_work_order_id_photo_path')),
    )


def downgrade():
    op.drop_table('work_order_photos')
    op.drop_table('work_order_links')
