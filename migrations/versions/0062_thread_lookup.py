"""Conversations: a customer's open thread found by one index probe; two redundant indexes gone

Every inbound message looks up the sender's open conversation on its channel
(contact, channel, newest first). With an index on ``contact_id`` alone,
PostgreSQL's generic plan for that prepared statement ANDed it with a bitmap of
every thread of the channel (``channel_id`` leading the channel's urgency index),
a cost that grows with the table. ``(contact_id, channel_id, last_message_at)``
answers it in one probe and still serves every look-up by contact.

``ix_communication_thread_channel_id`` and ``ix_communication_thread_assigned_team_id``
repeat the first column of the channel's and the team's urgency indexes, which
serve the same look-ups; every index is written on each message's thread UPDATE.

Revision ID: 0062_thread_lookup
Revises: 0061_claimed_by
Create Date: 2026-11-27 18:40:00

"""

from alembic import op

revision = "0062_thread_lookup"
down_revision = "0061_claimed_by"
branch_labels = None
depends_on = None

TABLE = "communication_thread"


def upgrade():
    op.create_index(
        "ix_communication_thread_contact_channel",
        TABLE,
        ["contact_id", "channel_id", "last_message_at"],
    )
    op.drop_index("ix_communication_thread_contact_id", table_name=TABLE)
    op.drop_index("ix_communication_thread_channel_id", table_name=TABLE)
    op.drop_index("ix_communication_thread_assigned_team_id", table_name=TABLE)


def downgrade():
    op.create_index("ix_communication_thread_assigned_team_id", TABLE, ["assigned_team_id"])
    op.create_index("ix_communication_thread_channel_id", TABLE, ["channel_id"])
    op.create_index("ix_communication_thread_contact_id", TABLE, ["contact_id"])
    op.drop_index("ix_communication_thread_contact_channel", table_name=TABLE)
