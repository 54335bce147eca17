"""merges: conversation_merges and contact_merges

``conversation_merges`` points a merged (closed) conversation at the one its
messages went into; unique per merged conversation. ``contact_merges`` keeps
what a contact merge moved, so it can be undone for a day.

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-22 19:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def _entity_columns():
    return [
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade():
    op.create_table('conversation_merges',
    sa.Column('kept_thread_id', sa.Uuid(), nullable=False),
    sa.Column('merged_thread_id', sa.Uuid(), nullable=False),
    sa.Column('merged_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('merged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('moved', JSON, nullable=False),
    *_entity_columns(),
    sa.ForeignKeyConstraint(['kept_thread_id'], ['communication_thread.id'], name=op.f('fk_conversation_merges_kept_thread_id_communication_thread'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merged_thread_id'], ['communication_thread.id'], name=op.f('fk_conversation_merges_merged_thread_id_communication_thread'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merged_by_user_id'], ['users.id'], name=op.f('fk_conversation_merges_merged_by_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_merges')),
    sa.UniqueConstraint('merged_thread_id', name=op.f('uq_conversation_merges_merged_thread_id'))
    )
    with op.batch_alter_table('conversation_merges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_merges_kept_thread_id'), ['kept_thread_id'], unique=False)

    op.create_table('contact_merges',
    sa.Column('kept_contact_id', sa.Uuid(), nullable=False),
    sa.Column('merged_contact_id', sa.Uuid(), nullable=False),
    sa.Column('merged_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('merged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('undone_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('moved', JSON, nullable=False),
    *_entity_columns(),
    sa.ForeignKeyConstraint(['kept_contact_id'], ['contacts.id'], name=op.f('fk_contact_merges_kept_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merged_contact_id'], ['contacts.id'], name=op.f('fk_contact_merges_merged_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merged_by_user_id'], ['users.id'], name=op.f('fk_contact_merges_merged_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['undone_by_user_id'], ['users.id'], name=op.f('fk_contact_merges_undone_by_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_merges'))
    )
    with op.batch_alter_table('contact_merges', schema=None) as batch_op:
        batch_op.create_index('ix_contact_merges_kept_merged_at', ['kept_contact_id', 'merged_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_merges_merged_contact_id'), ['merged_contact_id'], unique=False)


def downgrade():
    with op.batch_alter_table('contact_merges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_merges_merged_contact_id'))
        batch_op.drop_index('ix_contact_merges_kept_merged_at')
    op.drop_table('contact_merges')
    with op.batch_alter_table('conversation_merges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_merges_kept_thread_id'))
    op.drop_table('conversation_merges')
