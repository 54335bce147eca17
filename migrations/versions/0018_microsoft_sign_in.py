"""users: the Microsoft account each user signs in with (tenant id + object id)

"Sign in with Microsoft" matches a Microsoft account to a user by e-mail the
first time and from then on by these two ids, which Entra never changes or
reuses; one Microsoft account reaches at most one user.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.add_column(sa.Column('microsoft_tenant_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('microsoft_object_id', sa.String(length=36), nullable=True))
        batch_op.create_unique_constraint(
            'uq_users_microsoft_tenant_id_microsoft_object_id',
            ['microsoft_tenant_id', 'microsoft_object_id'],
        )


def downgrade():
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_constraint(
            'uq_users_microsoft_tenant_id_microsoft_object_id', type_='unique'
        )
        batch_op.drop_column('microsoft_object_id')
        batch_op.drop_column('microsoft_tenant_id')
