"""A channel made on first use is made once, though two workers need it at the same moment.

On a fresh deployment the first two WhatsApp messages of a customer reach two
workers together; each found no WhatsApp channel and made one, so the customer
had two conversations, one on each channel (found by
tests/integrations/test_integration_hub_outside.py). Here two transactions, as two workers'
jobs, ask for the channel while neither has committed.
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from app.conversations.core import channel_of_type
from app.platform.extensions import db
from app.platform.models import CommunicationChannel
from app.platform.models.enums import ChannelType
from tests.conftest import TEST_DATABASE_URL

needs_postgresql = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="concurrent writers need PostgreSQL (CI runs it)"
)


@needs_postgresql
def test_two_workers_asking_first_for_a_channel_share_one(app):
    first_made, first_may_commit = threading.Event(), threading.Event()
    found: dict[str, object] = {}

    def job(name: str, made: threading.Event | None, may_commit: threading.Event | None):
        with app.app_context():
            try:
                found[name] = channel_of_type(ChannelType.WHATSAPP_BUSINESS, cached=True).id
                if made is not None:
                    made.set()
                    assert may_commit.wait(timeout=30)
                db.session.commit()
            finally:
                db.session.remove()

    first = threading.Thread(target=job, args=("first", first_made, first_may_commit))
    first.start()
    assert first_made.wait(timeout=30)
    second = threading.Thread(target=job, args=("second", None, None))
    second.start()
    second.join(timeout=1.0)
    # It waits for the first job's transaction instead of making a channel of its own.
    waited = second.is_alive()
    first_may_commit.set()
    first.join(timeout=30)
    second.join(timeout=30)

    assert waited
    assert found["first"] == found["second"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(CommunicationChannel.id))) == 1
