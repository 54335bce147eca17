"""A WhatsApp reply longer than WhatsApp takes is refused in the composer."""

from __future__ import annotations

import html as html_lib

import sqlalchemy as sa

from app.conversations.channels.whatsapp.limits import MAX_TEXT_LENGTH
from app.platform.extensions import db
from app.platform.models import CommunicationMessage
from app.platform.models.enums import ChannelType, MessageType
from tests.support import factories


def _whatsapp_thread():
    channel = factories.channel(ChannelType.WHATSAPP_BUSINESS, channel_name="WhatsApp")
    jan = factories.contact(display_name="Jan Jansen")
    thread = factories.thread(channel, jan)
    factories.message(thread, "Mijn laadpaal knippert", sender_contact_id=jan.id)
    thread.last_customer_message_at = thread.last_message_at
    db.session.commit()
    return thread


def _outgoing_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(CommunicationMessage)
        .where(CommunicationMessage.message_type == MessageType.OUTGOING)
    )


def test_a_whatsapp_reply_past_the_limit_is_refused_in_dutch_with_the_text_kept(
    client, auth, make_user
):
    agent = make_user("agent", language="nl")
    thread = _whatsapp_thread()
    auth.login(agent.email)
    token = auth.csrf_token(f"/threads/{thread.id}")
    too_long = "Beste Jan, " + "x" * 5000

    refused = client.post(
        f"/threads/{thread.id}/reply", data={"csrf_token": token, "content": too_long}
    )

    page = html_lib.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422
    assert (
        f"Een WhatsApp-bericht mag maximaal {MAX_TEXT_LENGTH} tekens lang zijn; "
        f"dit antwoord heeft er {len(too_long)}." in page
    )
    assert too_long in page  # the reply box still holds what was typed
    assert _outgoing_count() == 0

    # Exactly the limit goes through.
    fits = "y" * MAX_TEXT_LENGTH
    token = auth.csrf_token(f"/threads/{thread.id}")
    sent = client.post(f"/threads/{thread.id}/reply", data={"csrf_token": token, "content": fits})
    assert sent.status_code in (200, 302, 303)
    assert _outgoing_count() == 1
