"""partners help themselves: test keys and orders, key scope, portal users, secret overlap, allow-list

``api_tokens.mode`` (live/test) and ``scope`` (read/write) with the address a
key was last used from; ``orders.is_test`` and ``outbound_deliveries.is_test``
keep the sandbox apart from the real work; ``users.partner_organization_id``
ties a partner portal user to its organisation; ``partner_integrations`` keeps
the replaced signing secret for the rotation overlap, and an IP allow-list.

Revision ID: 0052
Revises: 0051
Create Date: 2026-11-23 22:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0052'
down_revision = '0051'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    with op.batch_alter_table('api_tokens') as batch:
        batch.add_column(sa.Column('mode', sa.String(length=32), nullable=False,
                                   server_default='live'))
        batch.add_column(sa.Column('scope', sa.String(length=32), nullable=False,
                                   server_default='write'))
        batch.add_column(sa.Column('last_used_ip', sa.String(length=45), nullable=True))
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('is_test', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table('outbound_deliveries') as batch:
        batch.add_column(sa.Column('is_test', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('partner_organization_id', sa.Uuid(), nullable=True))
        batch.create_index(batch.f('ix_users_partner_organization_id'),
                           ['partner_organization_id'], unique=False)
        batch.create_foreign_key(batch.f('fk_users_partner_organization_id_organizations'),
                                 'organizations', ['partner_organization_id'], ['id'],
                                 ondelete='CASCADE')
    with op.batch_alter_table('partner_integrations') as batch:
        batch.add_column(sa.Column('previous_webhook_secret', sa.Text(), nullable=True))
        batch.add_column(sa.Column('previous_secret_expires_at', sa.DateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column('ip_allowlist', JSON, nullable=False,
                                   server_default=sa.text("'[]'")))


def downgrade():
    with op.batch_alter_table('partner_integrations') as batch:
        batch.drop_column('ip_allowlist')
        batch.drop_column('previous_secret_expires_at')
        batch.drop_column('previous_webhook_secret')
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint(batch.f('fk_users_partner_organization_id_organizations'),
                              type_='foreignkey')
        batch.drop_index(batch.f('ix_users_partner_organization_id'))
        batch.drop_column('partner_organization_id')
    with op.batch_alter_table('outbound_deliveries') as batch:
        batch.drop_column('is_test')
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('is_test')
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_column('last_used_ip')
        batch.drop_column('scope')
        batch.drop_column('mode')
