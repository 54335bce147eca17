"""Migration 0033: the Graph state kept on the Outlook channel moves to its default mailbox."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade

from app.platform.extensions import db
from app.platform.models import CommunicationChannel, OutlookMailbox

MAILBOX = "klantenservice@chargecars.nl"


def _before_0033() -> str:
    """The revision 0033 follows (the chain is re-ordered when branches are merged)."""
    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_revision("0033").down_revision


def test_0033_moves_the_channel_graph_state_to_the_default_mailbox(app):
    downgrade(revision=_before_0033())
    channel_id = uuid.uuid4()
    subscription = {
        "id": "sub-1",
        "resource": f"users/{MAILBOX}/mailFolders('Inbox')/messages",
        "notification_url": "https://switchboard.chargecars.nl/api/v1/webhooks/outlook",
        "expires_at": "2026-11-25T10:00:00.000000Z",
    }
    delta = {"mailbox": MAILBOX, "delta_link": "https://graph/delta?$deltatoken=x"}
    try:
        db.session.execute(
            sa.text(
                "INSERT INTO communication_channel (id, created_at, updated_at, channel_type, "
                "channel_name, is_active, configuration, auto_assignment_rules, "
                "escalation_rules) VALUES (:id, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                "'email_outlook', 'Outlook', true, "
                ":configuration, '{}', '{}')"
            ).bindparams(
                sa.bindparam("id", type_=sa.Uuid()),
                sa.bindparam("configuration", type_=sa.JSON()),
            ),
            {
                "id": channel_id,
                "configuration": {
                    "graph_subscription": subscription,
                    "graph_delta": delta,
                    "signature": "ChargeCars",
                },
            },
        )
        db.session.commit()
    finally:
        upgrade()
    db.session.expire_all()
    (mailbox,) = db.session.scalars(sa.select(OutlookMailbox)).all()
    assert (mailbox.address, mailbox.channel_id, mailbox.is_default) == (MAILBOX, channel_id, True)
    assert mailbox.subscriptions == {"inbox": subscription}
    assert mailbox.delta_state == {"inbox": delta}
    channel = db.session.get(CommunicationChannel, channel_id)
    assert channel.configuration == {"signature": "ChargeCars"}
